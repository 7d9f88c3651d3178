"""What the gateway remembers between requests: in the process, or sealed in Redis."""

from __future__ import annotations

from typing import Any

import pytest
from redis.asyncio import Redis

from connectors.memory import LocalMemory, RedisMemory
from connectors.sealing import Sealer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_local_memory_forgets_after_its_time() -> None:
    clock = Clock()
    memory = LocalMemory(size=10, ttl_s=60, clock=clock)
    await memory.remember("no-multicall:abc", True)
    clock.now += 59.9
    assert await memory.recall("no-multicall:abc") is True
    clock.now += 0.1
    assert await memory.recall("no-multicall:abc") is None


async def test_local_memory_gives_back_what_redis_would() -> None:
    memory = LocalMemory(size=10, ttl_s=60)
    value: dict[str, Any] = {"group.get": ("GET", False, ["guid"])}
    await memory.remember("methods", value)
    recalled = await memory.recall("methods")
    assert recalled == {"group.get": ["GET", False, ["guid"]]}  # JSON: the tuple is a list
    recalled["group.get"].append("changed")
    value["group.get"] = "changed too"
    assert await memory.recall("methods") == {"group.get": ["GET", False, ["guid"]]}


@pytest.mark.parametrize("value", [{"a": {1, 2}}, object(), float("nan"), b"bytes"])
async def test_a_value_that_is_not_json_fails_in_the_process_too(value: Any) -> None:
    memory = LocalMemory(size=10, ttl_s=60)
    with pytest.raises((TypeError, ValueError)):
        await memory.remember("methods", value)
    assert await memory.recall("methods") is None


async def test_redis_memory_is_sealed_and_bound_to_its_key(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    try:
        memory = RedisMemory(redis, "memory-test", b"k" * 32, ttl_s=60)
        await memory.remember("methods", {"group.get": ["GET", False]})
        assert await memory.recall("methods") == {"group.get": ["GET", False]}
        raw = await redis.get("memory-test:methods")
        assert isinstance(raw, bytes) and b"group.get" not in raw  # sealed, not readable
        opened = Sealer(b"k" * 32, b"legacygraph memory").open(raw, b"memory-test:methods")
        assert opened == b'{"group.get":["GET",false]}'  # the one sealing, the one packing
        with pytest.raises(TypeError):
            await memory.remember("methods", {"a": {1, 2}})
        await redis.set("memory-test:copied", raw)  # copied under another key: refused
        assert await memory.recall("copied") is None
        other = RedisMemory(redis, "memory-test", b"o" * 32, ttl_s=60)  # another secret
        assert await other.recall("methods") is None
        assert 0 < await redis.pttl("memory-test:methods") <= 60_000
    finally:
        await redis.aclose()


async def test_redis_out_of_reach_means_forgetting_not_failing() -> None:
    redis = Redis.from_url("redis://127.0.0.1:1", socket_connect_timeout=0.2)
    try:
        memory = RedisMemory(redis, "memory-test", b"k" * 32, ttl_s=60)
        await memory.remember("methods", {"a": 1})
        assert await memory.recall("methods") is None
    finally:
        await redis.aclose()
