"""What the gateway remembers between requests: in the process, or sealed in Redis."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from connectors.memory import LocalMemory, RedisMemory


async def test_local_memory_forgets_after_its_time() -> None:
    memory = LocalMemory(size=10, ttl_s=0.05)
    await memory.remember("no-multicall:abc", True)
    assert await memory.recall("no-multicall:abc") is True
    await asyncio.sleep(0.1)
    assert await memory.recall("no-multicall:abc") is None


async def test_redis_memory_is_sealed_and_bound_to_its_key(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    try:
        memory = RedisMemory(redis, "memory-test", b"k" * 32, ttl_s=60)
        await memory.remember("methods", {"group.get": ["GET", False]})
        assert await memory.recall("methods") == {"group.get": ["GET", False]}
        raw = await redis.get("memory-test:methods")
        assert isinstance(raw, bytes) and b"group.get" not in raw  # sealed, not readable
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
