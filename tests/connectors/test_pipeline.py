"""Each layer of the upstream pipeline (`connectors/pipeline.py`) alone, over a fake next layer
or httpx's MockTransport, and how `Upstream` stacks them."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
from collections.abc import AsyncIterator

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from connectors.cache import LocalStore, ResponseCache
from connectors.calls import Call, CallStats
from connectors.errors import ProtocolError, Unavailable, UpstreamTimeout
from connectors.http import Resilience, Upstream, breaker_for
from connectors.pipeline import (
    KEEP,
    Caching,
    CircuitBreaking,
    ConnectorErrors,
    Counting,
    Keep,
    Outgoing,
    Retrying,
    Sending,
    ServerFailure,
    ServerFailures,
    Tracing,
    pause_limit,
)
from connectors.transport import TLSFailure

CLIENT = httpx.AsyncClient(base_url="http://unused.test")


def outgoing(
    method: str = "GET",
    path: str = "/courses",
    *,
    name: str = "",
    params: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    client: httpx.AsyncClient = CLIENT,
    auth: httpx.Auth | None = None,
    caller_key: str = "",
    stats: CallStats | None = None,
) -> Outgoing:
    """A request as a connector asks for it, through an `Upstream` of the caller's."""
    caller = Upstream(
        "lms", client, "http://lms.test", auth or httpx.Auth(), stats, caller_key=caller_key
    )
    name = name or f"{method} {path}"
    return Outgoing(caller, method, path, name, method == "GET", params, None, form, headers)


class Next:
    """A next layer: answers with each of `steps` in turn (an HTTP status, or an exception to
    raise), the last one again and again, and keeps what it was handed."""

    def __init__(self, *steps: int | BaseException) -> None:
        self.steps = list(steps)
        self.handed: list[Outgoing] = []

    async def handle(self, outgoing: Outgoing) -> httpx.Response:
        self.handed.append(outgoing)
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, BaseException):
            raise step
        return httpx.Response(step, json={"answer": len(self.handed)})


async def kept(response: httpx.Response) -> None:
    """Keep `response`, as `Upstream.request` does once its connector has decoded it."""
    await response.extensions[KEEP].put(response)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def a_request() -> httpx.Request:
    return httpx.Request("GET", "http://lms.test/courses")


# Outgoing --------------------------------------------------------------------------------------


def test_the_request_is_built_once_and_the_digest_leaves_out_the_headers() -> None:
    one = outgoing(params={"id": "3"}, headers={"Authorization": "Token secret"})
    assert one.request is one.request
    assert str(one.request.url) == "http://lms.test/courses?id=3"
    assert one.digest() == outgoing(params={"id": "3"}).digest()
    assert one.digest() != outgoing(params={"id": "4"}).digest()
    assert "secret" not in one.digest()


# Sending ---------------------------------------------------------------------------------------


class Signed(httpx.Auth):
    def auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]
        request.headers["Authorization"] = "Token t0ken"
        yield request


async def test_sending_signs_reads_the_whole_answer_and_drops_headers_httpx_decoded() -> None:
    seen: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = gzip.compress(b'{"ok": true}')
        return httpx.Response(200, content=body, headers={"Content-Encoding": "gzip"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(respond)) as client:
        sending = Sending(client, source="lms", max_bytes=1_000)
        one = outgoing(client=client, auth=Signed())
        response = await sending.handle(one)
    assert seen[0].headers["Authorization"] == "Token t0ken"
    assert response.json() == {"ok": True}
    assert "content-encoding" not in response.headers
    assert response.headers["content-length"] == "12"  # the decoded body's, not gzip's


async def test_sending_refuses_an_answer_over_the_cap_declared_or_streamed() -> None:
    async def streamed() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b"x" * 400

    answers = [
        httpx.Response(200, content=b"x" * 1_001),  # declared too long
        httpx.Response(200, content=streamed()),  # no length, too long as it streams
    ]
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda r: answers.pop(0))) as c:
        sending = Sending(c, source="lms", max_bytes=1_000)
        for _ in range(2):
            with pytest.raises(ProtocolError, match="more than 1000 bytes"):
                await sending.handle(outgoing(client=c))
    assert answers == []


async def test_sending_gives_the_whole_exchange_one_deadline() -> None:
    never = asyncio.Event()

    async def dripping() -> AsyncIterator[bytes]:
        yield b"{"
        await never.wait()  # the rest of the answer never comes
        yield b"}"

    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=dripping())

    transport = httpx.MockTransport(respond)
    async with httpx.AsyncClient(transport=transport, timeout=0.01) as client:
        sending = Sending(client, source="lms", max_bytes=1_000)
        with pytest.raises(httpx.ReadTimeout, match=r"no whole answer within 0\.01 s"):
            await sending.handle(outgoing(client=client))


# Tracing ---------------------------------------------------------------------------------------


async def test_tracing_makes_a_client_span_and_sends_its_context() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing = Tracing(
        Next(200, 503, httpx.ReadTimeout("slow")),
        provider.get_tracer("test"),
        source="lms",
        host="lms.test",
    )
    sent = [outgoing(params={"token": "secret"}) for _ in range(3)]
    assert (await tracing.handle(sent[0])).status_code == 200
    assert (await tracing.handle(sent[1])).status_code == 503
    with pytest.raises(httpx.ReadTimeout):
        await tracing.handle(sent[2])
    spans = exporter.get_finished_spans()
    assert [s.attributes["legacygraph.status"] for s in spans if s.attributes] == [
        "200",
        "503",
        "timeout",
    ]
    assert [s.status.status_code for s in spans] == [
        StatusCode.UNSET,
        StatusCode.ERROR,
        StatusCode.ERROR,
    ]
    first = spans[0]
    assert first.name == "lms GET /courses" and first.attributes is not None
    assert first.attributes["server.address"] == "lms.test"
    assert "secret" not in repr(dict(first.attributes))  # never the URL
    assert first.context is not None
    _, trace_id, span_id, _ = sent[0].request.headers["traceparent"].split("-")
    assert (int(trace_id, 16), int(span_id, 16)) == (first.context.trace_id, first.context.span_id)


# Counting --------------------------------------------------------------------------------------


async def test_counting_records_every_exchange_with_its_status_and_time() -> None:
    clock = Clock()

    class Slow(Next):
        async def handle(self, outgoing: Outgoing) -> httpx.Response:
            clock.now += 0.25
            return await super().handle(outgoing)

    failures: list[int | BaseException] = [
        httpx.ConnectTimeout("c"),
        ProtocolError("lms", "too large"),
        httpx.ConnectError("refused"),
    ]
    stats = CallStats()
    counting = Counting(Slow(404, *failures, 200), source="lms", clock=clock)
    assert (await counting.handle(outgoing(name="courses", stats=stats))).status_code == 404
    for _ in failures:
        with pytest.raises(Exception):  # noqa: B017 - each failure goes on up
            await counting.handle(outgoing(name="courses", stats=stats))
    assert (await counting.handle(outgoing(name="courses"))).status_code == 200  # no stats
    assert stats.calls == [
        Call("lms", "courses", status, 0.25)
        for status in ("404", "timeout", "too_large", "unavailable")
    ]
    assert stats.requests == {"lms": 4} and stats.seconds == {"lms": 1.0}


# ServerFailures --------------------------------------------------------------------------------


async def test_a_5xx_answer_is_raised_and_other_answers_pass() -> None:
    failures = ServerFailures(Next(404, 500))
    assert (await failures.handle(outgoing())).status_code == 404
    with pytest.raises(ServerFailure) as raised:
        await failures.handle(outgoing())
    assert raised.value.response.status_code == 500


# Retrying --------------------------------------------------------------------------------------


class Pauses:
    """An injected sleep: the pauses asked for, none taken."""

    def __init__(self) -> None:
        self.taken: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.taken.append(seconds)


def longest(low: float, high: float) -> float:
    return high


async def test_a_read_is_retried_with_growing_pauses_then_its_last_failure_goes_up() -> None:
    refused = httpx.ConnectError("refused")
    pauses = Pauses()
    upstream = Next(refused)
    retrying = Retrying(ServerFailures(upstream), 5, sleep=pauses, jitter=longest)
    with pytest.raises(httpx.ConnectError) as raised:
        await retrying.handle(outgoing())
    assert raised.value is refused and len(upstream.handed) == 6
    assert pauses.taken == [0.05, 0.05, 0.1, 0.2, 0.4]
    assert pause_limit(6) == pause_limit(60) == 0.5


async def test_retrying_stops_at_the_first_answer_and_only_for_what_is_worth_it() -> None:
    pauses = Pauses()
    upstream = Next(503, 502, 200)
    response = await Retrying(ServerFailures(upstream), 3, sleep=pauses).handle(outgoing())
    assert response.status_code == 200 and len(upstream.handed) == 3
    assert len(pauses.taken) == 2 and all(0 <= p <= 0.05 for p in pauses.taken)
    never_again: list[int | BaseException] = [
        500,  # the server failed: doing it again may do it twice
        httpx.ReadTimeout("slow"),  # would spend the caller's time twice
        TLSFailure("certificate refused", request=a_request()),
    ]
    for step in never_again:
        upstream = Next(step, 200)
        with pytest.raises((ServerFailure, httpx.ReadTimeout, TLSFailure)):
            await Retrying(ServerFailures(upstream), 3, sleep=pauses).handle(outgoing())
        assert len(upstream.handed) == 1
    upstream = Next(503, 200)
    write = outgoing("POST", form={"name": "New"})
    with pytest.raises(ServerFailure):
        await Retrying(ServerFailures(upstream), 3, sleep=pauses).handle(write)
    assert len(upstream.handed) == 1


# CircuitBreaking -------------------------------------------------------------------------------


async def test_the_breaker_counts_server_failures_and_refuses_while_open() -> None:
    clock = Clock()
    breaker = breaker_for("lms", failures=2, reset_s=30, clock=clock)
    stats = CallStats()
    upstream = Next(500, 500, 200)
    breaking = CircuitBreaking(ServerFailures(upstream), breaker, source="lms")
    for _ in range(2):
        with pytest.raises(ServerFailure):
            await breaking.handle(outgoing(name="courses", stats=stats))
    with pytest.raises(Unavailable) as refused:
        await breaking.handle(outgoing(name="courses", stats=stats))
    assert refused.value.upstream_code == "circuit_open" and len(upstream.handed) == 2
    assert stats.calls == [Call("lms", "courses", "circuit_open", 0.0)] and stats.total == 0
    clock.now += 30
    assert (await breaking.handle(outgoing())).status_code == 200
    assert not breaker.opened


async def test_the_breaker_does_not_count_answers_below_500() -> None:
    breaker = breaker_for("lms", failures=1, reset_s=30)
    breaking = CircuitBreaking(ServerFailures(Next(404)), breaker, source="lms")
    for _ in range(3):
        assert (await breaking.handle(outgoing())).status_code == 404
    assert not breaker.opened


# ConnectorErrors -------------------------------------------------------------------------------


async def test_httpx_failures_become_connector_errors_and_a_5xx_an_answer_again() -> None:
    request = httpx.Request("GET", "http://lms.test/courses?wstoken=secret")
    failed = httpx.Response(503, request=request)
    assert (
        await ConnectorErrors(Next(ServerFailure(failed)), source="lms").handle(outgoing())
    ) is (failed)
    cases: list[tuple[BaseException, type[Exception], str | None]] = [
        (httpx.ReadTimeout("slow", request=request), UpstreamTimeout, None),
        (httpx.ConnectError("refused", request=request), Unavailable, None),
        (TLSFailure("the certificate has expired", request=request), Unavailable, "tls"),
    ]
    for failure, kind, code in cases:
        with pytest.raises(kind) as raised:
            await ConnectorErrors(Next(failure), source="lms").handle(outgoing())
        assert raised.value.__cause__ is failure
        assert "secret" not in str(raised.value) and "lms.test" not in str(raised.value)
        assert getattr(raised.value, "upstream_code", None) == code
    other = ProtocolError("lms", "too large")
    with pytest.raises(ProtocolError) as raised_other:
        await ConnectorErrors(Next(other), source="lms").handle(outgoing())
    assert raised_other.value is other


# Caching ---------------------------------------------------------------------------------------


async def test_caching_answers_a_kept_read_and_keeps_only_what_is_kept() -> None:
    store = LocalStore()
    cache = ResponseCache(30, store=store)
    stats = CallStats()
    upstream = Next(200, 404, 200)
    caching = Caching(upstream, cache, source="lms")
    first = await caching.handle(outgoing(caller_key="caller-a", stats=stats))
    assert isinstance(first.extensions[KEEP], Keep)
    assert store.keys() == []  # marked, not yet kept: its connector has not read it
    refused = await caching.handle(outgoing(path="/missing", caller_key="caller-a", stats=stats))
    assert KEEP not in refused.extensions  # an error answer is never kept
    await first.extensions[KEEP].put(first)  # as Upstream.request does once decode returns
    again = await caching.handle(outgoing(caller_key="caller-a", stats=stats))
    assert again.json() == first.json() and KEEP not in again.extensions
    assert len(upstream.handed) == 2
    assert stats.hits == {"lms": 1} and stats.misses == {"lms": 2}
    assert store.keys() == [("caller-a", "GET /courses", outgoing().digest())]


async def test_a_write_goes_through_and_forgets_what_was_kept() -> None:
    cache = ResponseCache(30)
    upstream = Next(200)
    caching = Caching(upstream, cache, source="lms")
    await kept(await caching.handle(outgoing(caller_key="caller-a")))
    written = await caching.handle(outgoing("POST", form={"a": "1"}, caller_key="caller-a"))
    assert KEEP not in written.extensions
    await caching.handle(outgoing(caller_key="caller-a"))
    assert [o.method for o in upstream.handed] == ["GET", "POST", "GET"]


async def test_a_request_without_a_caller_key_passes_by_the_cache() -> None:
    cache = ResponseCache(30)
    upstream = Next(200)
    caching = Caching(upstream, cache, source="lms")
    await kept(await caching.handle(outgoing(caller_key="caller-a")))
    for _ in range(2):
        anyone = await caching.handle(outgoing())
        assert KEEP not in anyone.extensions
    await caching.handle(outgoing("POST", form={"a": "1"}))  # forgets nothing
    await caching.handle(outgoing(caller_key="caller-a"))
    assert [o.caller.caller_key for o in upstream.handed] == ["caller-a", "", "", ""]


async def test_identical_reads_in_flight_share_the_first_one_s_exchange() -> None:
    arrived, release = asyncio.Event(), asyncio.Event()

    class Held(Next):
        async def handle(self, outgoing: Outgoing) -> httpx.Response:
            self.handed.append(outgoing)
            arrived.set()
            await release.wait()
            return httpx.Response(200, json={"answer": len(self.handed)})

    upstream = Held()
    stats = CallStats()
    caching = Caching(upstream, ResponseCache(30), source="lms")
    reads = [
        asyncio.ensure_future(caching.handle(outgoing(caller_key="a", stats=stats)))
        for _ in range(3)
    ]
    await arrived.wait()
    release.set()
    answers = await asyncio.gather(*reads)
    assert [a.json() for a in answers] == [{"answer": 1}] * 3
    assert len(upstream.handed) == 1
    assert [KEEP in a.extensions for a in answers] == [True, False, False]  # kept once
    assert stats.hits == {"lms": 2} and stats.misses == {"lms": 1}


# Upstream: decode and the stack ----------------------------------------------------------------


async def test_decode_says_what_is_kept_and_what_a_read_returns() -> None:
    sent: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"n": len(sent)})

    async with httpx.AsyncClient(transport=httpx.MockTransport(respond)) as client:
        source = Upstream(
            "lms", client, "http://lms.test", httpx.Auth(), cache=ResponseCache(30), caller_key="k"
        )

        def refuse(response: httpx.Response) -> object:
            raise ProtocolError("lms", "an error document")

        with pytest.raises(ProtocolError):
            await source.request("GET", "/x", decode=refuse)
        assert (await source.request("GET", "/x")).json() == {"n": 2}  # never kept
        assert await source.request("GET", "/x", decode=httpx.Response.json) == {"n": 3}
        assert await source.request("GET", "/x", decode=httpx.Response.json) == {"n": 3}
    assert len(sent) == 3


def layers(upstream: Upstream) -> list[str]:
    names, layer = [], upstream.pipeline
    while True:
        names.append(type(layer).__name__)
        if isinstance(layer, Sending):
            return names
        layer = layer.next_layer  # type: ignore[attr-defined]


def test_upstream_stacks_the_layers_it_uses_outermost_first() -> None:
    tracer = TracerProvider().get_tracer("test")
    everything = Upstream(
        "lms",
        CLIENT,
        "http://lms.test",
        httpx.Auth(),
        CallStats(),
        resilience=Resilience(breaker=breaker_for("lms", failures=3, reset_s=30), read_retries=1),
        cache=ResponseCache(30),
        caller_key="k",
        tracer=tracer,
    )
    assert layers(everything) == [
        "Caching",
        "ConnectorErrors",
        "CircuitBreaking",
        "Retrying",
        "ServerFailures",
        "Counting",
        "Tracing",
        "Sending",
    ]
    another_caller = dataclasses.replace(everything, auth=httpx.Auth(), caller_key="other")
    assert another_caller.pipeline is everything.pipeline  # one stack for every caller
    bare = Upstream("lms", CLIENT, "http://lms.test", httpx.Auth())
    assert layers(bare) == ["ConnectorErrors", "ServerFailures", "Counting", "Sending"]
