"""The per-caller response cache in `Upstream.request`."""

from __future__ import annotations

import asyncio
import itertools
import socket

import httpx
import pytest
from redis.asyncio import Redis

from connectors.cache import LocalStore, RedisStore, ResponseCache
from connectors.errors import ProtocolError
from connectors.http import CallStats, Upstream
from tests.connectors.recording import Recorder

ANSWERS = itertools.count()
SECRET = b"a cache secret for the tests"


def counting(request: httpx.Request) -> httpx.Response:
    """A fresh answer every time, so a cached one can be told apart."""
    return httpx.Response(200, json={"answer": next(ANSWERS), "path": request.url.path})


def upstream(
    transport: httpx.MockTransport,
    cache: ResponseCache,
    caller_key: str,
    stats: CallStats | None = None,
) -> Upstream:
    client = httpx.AsyncClient(transport=transport)
    return Upstream(
        "lms", client, "http://lms.test", httpx.Auth(), stats, cache=cache, caller_key=caller_key
    )


async def read(source: Upstream, path: str = "/courses", **params: str) -> object:
    return await source.request("GET", path, params=params or None, decode=httpx.Response.json)


async def test_a_repeated_read_by_the_same_caller_is_answered_from_the_cache() -> None:
    recorder = Recorder(counting)
    stats = CallStats()
    source = upstream(httpx.MockTransport(recorder), ResponseCache(30), "caller-a", stats)
    first = await read(source, category="3")
    again = await read(source, category="3")
    other = await read(source, category="4")
    assert again == first and other != first
    assert len(recorder.requests) == 2
    assert stats.hits == {"lms": 1} and stats.misses == {"lms": 2}


async def test_callers_never_share_an_answer() -> None:
    recorder = Recorder(counting)
    cache = ResponseCache(30)
    transport = httpx.MockTransport(recorder)
    first = await read(upstream(transport, cache, "caller-a"))
    second = await read(upstream(transport, cache, "caller-b"))
    assert first != second
    assert len(recorder.requests) == 2


async def test_an_answer_the_connector_could_not_read_is_asked_again() -> None:
    recorder = Recorder(counting)
    source = upstream(httpx.MockTransport(recorder), ResponseCache(30), "caller-a")

    def refused(response: httpx.Response) -> object:
        raise ProtocolError("lms", "say its body held an error")

    with pytest.raises(ProtocolError):
        await source.request("GET", "/courses", decode=refused)
    await source.request("GET", "/courses")  # read without decode: answered, never kept
    first = await read(source)
    assert await read(source) == first
    assert len(recorder.requests) == 3


async def test_a_write_clears_what_was_kept() -> None:
    recorder = Recorder(counting)
    source = upstream(httpx.MockTransport(recorder), ResponseCache(30), "caller-a")
    before = await read(source)
    await source.request("POST", "/courses", form={"name": "New"})
    after = await read(source)
    assert after != before
    assert [r.method for r in recorder.requests] == ["GET", "POST", "GET"]


async def test_a_read_that_began_before_a_write_is_not_kept_after_it() -> None:
    reading, written = asyncio.Event(), asyncio.Event()

    async def respond(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and not written.is_set():
            reading.set()
            await written.wait()  # the read is on its way when the write is sent
        return counting(request)

    recorder = Recorder(respond)  # type: ignore[arg-type]
    source = upstream(httpx.MockTransport(recorder), ResponseCache(30), "caller-a")
    first = asyncio.ensure_future(read(source))
    await reading.wait()
    await source.request("POST", "/courses", form={"name": "New"})
    written.set()
    await first  # the connector reads its answer only now
    await read(source)
    assert [r.method for r in recorder.requests] == ["GET", "POST", "GET"]


async def test_answers_expire_and_a_call_kind_can_be_left_out() -> None:
    recorder = Recorder(counting)
    now = [1000.0]
    store = LocalStore(clock=lambda: now[0])
    cache = ResponseCache(30, ttl_by_call={"GET /live": 0}, store=store)
    source = upstream(httpx.MockTransport(recorder), cache, "caller-a")
    await read(source)
    await read(source, "/live")
    await read(source, "/live")
    assert len(recorder.requests) == 3  # /live is never kept
    now[0] += 29.9
    await read(source)
    assert len(recorder.requests) == 3
    now[0] += 0.1
    await read(source)
    assert len(recorder.requests) == 4


async def test_identical_reads_in_flight_share_one_exchange() -> None:
    sent: list[httpx.Request] = []
    both_sent = asyncio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        # Answers only once two exchanges are on their way: every read is in flight by then.
        sent.append(request)
        if len(sent) == 2:
            both_sent.set()
        await both_sent.wait()
        return counting(request)

    cache = ResponseCache(30)
    transport = httpx.MockTransport(slow)
    same = upstream(transport, cache, "caller-a")
    other = upstream(transport, cache, "caller-b")
    answers = await asyncio.gather(read(same), read(same), read(same), read(other))
    assert answers[0] == answers[1] == answers[2] != answers[3]
    assert len(sent) == 2  # one for caller a, one for caller b


async def test_keys_hold_no_part_of_the_request() -> None:
    recorder = Recorder(counting)
    store = LocalStore()
    source = upstream(
        httpx.MockTransport(recorder), ResponseCache(30, store=store), "keyed-hash-of-caller"
    )
    await read(source, "/login", password="hunter2-secret")
    (key,) = store.keys()
    assert "hunter2-secret" not in repr(key)
    assert key[0] == "keyed-hash-of-caller"


async def test_without_a_caller_key_nothing_is_cached() -> None:
    recorder = Recorder(counting)
    source = upstream(httpx.MockTransport(recorder), ResponseCache(30), "")
    await read(source)
    await read(source)
    assert len(recorder.requests) == 2


async def test_answers_kept_in_redis_are_apart_per_caller_and_forgotten_on_a_write(
    redis_url: str,
) -> None:
    recorder = Recorder(counting)
    transport = httpx.MockTransport(recorder)
    redis = Redis.from_url(redis_url)
    try:
        store = RedisStore(redis, f"test:{next(ANSWERS)}", SECRET)
        cache = ResponseCache(30, ttl_by_call={"GET /short": 0.2}, store=store)
        one, two = upstream(transport, cache, "caller-a"), upstream(transport, cache, "caller-b")
        first = await read(one, token_like="not-in-keys")
        assert await read(one, token_like="not-in-keys") == first
        assert await read(two, token_like="not-in-keys") != first
        assert len(recorder.requests) == 2
        await one.request("POST", "/courses", form={"name": "New"})
        assert await read(one, token_like="not-in-keys") != first
        assert len(recorder.requests) == 4
        await read(one, "/short")
        await read(one, "/short")
        assert len(recorder.requests) == 5  # kept
        names = [name.decode() async for name in redis.scan_iter(f"{store.namespace}:*")]
        assert names and not any("not-in-keys" in name for name in names)
        (short,) = [name for name in names if ":GET /short:" in name]
        assert 0 < await redis.pttl(short) <= 200  # Redis forgets it after its own TTL
        (long,) = [name for name in names if ":GET /courses:" in name and ":caller-b:" in name]
        assert 200 < await redis.pttl(long) <= 30_000
    finally:
        await redis.aclose()


async def test_with_redis_down_reads_go_to_the_source() -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    recorder = Recorder(counting)
    redis = Redis.from_url(f"redis://127.0.0.1:{port}/0", socket_connect_timeout=0.5)
    try:
        cache = ResponseCache(30, store=RedisStore(redis, "down", SECRET))
        source = upstream(httpx.MockTransport(recorder), cache, "caller-a")
        first = await read(source)
        assert await read(source) != first
        await source.request("POST", "/courses", form={"name": "New"})
        assert len(recorder.requests) == 3
    finally:
        await redis.aclose()


async def test_a_write_in_one_process_clears_redis_for_all_and_a_hit_is_one_round_trip(
    redis_url: str,
) -> None:
    recorder = Recorder(counting)
    transport = httpx.MockTransport(recorder)
    redis = Redis.from_url(redis_url)
    try:
        namespace = f"test:{next(ANSWERS)}"
        # Two gateway processes: each its own cache object, one Redis namespace between them.
        here = upstream(
            transport, ResponseCache(30, store=RedisStore(redis, namespace, SECRET)), "a"
        )
        there = upstream(
            transport, ResponseCache(30, store=RedisStore(redis, namespace, SECRET)), "a"
        )
        first = await read(here)
        assert await read(there) == first  # shared
        await redis.config_resetstat()
        assert await read(here) == first
        stats = await redis.info("commandstats")
        assert stats["cmdstat_mget"]["calls"] == 1  # the generation and the answer together
        assert "cmdstat_get" not in stats
        await there.request("POST", "/courses", form={"name": "New"})
        assert await read(here) != first  # the other process's write is seen here
        assert len(recorder.requests) == 3
    finally:
        await redis.aclose()


async def test_answers_in_redis_are_sealed_and_bound_to_their_caller(redis_url: str) -> None:
    recorder = Recorder(
        lambda request: httpx.Response(200, json={"grade": "B+", "who": request.url.path})
    )
    transport = httpx.MockTransport(recorder)
    redis = Redis.from_url(redis_url)
    try:
        store = RedisStore(redis, f"test:{next(ANSWERS)}", SECRET)
        cache = ResponseCache(30, store=store)
        one, two = upstream(transport, cache, "caller-a"), upstream(transport, cache, "caller-b")
        await read(one, "/grades/7")
        (name,) = [n async for n in redis.scan_iter(f"{store.namespace}:caller-a:*")]
        kept = await redis.get(name)
        assert b"B+" not in kept and b"grades" not in kept  # unreadable without the secret
        # Someone who can write to Redis copies caller A's answer under caller B's key:
        await read(two, "/grades/7")
        (other,) = [n async for n in redis.scan_iter(f"{store.namespace}:caller-b:*")]
        await redis.set(other, kept)
        assert await read(two, "/grades/7") == {"grade": "B+", "who": "/grades/7"}
        assert len(recorder.requests) == 3  # B's read failed its check and went to the source
        # A process with another secret cannot use what this one kept.
        stranger = upstream(
            transport,
            ResponseCache(30, store=RedisStore(redis, store.namespace, b"another secret, 16+")),
            "caller-a",
        )
        await read(stranger, "/grades/7")
        assert len(recorder.requests) == 4
    finally:
        await redis.aclose()
