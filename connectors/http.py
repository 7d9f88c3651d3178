"""The HTTP layer every connector uses.

A connector is handed an `Upstream`: the source's pooled `httpx.AsyncClient`, its base URL, the
caller's auth and the timeout, all decided outside the connector. `Upstream.request` sends each
request through the layers of `connectors/pipeline.py` (cache, errors, circuit breaker, retries,
counting, tracing, the capped exchange), stacked in one place, `stack`: the one place where
httpx exceptions become `UpstreamError`s, and where requests are counted.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar, overload
from urllib.parse import urlencode

import httpx
from circuitbreaker import CircuitBreaker
from opentelemetry.trace import Tracer

from .breaker import Breaker
from .cache import ResponseCache
from .calls import Call, CallStats
from .errors import ProtocolError
from .pipeline import (
    KEEP,
    Caching,
    CircuitBreaking,
    ConnectorErrors,
    Counting,
    Keep,
    Layer,
    Outgoing,
    Retrying,
    Sending,
    ServerFailure,
    ServerFailures,
    Tracing,
)
from .transport import TLS, PooledTransport

NUMERIC = re.compile(r"/\d+(?=/|$)")
DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
URLS_KEPT = 2048
"""Parsed request URLs a `SharedClient` keeps (by URL and parameters): a few hundred KB at most."""
T = TypeVar("T")

__all__ = [
    "Call",
    "CallStats",
    "NoCookies",
    "Resilience",
    "SharedClient",
    "Upstream",
    "breaker_for",
    "decode_json",
    "new_client",
    "rebuilt",
    "stack",
    "with_form_fields",
]


class NoCookies(httpx.Cookies):
    """Cookies that are never kept nor sent."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None

    def set_cookie_header(self, request: httpx.Request) -> None:
        return None


class SharedClient(httpx.AsyncClient):
    """httpx's client, keeping no cookies: it is shared by every caller, and a session cookie a
    legacy system sets for one caller (CiviCRM's PHPSESSID at login, Flarum's session) must never
    ride along with another caller's request. (Not reading them at all also saves a tenth of
    the CPU of a small read.)"""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._urls: dict[tuple[str, tuple[tuple[str, str], ...] | None], httpx.URL] = {}
        routed = kwargs.get("mounts") or kwargs.get("proxy") or kwargs.get("trust_env", True)
        self.sole_transport: httpx.AsyncBaseTransport | None = (
            None if routed else kwargs.get("transport")
        )
        """The transport every request goes through, when it was given and nothing (mounts,
        a proxy, the environment's proxy variables) can route a URL elsewhere: what `Sending`'s
        direct path hands requests to."""

    def build_request(
        self,
        method: str,
        url: httpx.URL | str,
        *,
        content: Any = None,
        data: Any = None,
        files: Any = None,
        json: Any = None,
        params: Any = None,
        headers: Any = None,
        cookies: Any = None,
        timeout: Any = httpx.USE_CLIENT_DEFAULT,
        extensions: Any = None,
    ) -> httpx.Request:
        """httpx's request, with its URL parsed once per URL and parameters (parsing is most
        of the cost of building a small request) and kept, at most `URLS_KEPT` of them.
        (The arguments are httpx's own, whose types httpx keeps in a private module.)"""
        key: tuple[str, tuple[tuple[str, str], ...] | None] | None = None
        if (
            isinstance(url, str)
            and (params is None or isinstance(params, Mapping))
            and content is None
            and files is None
            and not cookies
            and timeout is httpx.USE_CLIENT_DEFAULT
            and extensions is None
        ):
            if params is None:  # the URL's own query, kept
                key = (url, None)
            elif (items := _plain(params)) is not None:
                key = (url, items)
        if key is None:
            return super().build_request(
                method,
                url,
                content=content,
                data=data,
                files=files,
                json=json,
                params=params,
                headers=headers,
                cookies=cookies,
                timeout=timeout,
                extensions=extensions,
            )
        target = self._urls.get(key)
        if target is None:
            if len(self._urls) >= URLS_KEPT:
                self._urls.clear()
            # httpx's own merging with the client's base URL and parameters, once per URL.
            target = super().build_request(method, url, params=params).url
            self._urls[key] = target
        merged = httpx.Headers(self.headers)  # as httpx merges the client's headers
        merged.update(headers)
        return httpx.Request(
            method,
            target,
            data=data,
            json=json,
            headers=merged,
            extensions={"timeout": self.timeout.as_dict()},
        )

    @property
    def cookies(self) -> httpx.Cookies:
        return NoCookies()

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        raise TypeError("a client shared by every caller keeps no cookies")


def _plain(params: Mapping[Any, Any]) -> tuple[tuple[str, str], ...] | None:
    """`params` as part of the key of a URL a `SharedClient` keeps, if every name and value is
    a `str`; else None (not kept), since values that compare equal may be written apart:
    `True == 1 == 1.0`, which httpx writes `true`, `1` and `1.0`, and a list is no key."""
    items = tuple(params.items())
    for name, value in items:
        if type(name) is not str or type(value) is not str:
            return None
    return items


def new_client(
    *,
    timeout_s: float,
    max_connections: int,
    transport: httpx.AsyncBaseTransport | None = None,
    tls: TLS | None = None,
    proxy: str = "",
) -> httpx.AsyncClient:
    """The pooled client for one source, opened once at start-up: at most `max_connections`
    open at once, the source's `tls` trust and client certificate, through its `proxy` (an
    http:// or https:// URL) if any. `transport` stands in for the network (replay tests)."""
    return SharedClient(
        timeout=httpx.Timeout(timeout_s),
        headers={"User-Agent": "legacygraph"},
        follow_redirects=False,
        trust_env=False,
        # The pool (and its limit) is the transport's: httpx's own `limits` never apply to it.
        transport=transport
        or PooledTransport(max_connections=max_connections, tls=tls, proxy=proxy or None),
    )


def breaker_for(
    source: str,
    *,
    failures: int,
    reset_s: float,
    clock: Callable[[], float] = time.monotonic,
) -> CircuitBreaker:
    """A circuit breaker for one source, shared by every request to it: it opens after
    `failures` transport failures or 5xx answers in a row, and lets a call through again after
    `reset_s` seconds of `clock`."""
    return Breaker(
        failures=failures,
        reset_s=reset_s,
        expected=(httpx.TransportError, ServerFailure),
        name=source,
        clock=clock,
    )


@dataclass(frozen=True)
class Resilience:
    """How requests to one source cope with failure (decided outside the connector)."""

    breaker: CircuitBreaker | None = None
    read_retries: int = 0
    """Extra attempts for an idempotent request, when a retry is worth it."""


@lru_cache(maxsize=256)
def stack(
    source: str,
    client: httpx.AsyncClient,
    base_url: str,
    max_response_bytes: int,
    breaker: CircuitBreaker | None,
    read_retries: int,
    cache: ResponseCache | None,
    tracer: Tracer | None,
) -> Layer:
    """The layers of `connectors/pipeline.py` for one source, stacked from the network up: each
    wraps the one before it, and those the source does not use (no tracer, no retries, no
    breaker, no cache) are left out. Nothing in them is a caller's (the auth, the cache key and
    the `CallStats` travel with each request), so the stack is made once per source and shared
    by every `Upstream` that reaches it the same way."""
    hooks = client.event_hooks
    direct = (
        client.sole_transport
        if isinstance(client, SharedClient) and not (hooks["request"] or hooks["response"])
        else None
    )
    layer: Layer = Sending(client, source=source, max_bytes=max_response_bytes, direct=direct)
    if tracer is not None:
        layer = Tracing(layer, tracer, source=source, host=httpx.URL(base_url).host)
    layer = Counting(layer, source=source)
    layer = ServerFailures(layer)
    if read_retries:
        layer = Retrying(layer, read_retries)
    if breaker is not None:
        layer = CircuitBreaking(layer, breaker, source=source)
    layer = ConnectorErrors(layer, source=source)
    if cache is not None:
        layer = Caching(layer, cache, source=source)
    return layer


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
    resilience: Resilience = field(default_factory=lambda: Resilience())
    cache: ResponseCache | None = None
    caller_key: str = ""
    """A keyed hash of the credential this Upstream acts with: what keeps cached answers apart."""
    tracer: Tracer | None = None
    """Where each HTTP exchange becomes a span, when the deployment traces."""

    @property
    def pipeline(self) -> Layer:
        """The layers this Upstream's requests go through: its source's, shared by every
        caller (`stack`)."""
        resilience = self.resilience
        return stack(
            self.source,
            self.client,
            self.base_url,
            self.max_response_bytes,
            resilience.breaker,
            resilience.read_retries,
            self.cache,
            self.tracer,
        )

    @overload
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
        idempotent: bool | None = None,
        decode: None = None,
    ) -> httpx.Response: ...

    @overload
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
        idempotent: bool | None = None,
        decode: Callable[[httpx.Response], T],
    ) -> T: ...

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
        idempotent: bool | None = None,
        decode: Callable[[httpx.Response], Any] | None = None,
    ) -> Any:
        """Send one request and read its answer (capped). `call` names it in statistics (a
        function or method name; by default the method and path, numeric ids folded).
        `idempotent` (by default: a GET) allows retries and the cache; a read sent by POST says
        so. `decode` is how the connector reads the answer: given, the request returns what it
        returns, and a read decoded without error may be kept for this caller (an answer read
        without `decode` is never kept)."""
        outgoing = Outgoing(
            self,
            method,
            path,
            call or f"{method} {NUMERIC.sub('/{id}', path)}",
            method == "GET" if idempotent is None else idempotent,
            params,
            json_body,
            form,
            headers,
        )
        response = await self.pipeline.handle(outgoing)
        if decode is None:
            return response
        decoded = decode(response)
        kept: Keep | None = response.extensions.get(KEEP)
        if kept is not None:  # a read its connector decoded without error: the cache keeps it
            await kept.put(response)
        return decoded


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
