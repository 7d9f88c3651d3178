"""The layers every upstream request goes through, each wrapping the next, as httpx's transports
wrap one another.

A layer is an object with one method, `async def handle(outgoing) -> httpx.Response`, given
the next layer in its constructor; `stack` (`connectors/http.py`) stacks them for a source,
outermost first, leaving out those the source does not use:

    Caching          answers to reads kept per caller; one exchange for identical reads in
                     flight; a write forgets every answer the source gave before it
    ConnectorErrors  httpx's failures become the errors of `connectors/errors.py`; a 5xx
                     answer is handed back to the connector, which says what it means
    CircuitBreaking  a source that keeps failing is not called for a moment
    Retrying         reads, when nothing reached the server or it asked to try again
    ServerFailures   a 5xx answer raised, so that the breaker counts it and retries see it
    Counting         every exchange in the caller's `CallStats` (cost report, metrics)
    Tracing          every exchange a client span, its trace context sent along
    Sending          the pooled client: the auth, the deadline, the cap on the answer's size

What travels down is an `Outgoing`: the request as the connector asked for it, and the
`Upstream` it was asked through, which holds what is the caller's (the auth, the key their
cached answers are kept under, their `CallStats`). The layers hold nothing of a caller's, so
one stack serves every request to a source, as one httpx transport serves every request of a
client. The `httpx.Request` itself is built on first need, once: an answer from the cache never
builds it, and a retry sends the same one again (the auth signs each sending afresh).

An answer is kept only once its connector has read it without error (a Moodle exception or a
Flarum error document arrives as HTTP 200). The connector says how it reads an answer by
passing `decode` to `Upstream.request`; `Caching` marks the answer to a read it let through
(`Keep`, in the answer's extensions) and `Upstream.request` keeps it once `decode` has returned.
A read sent without `decode` is answered from the cache but never kept. Nothing is kept from a
read that began before a write: the write moved the source's generation on, and an answer is
kept only under the generation its read looked up.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import time
import typing
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from circuitbreaker import CircuitBreaker
from opentelemetry import propagate
from opentelemetry.trace import SpanKind, StatusCode, Tracer

from .cache import CacheKey, ResponseCache
from .calls import Call, CallStats
from .errors import ProtocolError, Unavailable, UpstreamTimeout
from .internals import leave_read
from .transport import AnswerTooLarge, PooledTransport, ProxyRefused, TLSFailure
from .unpacking import TooLarge, encodings, unpack

__all__ = [
    "KEEP",
    "RETRY_STATUSES",
    "Caching",
    "Caller",
    "CircuitBreaking",
    "ConnectorErrors",
    "Counting",
    "Keep",
    "Layer",
    "Outgoing",
    "Retrying",
    "Sending",
    "ServerFailure",
    "ServerFailures",
    "Tracing",
    "pause_limit",
    "read_response",
    "worth_retrying",
]

KEEP = "legacygraph.keep"
"""The answer's extension holding its `Keep`, for an answer the cache may keep."""
DECODED = {"content-encoding", "content-length", "transfer-encoding"}
"""Headers that no longer describe the body once httpx has decoded it."""
DECODED_RAW = {name.encode() for name in DECODED}
RETRY_STATUSES = {502, 503, 504}
"""Answers that say "try again": a proxy or an overloaded server, nothing done."""


class Caller(Protocol):
    """Whom a request is made for, and through what: an `Upstream` (`connectors/http.py`)."""

    @property
    def client(self) -> httpx.AsyncClient: ...
    @property
    def base_url(self) -> str: ...
    @property
    def auth(self) -> httpx.Auth:
        """Who the request acts as: it signs every sending."""

    @property
    def caller_key(self) -> str:
        """A keyed hash of the auth's credential: what keeps cached answers apart (none: the
        cache is not used)."""

    @property
    def stats(self) -> CallStats | None:
        """Where the caller's gateway request counts its upstream calls."""


class Outgoing:
    """One request to a source, as its connector asked for it through `caller`."""

    __slots__ = (
        "_request",
        "caller",
        "form",
        "headers",
        "json_body",
        "method",
        "name",
        "params",
        "path",
        "reads",
    )

    def __init__(
        self,
        caller: Caller,
        method: str,
        path: str,
        name: str,
        reads: bool,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.caller = caller
        self.method = method
        self.path = path
        self.name = name
        """What statistics, spans and cache keys call it."""
        self.reads = reads
        """Whether it changes nothing: may be answered from the cache, and retried."""
        self.params = params
        self.json_body = json_body
        self.form = form
        self.headers = headers
        self._request: httpx.Request | None = None

    @property
    def request(self) -> httpx.Request:
        """The `httpx.Request`, built once, on first need."""
        if self._request is None:
            caller = self.caller
            self._request = caller.client.build_request(
                self.method,
                caller.base_url.rstrip("/") + self.path,
                params=self.params,
                json=self.json_body,
                data=self.form,
                headers=self.headers,
            )
        return self._request

    def digest(self) -> str:
        """What the request says, hashed: its part of a cache key (the auth is not in it)."""
        described = json.dumps(
            [
                self.method,
                self.path,
                sorted((self.params or {}).items()),
                sorted((self.form or {}).items()),
                self.json_body,
            ],
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(described.encode()).hexdigest()


class Layer(Protocol):
    """One layer: hands `outgoing` on to the next layer, or answers it itself."""

    async def handle(self, outgoing: Outgoing) -> httpx.Response: ...


@dataclass(slots=True)
class Keep:
    """Where the answer to a read is kept, once its connector has read it without error."""

    cache: ResponseCache
    key: CacheKey
    generation: int
    """The source's generation when the read looked it up: a write since then moved it on, and
    the answer is not kept."""

    async def put(self, response: httpx.Response) -> None:
        await self.cache.put(self.key, response, self.generation)


class Caching:
    """Reads answered from the source's cache under the caller's key; identical reads of one
    caller in flight share one exchange; a write forgets every answer kept before it. A request
    without a caller key passes by the cache."""

    def __init__(self, next_layer: Layer, cache: ResponseCache, *, source: str) -> None:
        self.next_layer = next_layer
        self.cache = cache
        self.source = source

    async def handle(self, outgoing: Outgoing) -> httpx.Response:
        caller_key = outgoing.caller.caller_key
        if not caller_key:
            return await self.next_layer.handle(outgoing)
        if not outgoing.reads:
            await self.cache.clear()  # a write may change what any cached read would say
            return await self.next_layer.handle(outgoing)
        key = (caller_key, outgoing.name, outgoing.digest())
        cached, generation = await self.cache.get(key)
        if cached is not None:
            self._count(outgoing, hit=True)
            return cached
        flight = self.cache.flights.get(key)
        if flight is not None:  # the same read by the same caller is on its way
            self._count(outgoing, hit=True)
            shared = await asyncio.shield(flight)
            return httpx.Response(
                shared.status_code, headers=shared.headers, content=shared.content
            )
        self._count(outgoing, hit=False)
        flight = asyncio.ensure_future(self.next_layer.handle(outgoing))
        self.cache.flights[key] = flight
        try:
            response = await asyncio.shield(flight)
        finally:
            self.cache.flights.pop(key, None)
        if response.status_code < 400:
            response.extensions[KEEP] = Keep(self.cache, key, generation)
        return response

    def _count(self, outgoing: Outgoing, *, hit: bool) -> None:
        stats = outgoing.caller.stats
        if stats is not None:
            stats.cache_read(self.source, hit=hit, call=outgoing.name)


class ServerFailure(Exception):
    """A 5xx answer, raised so that the breaker counts it and retries can see it."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class ConnectorErrors:
    """httpx's failures as the errors of `connectors/errors.py`; a 5xx answer (raised below as
    `ServerFailure`) handed back as an answer, for its connector to read."""

    def __init__(self, next_layer: Layer, *, source: str) -> None:
        self.next_layer = next_layer
        self.source = source

    async def handle(self, outgoing: Outgoing) -> httpx.Response:
        source = self.source
        try:
            return await self.next_layer.handle(outgoing)
        except ServerFailure as failure:  # counted by the breaker; the connector maps it
            return failure.response
        except httpx.TimeoutException as exc:
            # The message names no URL: for some systems the URL carries the caller's token.
            raise UpstreamTimeout(source, f"{source} did not answer in time") from exc
        except (TLSFailure, ProxyRefused) as exc:
            raise Unavailable(
                source,
                f"{source} could not be reached: {exc.reason}",
                upstream_code="tls" if isinstance(exc, TLSFailure) else "proxy",
            ) from exc
        except httpx.TransportError as exc:
            raise Unavailable(
                source, f"{source} could not be reached ({type(exc).__name__})"
            ) from exc
        except httpx.DecodingError as exc:
            raise ProtocolError(
                source, f"{source} sent a body its Content-Encoding does not describe ({exc})"
            ) from exc


class CircuitBreaking:
    """Requests to a source whose breaker is open are refused at once, with no request (and
    counted as `circuit_open`); the others go through the breaker, which counts their
    transport failures and `ServerFailure`s (`breaker_for` in `connectors/http.py`)."""

    def __init__(self, next_layer: Layer, breaker: CircuitBreaker, *, source: str) -> None:
        self.next_layer = next_layer
        self.breaker = breaker
        self.source = source

    async def handle(self, outgoing: Outgoing) -> httpx.Response:
        if self.breaker.opened:
            stats = outgoing.caller.stats
            if stats is not None:
                stats.record(Call(self.source, outgoing.name, "circuit_open", 0.0))
            raise Unavailable(
                self.source,
                f"{self.source} keeps failing; the gateway is not calling it for a moment",
                upstream_code="circuit_open",
            )
        answer = await self.breaker.call_async(self.next_layer.handle, outgoing)
        return typing.cast(httpx.Response, answer)


def worth_retrying(error: BaseException) -> bool:
    """Only where nothing reached the server, or it asked to try again; never after a read
    timeout, which would spend the caller's time budget twice."""
    if isinstance(error, ServerFailure):
        return error.response.status_code in RETRY_STATUSES
    if isinstance(error, TLSFailure):  # a certificate refused now is refused again
        return False
    return isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)


def pause_limit(retry: int) -> float:
    """The longest pause before retry number `retry` (1, 2, ...): 50 ms before the first two,
    then doubling, at most half a second (the pause itself is drawn between 0 and this)."""
    return min(0.5, 0.05 * 2 ** max(0, retry - 2))


class Retrying:
    """Reads sent again, up to `retries` more times, when `worth_retrying` says so, after a
    random pause (`pause_limit`); writes are sent once."""

    def __init__(
        self,
        next_layer: Layer,
        retries: int,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.next_layer = next_layer
        self.retries = retries
        self.sleep = sleep
        self.jitter = jitter

    async def handle(self, outgoing: Outgoing) -> httpx.Response:
        if not outgoing.reads:
            return await self.next_layer.handle(outgoing)
        retried = 0
        while True:
            try:
                return await self.next_layer.handle(outgoing)
            except Exception as error:
                if retried == self.retries or not worth_retrying(error):
                    raise
            retried += 1
            await self.sleep(self.jitter(0, pause_limit(retried)))


class ServerFailures:
    """A 5xx answer raised as `ServerFailure`, for the breaker and retries above."""

    def __init__(self, next_layer: Layer) -> None:
        self.next_layer = next_layer

    async def handle(self, outgoing: Outgoing) -> httpx.Response:
        response = await self.next_layer.handle(outgoing)
        if response.status_code >= 500:
            raise ServerFailure(response)
        return response


def _status(error: BaseException) -> str:
    """How an exchange ended that brought no answer."""
    if isinstance(error, httpx.TimeoutException):
        return "timeout"
    if isinstance(error, ProtocolError):
        return "too_large"
    return "unavailable"


class Counting:
    """Every exchange recorded as a `Call` (its status, or how it failed, and its time) in the
    caller's `CallStats`, if any."""

    def __init__(
        self,
        next_layer: Layer,
        *,
        source: str,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.next_layer = next_layer
        self.source = source
        self.clock = clock

    async def handle(self, outgoing: Outgoing) -> httpx.Response:
        stats = outgoing.caller.stats
        if stats is None:
            return await self.next_layer.handle(outgoing)
        started = self.clock()
        status = "unavailable"
        try:
            response = await self.next_layer.handle(outgoing)
            status = str(response.status_code)
            return response
        except BaseException as error:
            status = _status(error)
            raise
        finally:
            stats.record(Call(self.source, outgoing.name, status, self.clock() - started))


class Tracing:
    """A client span for every exchange, whose trace context goes along (W3C headers, for
    legacy servers behind a tracing proxy). It names the source, the call and the host, never
    the URL (some systems carry the caller's token in it) nor any header."""

    def __init__(self, next_layer: Layer, tracer: Tracer, *, source: str, host: str) -> None:
        self.next_layer = next_layer
        self.tracer = tracer
        self.source = source
        self.host = host

    async def handle(self, outgoing: Outgoing) -> httpx.Response:
        with self.tracer.start_as_current_span(
            f"{self.source} {outgoing.name}",
            kind=SpanKind.CLIENT,
            attributes={
                "legacygraph.source": self.source,
                "legacygraph.call": outgoing.name,
                "http.request.method": outgoing.method,
                "server.address": self.host,
            },
            record_exception=False,  # exception texts are not ours to vouch for
            set_status_on_exception=False,
        ) as span:
            propagate.inject(outgoing.request.headers)
            status = "unavailable"
            try:
                response = await self.next_layer.handle(outgoing)
                status = str(response.status_code)
                return response
            except BaseException as error:
                status = _status(error)
                raise
            finally:
                span.set_attribute("legacygraph.status", status)
                if status.isdigit():
                    span.set_attribute("http.response.status_code", int(status))
                if not status.isdigit() or int(status) >= 500:
                    span.set_status(StatusCode.ERROR, status)


def read_response(
    status: int, headers: list[tuple[bytes, bytes]], body: bytes, request: httpx.Request
) -> httpx.Response:
    """What `httpx.Response(status, headers=headers, content=body, request=request)` makes,
    without running `body` through httpx's decoders and chunkers to read it back (a tenth of a
    small exchange): the response as httpx leaves it once read, with its Content-Length set as
    httpx sets it. `headers` must not describe an encoding (`DECODED`)."""
    if body:
        headers.append((b"Content-Length", str(len(body)).encode()))
    response = httpx.Response(
        status, headers=headers, stream=httpx.ByteStream(body), request=request
    )
    return leave_read(response, body)


class Sending:
    """The exchange itself, through the source's pooled client: the auth signs the request,
    and the whole answer is read within the size cap and within one deadline.

    httpx's timeouts hold per read: an answer dripped a byte at a time never trips them. The
    client's timeout is therefore also the deadline of the whole exchange (connect, send,
    every byte of the answer); past it the connection is dropped and the exchange is a
    timeout like any other (counted by the breaker, `UPSTREAM_TIMEOUT` to the caller). An
    answer larger than `max_bytes` is refused as it streams in, not read whole into memory.

    `direct` (the transport of a client that keeps no cookies, has no event hooks and routes
    every URL to that one transport: `SharedClient.sole_transport`) runs the auth flow here and
    hands the request to that transport itself, instead of `client.send`; over the gateway's
    own pool (`PooledTransport.exchange`) the answer is read with no `httpx.Response` but the
    one handed up. Same request, same answer, about a third of the CPU of the exchange
    (`tests/connectors/test_direct.py` compares the two paths)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        source: str,
        max_bytes: int,
        direct: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.client = client
        self.source = source
        self.max_bytes = max_bytes
        self.transport = direct
        self.direct = direct is not None

    async def handle(self, outgoing: Outgoing) -> httpx.Response:
        request = outgoing.request
        auth = outgoing.caller.auth
        deadline = self.client.timeout.read
        if self.client.is_closed:  # the gateway is shutting down: httpx would raise RuntimeError
            raise Unavailable(
                self.source, f"{self.source} is not reachable: the gateway is closing"
            )
        try:
            async with asyncio.timeout(deadline):
                if self.direct and type(auth).async_auth_flow is httpx.Auth.async_auth_flow:
                    return await self._send_directly(request, auth)
                response = await self.client.send(request, auth=auth, stream=True)
                try:
                    body = await self._read_capped(response)
                finally:
                    await response.aclose()
        except TimeoutError as exc:
            raise httpx.ReadTimeout(
                f"no whole answer within {deadline} s", request=request
            ) from exc
        return httpx.Response(
            response.status_code,
            headers=[(k, v) for k, v in response.headers.multi_items() if k.lower() not in DECODED],
            content=body,
            request=response.request,
        )

    async def _send_directly(self, request: httpx.Request, auth: httpx.Auth) -> httpx.Response:
        """The auth flow as `client.send` runs it (each answer handed back to it, until it has
        no more requests to make), each request through the transport itself."""
        flow = auth.auth_flow(request)  # its body is read already: built with its content
        try:
            request = next(flow)
            while True:
                response = await self._exchange(request)
                try:
                    request = flow.send(response)
                except StopIteration:
                    return response
        finally:
            flow.close()

    async def _exchange(self, request: httpx.Request) -> httpx.Response:
        transport = self.transport
        assert transport is not None  # the direct path is taken only with one
        if isinstance(transport, PooledTransport):
            try:
                answer = await transport.exchange(request, max_bytes=self.max_bytes)
            except AnswerTooLarge:
                raise self._too_large() from None
            status, body = answer.status, answer.body
            raw_headers: Sequence[tuple[bytes, bytes]] = answer.raw_headers
            for name, _ in raw_headers:
                if name.lower() == b"content-encoding":  # decoded as httpx decodes it
                    try:  # a piece at a time: never more than the cap in memory
                        body = unpack(body, encodings(raw_headers), self.max_bytes)
                    except TooLarge:
                        raise self._too_large() from None
                    break
        else:
            response = await transport.handle_async_request(request)
            try:
                body = await self._read_capped(response)
            finally:
                await response.aclose()
            status, raw_headers = response.status_code, response.headers.raw
        headers = [(k, v) for k, v in raw_headers if k.lower() not in DECODED_RAW]
        return read_response(status, headers, body, request)

    async def _read_capped(self, response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise self._too_large()
        chunks, size = [], 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise self._too_large()
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self) -> ProtocolError:
        return ProtocolError(
            self.source, f"{self.source} answered more than {self.max_bytes} bytes; refused"
        )
