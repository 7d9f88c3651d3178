"""The HTTP layer every connector uses.

A connector is handed an `Upstream`: the source's pooled `httpx.AsyncClient`, its base URL, the
caller's auth and the timeout, all decided outside the connector. `Upstream.request` is the one
place where httpx exceptions become `UpstreamError`s, and where requests are counted.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import re
import time
import typing
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from circuitbreaker import CircuitBreaker
from opentelemetry import propagate
from opentelemetry.trace import Span, SpanKind, StatusCode, Tracer
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from .breaker import Breaker
from .cache import CacheKey, ResponseCache
from .errors import ProtocolError, Unavailable, UpstreamTimeout
from .transport import TLS, PooledTransport, ProxyRefused, TLSFailure

NUMERIC = re.compile(r"/\d+(?=/|$)")
DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
CACHE_KEY = "legacygraph.cache_key"
DECODED = {"content-encoding", "content-length", "transfer-encoding"}
"""Headers that no longer describe the body once httpx has decoded it."""

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
    """Every call, including those the circuit breaker refused without a request."""
    requests: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    """Reads answered from the cache (or shared with an identical read in flight)."""
    misses: dict[str, int] = field(default_factory=dict)
    """Reads the cache could not answer, so they went to the source."""
    cached_calls: set[tuple[str, str]] = field(default_factory=set)
    """(source, call) of every read that went through a cache, hit or miss: how long the
    answer may be kept follows from them (`graph/caching.py`)."""

    def cache_read(self, source: str, *, hit: bool, call: str = "") -> None:
        counts = self.hits if hit else self.misses
        counts[source] = counts.get(source, 0) + 1
        self.cached_calls.add((source, call))

    def record(self, call: Call) -> None:
        self.calls.append(call)
        if call.status == "circuit_open":  # refused by the breaker: no request went out
            return
        self.requests[call.source] = self.requests.get(call.source, 0) + 1
        self.seconds[call.source] = self.seconds.get(call.source, 0.0) + call.seconds

    @property
    def total(self) -> int:
        return sum(self.requests.values())


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

    @property
    def cookies(self) -> httpx.Cookies:
        return NoCookies()

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        raise TypeError("a client shared by every caller keeps no cookies")


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


class _ServerFailure(Exception):
    """A 5xx answer, raised so that the breaker counts it and retries can see it."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


RETRY_STATUSES = {502, 503, 504}
"""Answers that say "try again": a proxy or an overloaded server, nothing done."""


def _worth_retrying(error: BaseException) -> bool:
    """Only where nothing reached the server, or it asked to try again; never after a read
    timeout, which would spend the caller's time budget twice."""
    if isinstance(error, _ServerFailure):
        return error.response.status_code in RETRY_STATUSES
    if isinstance(error, TLSFailure):  # a certificate refused now is refused again
        return False
    return isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)


async def _pause_before_the_first_retry(state: RetryCallState) -> None:
    """The pause tenacity makes between attempts, before the first retry too (the first
    attempt ran outside tenacity)."""
    if state.attempt_number == 1:
        await asyncio.sleep(random.uniform(0, 0.05))


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
        expected=(httpx.TransportError, _ServerFailure),
        name=source,
        clock=clock,
    )


@dataclass(frozen=True)
class Resilience:
    """How requests to one source cope with failure (decided outside the connector)."""

    breaker: CircuitBreaker | None = None
    read_retries: int = 0
    """Extra attempts for an idempotent request, when a retry is worth it."""


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

    async def keep(self, response: httpx.Response) -> None:
        """Cache `response` (a read its connector has accepted) for this caller."""
        kept = response.extensions.get(CACHE_KEY)
        if self.cache is not None and kept is not None and response.status_code < 400:
            key, generation = kept
            await self.cache.put(key, response, generation)

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
    ) -> httpx.Response:
        """Send one request and read its answer (capped). `call` names it in statistics (a
        function or method name; by default the method and path, numeric ids folded).
        `idempotent` (by default: a GET) allows retries; a read sent by POST says so."""
        name = call or f"{method} {NUMERIC.sub('/{id}', path)}"
        reads = method == "GET" if idempotent is None else idempotent
        cache = self.cache if self.caller_key else None
        key: CacheKey | None = None
        if cache is not None and reads:
            key = (self.caller_key, name, _digest(method, path, params, form, json_body))
            cached, generation = await cache.get(key)
            if cached is not None:
                self._cache_read(name, hit=True)
                return cached
            flight = cache.flights.get(key)
            if flight is not None:  # the same read by the same caller is on its way
                self._cache_read(name, hit=True)
                shared = await asyncio.shield(flight)
                return httpx.Response(
                    shared.status_code, headers=shared.headers, content=shared.content
                )
            self._cache_read(name, hit=False)
        elif cache is not None:
            await cache.clear()  # a write may change what any cached read would say
        breaker = self.resilience.breaker
        if breaker is not None and breaker.opened:
            self._record(name, "circuit_open", 0.0)
            raise Unavailable(
                self.source,
                f"{self.source} keeps failing; the gateway is not calling it for a moment",
                upstream_code="circuit_open",
            )
        retries = self.resilience.read_retries if reads else 0

        # Built once: a retry sends it again (the auth signs each sending afresh).
        outgoing = self.client.build_request(
            method,
            self.base_url.rstrip("/") + path,
            params=params,
            json=json_body,
            data=form,
            headers=headers,
        )

        async def exchange() -> httpx.Response:
            return await self._exchange(outgoing, name)

        async def retried() -> httpx.Response:
            try:  # the first attempt needs no retry machinery
                return await exchange()
            except Exception as error:
                if not retries or not _worth_retrying(error):
                    raise
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(retries),
                wait=wait_random_exponential(multiplier=0.05, max=0.5),
                retry=retry_if_exception(_worth_retrying),
                reraise=True,
                before=_pause_before_the_first_retry,
            ):
                with attempt:
                    return await exchange()
            raise AssertionError("unreachable: tenacity re-raises the last failure")

        async def guarded() -> httpx.Response:
            if breaker is None:
                return await retried()
            return typing.cast(httpx.Response, await breaker.call_async(retried))

        if key is None or cache is None:
            return await self._answer(guarded)
        flight = asyncio.ensure_future(self._answer(guarded))
        cache.flights[key] = flight
        try:
            response = await asyncio.shield(flight)
        finally:
            cache.flights.pop(key, None)
        response.extensions[CACHE_KEY] = (key, generation)
        return response

    async def _answer(self, guarded: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
        try:
            return await guarded()
        except _ServerFailure as failure:  # counted by the breaker; the connector maps it
            return failure.response
        except httpx.TimeoutException as exc:
            # The message names no URL: for some systems the URL carries the caller's token.
            raise UpstreamTimeout(self.source, f"{self.source} did not answer in time") from exc
        except (TLSFailure, ProxyRefused) as exc:
            raise Unavailable(
                self.source,
                f"{self.source} could not be reached: {exc.reason}",
                upstream_code="tls" if isinstance(exc, TLSFailure) else "proxy",
            ) from exc
        except httpx.TransportError as exc:
            raise Unavailable(
                self.source, f"{self.source} could not be reached ({type(exc).__name__})"
            ) from exc

    async def _exchange(self, outgoing: httpx.Request, name: str) -> httpx.Response:
        """One HTTP exchange, counted; a 5xx answer is raised as `_ServerFailure`."""
        started = time.perf_counter()
        status = "unavailable"
        with self._span(outgoing.method, name) as span:
            if span is not None:  # W3C trace context, for legacy servers behind a tracing proxy
                propagate.inject(outgoing.headers)
            try:
                response, body = await self._send(outgoing)
                status = str(response.status_code)
            except httpx.TimeoutException:
                status = "timeout"
                raise
            except ProtocolError:
                status = "too_large"
                raise
            finally:
                self._record(name, status, time.perf_counter() - started)
                if span is not None:
                    span.set_attribute("legacygraph.status", status)
                    if status.isdigit():
                        span.set_attribute("http.response.status_code", int(status))
                    if not status.isdigit() or int(status) >= 500:
                        span.set_status(StatusCode.ERROR, status)
        answer = httpx.Response(
            response.status_code,
            headers=[(k, v) for k, v in response.headers.multi_items() if k.lower() not in DECODED],
            content=body,
            request=response.request,
        )
        if answer.status_code >= 500:
            raise _ServerFailure(answer)
        return answer

    def _span(self, method: str, name: str) -> AbstractContextManager[Span | None]:
        """A client span for one exchange: the source, the call and the host, never the URL
        (some systems carry the caller's token in it) nor any header."""
        if self.tracer is None:
            return nullcontext()
        return self.tracer.start_as_current_span(
            f"{self.source} {name}",
            kind=SpanKind.CLIENT,
            attributes={
                "legacygraph.source": self.source,
                "legacygraph.call": name,
                "http.request.method": method,
                "server.address": httpx.URL(self.base_url).host,
            },
            record_exception=False,  # exception texts are not ours to vouch for
            set_status_on_exception=False,
        )

    async def _send(self, request: httpx.Request) -> tuple[httpx.Response, bytes]:
        """Send, and read the whole answer within the size cap and within one deadline.

        httpx's timeouts hold per read: an answer dripped a byte at a time never trips them. The
        client's timeout is therefore also the deadline of the whole exchange (connect, send,
        every byte of the answer); past it the connection is dropped and the exchange is a
        timeout like any other (counted by the breaker, `UPSTREAM_TIMEOUT` to the caller).
        """
        deadline = self.client.timeout.read
        try:
            async with asyncio.timeout(deadline):
                response = await self.client.send(request, auth=self.auth, stream=True)
                try:
                    return response, await self._read_capped(response)
                finally:
                    await response.aclose()
        except TimeoutError as exc:
            raise httpx.ReadTimeout(
                f"no whole answer within {deadline} s", request=request
            ) from exc

    def _cache_read(self, name: str, *, hit: bool) -> None:
        if self.stats is not None:
            self.stats.cache_read(self.source, hit=hit, call=name)

    def _record(self, name: str, status: str, seconds: float) -> None:
        if self.stats is not None:
            self.stats.record(Call(self.source, name, status, seconds))

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


def _digest(
    method: str,
    path: str,
    params: Mapping[str, str] | None,
    form: Mapping[str, str] | None,
    json_body: Any,
) -> str:
    described = json.dumps(
        [method, path, sorted((params or {}).items()), sorted((form or {}).items()), json_body],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(described.encode()).hexdigest()
