"""Answers to reads, kept a short time and apart per caller: in the process or in Redis.

A key is (caller key, call, digest of the request before auth adds the credential). The caller
key is a keyed hash the gateway makes from the caller's credential, and the digest hides whatever
else a request carries: no key holds a secret. Each source's answers live under a generation that
a write moves on, so a write forgets every answer the source gave before it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol

import httpx
from cachetools import TLRUCache
from cryptography.exceptions import InvalidTag
from redis.exceptions import RedisError

from .sealing import Sealer

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["AnswerStore", "CacheKey", "LocalStore", "RedisStore", "ResponseCache", "Sealer"]

log = logging.getLogger("legacygraph.cache")

CacheKey = tuple[str, str, str]
"""(caller key, call name, digest of the request as built before auth)."""


class AnswerStore(Protocol):
    """Where answers are kept: bytes under a key, each with its own lifetime, each answered only
    while the generation it was kept in is the current one."""

    async def lookup(self, key: CacheKey) -> tuple[int, bytes | None]:
        """The current generation (-1: the store cannot be reached), and the answer kept for
        `key` in that generation, if any."""
        ...

    async def put(self, generation: int, key: CacheKey, value: bytes, ttl_s: float) -> None: ...

    async def forget_all(self) -> None:
        """Move on to a new generation: nothing kept before is answered again."""


class LocalStore:
    """In this process (cachetools TLRU): one per source, its answers timed on `clock`."""

    def __init__(
        self, maxsize: int = 10_000, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._generation = 0
        self._answers: TLRUCache[tuple[int, CacheKey], tuple[float, bytes]] = TLRUCache(
            maxsize=maxsize, ttu=lambda _key, value, now: now + value[0], timer=clock
        )

    async def lookup(self, key: CacheKey) -> tuple[int, bytes | None]:
        kept = self._answers.get((self._generation, key))
        return self._generation, None if kept is None else kept[1]

    async def put(self, generation: int, key: CacheKey, value: bytes, ttl_s: float) -> None:
        if generation == self._generation:
            self._answers[(generation, key)] = (ttl_s, value)

    async def forget_all(self) -> None:
        self._generation += 1
        self._answers.clear()

    def keys(self) -> list[CacheKey]:
        return [key for _, key in self._answers]


class RedisStore:
    """In Redis, shared by every gateway process that uses the same `namespace` and secret.

    Each answer is kept with the generation it belongs to, so one MGET of the source's
    generation and the answer is one round trip per read. Answers are sealed (AES-GCM, a key
    derived from the cache secret) and bound to their key name and generation: whoever can read
    Redis cannot read the answers, and an answer copied under another caller's key fails its
    check instead of being served to them. Redis failing is not the caller's problem: a read it
    cannot answer goes to the source, and the failure is logged. (A write whose generation could
    not be moved on is logged as such: other processes may answer from before it until the TTL
    runs out.)
    """

    def __init__(self, redis: Redis, namespace: str, secret: bytes) -> None:
        self.redis = redis
        self.namespace = namespace
        self._generation_key = f"{namespace}:generation"
        self._seal = Sealer(secret)

    def _name(self, key: CacheKey) -> str:
        return f"{self.namespace}:" + ":".join(key)

    async def lookup(self, key: CacheKey) -> tuple[int, bytes | None]:
        name = self._name(key)
        try:
            generation, kept = await self.redis.mget([self._generation_key, name])
        except RedisError as exc:
            log.warning(
                "cache: Redis unavailable (%s), reading from the source", type(exc).__name__
            )
            return -1, None
        current = int(generation or 0)
        if not isinstance(kept, bytes):
            return current, None
        stamp, _, sealed = kept.partition(b"\n")
        if stamp != str(current).encode():
            return current, None
        try:
            return current, self._seal.open(sealed, _bound(name, stamp))
        except (InvalidTag, ValueError):
            log.warning("cache: an answer in Redis failed its check and was ignored")
            return current, None

    async def put(self, generation: int, key: CacheKey, value: bytes, ttl_s: float) -> None:
        if generation < 0:
            return
        name, stamp = self._name(key), str(generation).encode()
        sealed = stamp + b"\n" + self._seal.seal(value, _bound(name, stamp))
        try:
            await self.redis.set(name, sealed, px=max(1, int(ttl_s * 1000)))
        except RedisError as exc:
            log.warning("cache: Redis unavailable (%s), answer not kept", type(exc).__name__)

    async def forget_all(self) -> None:
        try:
            await self.redis.incr(self._generation_key)
        except RedisError as exc:
            log.error(
                "cache: Redis unavailable (%s), a write could not clear %s",
                type(exc).__name__,
                self.namespace,
            )


class ResponseCache:
    """The answers of one source: where they are kept, for how long, and reads in flight."""

    def __init__(
        self,
        ttl_s: float,
        *,
        ttl_by_call: Mapping[str, float] | None = None,
        store: AnswerStore | None = None,
    ) -> None:
        self.ttl_s = ttl_s
        self.ttl_by_call = dict(ttl_by_call or {})
        self.store: AnswerStore = store if store is not None else LocalStore()
        self.flights: dict[CacheKey, asyncio.Future[httpx.Response]] = {}
        """Reads on their way, by key: an identical read of the same caller waits for it."""

    def ttl_for(self, call: str) -> float:
        return self.ttl_by_call.get(call, self.ttl_s)

    async def get(self, key: CacheKey) -> tuple[httpx.Response | None, int]:
        """The kept answer for `key` (or None), and the generation it was looked up in."""
        generation, kept = await self.store.lookup(key)
        return (None if kept is None else _response(kept)), generation

    async def put(self, key: CacheKey, response: httpx.Response, generation: int) -> None:
        ttl_s = self.ttl_for(key[1])
        if ttl_s > 0:
            await self.store.put(generation, key, _bytes(response), ttl_s)

    async def clear(self) -> None:
        await self.store.forget_all()


def _bound(name: str, stamp: bytes) -> bytes:
    """What a sealed answer is bound to: its key name and its generation."""
    return name.encode() + b"\n" + stamp


def _bytes(response: httpx.Response) -> bytes:
    head = json.dumps([response.status_code, response.headers.multi_items()]).encode()
    return head + b"\n" + response.content


def _response(kept: bytes) -> httpx.Response:
    head, _, content = kept.partition(b"\n")
    status_code, headers = json.loads(head)
    return httpx.Response(status_code, headers=[tuple(h) for h in headers], content=content)
