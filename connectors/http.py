"""The HTTP layer every connector uses.

A connector is handed an `Upstream`: the source's pooled `httpx.AsyncClient`, its base URL, the
caller's auth and the timeout, all decided outside the connector. `Upstream.request` is the one
place where httpx exceptions become `UpstreamError`s, and where requests are counted.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any
from urllib.parse import urlencode

import httpx

from .errors import ProtocolError, Unavailable, UpstreamTimeout

NUMERIC = re.compile(r"/\d+(?=/|$)")
DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
DECODED = {"content-encoding", "content-length", "transfer-encoding"}
"""Headers that no longer describe the body once httpx has decoded it."""

__all__ = [
    "Call",
    "CallStats",
    "Upstream",
    "decode_json",
    "new_client",
    "rebuilt",
    "with_form_fields",
]


@dataclass(frozen=True)
class Call:
    """One upstream request: which source, which call, how it ended, how long it took."""

    source: str
    name: str
    status: str
    """The HTTP status, or how it failed before one: `timeout`, `unavailable`, `too_large`."""
    seconds: float


@dataclass
class CallStats:
    """Upstream requests made on behalf of one gateway request."""

    calls: list[Call] = field(default_factory=list)
    requests: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def record(self, call: Call) -> None:
        self.calls.append(call)
        self.requests[call.source] = self.requests.get(call.source, 0) + 1
        self.seconds[call.source] = self.seconds.get(call.source, 0.0) + call.seconds

    @property
    def total(self) -> int:
        return sum(self.requests.values())


def new_client(*, timeout_s: float, max_connections: int) -> httpx.AsyncClient:
    """The pooled client for one source, opened once at start-up.

    It keeps no cookies: the client is shared by every caller, and a session cookie a legacy
    system sets for one caller (CiviCRM's PHPSESSID at login, Flarum's session) must never ride
    along with another caller's request.
    """
    return httpx.AsyncClient(
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
        timeout=httpx.Timeout(timeout_s),
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        ),
        headers={"User-Agent": "legacygraph"},
        follow_redirects=False,
        trust_env=False,
    )


@dataclass(frozen=True)
class Upstream:
    """Everything a connector needs to reach one source as one caller."""

    source: str
    client: httpx.AsyncClient
    base_url: str
    auth: httpx.Auth
    stats: CallStats | None = None
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    """Answers larger than this are refused as they stream in, not read whole into memory."""

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        call: str | None = None,
    ) -> httpx.Response:
        """`call` names the request in statistics (a function or method name); by default the
        HTTP method and path, with numeric ids folded."""
        url = self.base_url.rstrip("/") + path
        started = time.perf_counter()
        status = "unavailable"
        try:
            request = self.client.build_request(
                method, url, params=params, json=json_body, data=form, headers=headers
            )
            response = await self.client.send(request, auth=self.auth, stream=True)
            status = "too_large"
            try:
                body = await self._read_capped(response)
            finally:
                await response.aclose()
            status = str(response.status_code)
            return httpx.Response(
                response.status_code,
                headers=[
                    (k, v) for k, v in response.headers.multi_items() if k.lower() not in DECODED
                ],
                content=body,
                request=response.request,
            )
        except httpx.TimeoutException as exc:
            status = "timeout"
            # The message names no URL: for some systems the URL carries the caller's token.
            raise UpstreamTimeout(self.source, f"{self.source} did not answer in time") from exc
        except httpx.TransportError as exc:
            raise Unavailable(
                self.source, f"{self.source} could not be reached ({type(exc).__name__})"
            ) from exc
        finally:
            if self.stats is not None:
                name = call or f"{method} {NUMERIC.sub('/{id}', path)}"
                self.stats.record(Call(self.source, name, status, time.perf_counter() - started))

    async def _read_capped(self, response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_response_bytes:
            raise self._too_large()
        chunks, size = [], 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.max_response_bytes:
                raise self._too_large()
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self) -> ProtocolError:
        return ProtocolError(
            self.source,
            f"{self.source} answered more than {self.max_response_bytes} bytes; refused",
        )


def decode_json(response: httpx.Response, source: str) -> Any:
    """The JSON body of `response`, or a `ProtocolError` saying what came instead."""
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if "html" in content_type or "xml" in content_type:
        raise ProtocolError(
            source,
            f"{source} answered {content_type} (HTTP {response.status_code}), not JSON",
            status=response.status_code,
        )
    try:
        return json.loads(response.content)
    except ValueError as exc:
        raise ProtocolError(
            source,
            f"{source} answered invalid JSON (HTTP {response.status_code})",
            status=response.status_code,
        ) from exc


def rebuilt(
    request: httpx.Request,
    *,
    url: httpx.URL | None = None,
    content: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.Request:
    """`request` with another URL or body and more headers, for auth flows that extend or sign
    exactly what is sent. Headers are replaced case-insensitively and Content-Length recomputed."""
    merged = httpx.Headers(request.headers)
    if "content-length" in merged:
        del merged["content-length"]
    merged.update(headers or {})
    return httpx.Request(
        request.method,
        url or request.url,
        headers=merged,
        content=request.content if content is None else content,
        extensions=request.extensions,
    )


def with_form_fields(request: httpx.Request, fields: Mapping[str, str]) -> httpx.Request:
    """`request` with `fields` added to its url-encoded form body (where secrets belong: a URL
    ends up in access logs)."""
    extra = urlencode(fields).encode()
    body = request.content + b"&" + extra if request.content else extra
    return rebuilt(
        request, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
