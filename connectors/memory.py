"""What the gateway remembers about a source between requests, for a while: what an Elgg site
said it exposes, the callers whose Moodle service refuses the multi-call.

In this process, or in Redis, where every replica of the gateway reads what any of them learned.
Keys are a site's or a caller's keyed hash, never a credential; values are small JSON, kept as
JSON bytes by both (`packed`), so that a value Redis could not keep fails in the process too,
and what is recalled is what Redis would give back (a tuple comes back a list).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from cachetools import TTLCache
from cryptography.exceptions import InvalidTag
from redis.exceptions import RedisError

from .sealing import Sealer

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["LocalMemory", "Recollection", "RedisMemory", "packed", "unpacked"]

log = logging.getLogger("legacygraph.memory")


class Recollection(Protocol):
    async def recall(self, key: str) -> Any:
        """What was remembered under `key`, or None (never kept, expired, or unreachable)."""
        ...

    async def remember(self, key: str, value: Any) -> None: ...


def packed(value: Any) -> bytes:
    """A value as both memories keep it: JSON (a `TypeError` or `ValueError` when it is not)."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False).encode()


def unpacked(data: bytes) -> Any:
    return json.loads(data)


class LocalMemory:
    """In this process: at most `size` keys, each for `ttl_s` seconds of `clock`."""

    def __init__(
        self, size: int, ttl_s: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._kept: TTLCache[str, bytes] = TTLCache(maxsize=size, ttl=ttl_s, timer=clock)

    async def recall(self, key: str) -> Any:
        kept = self._kept.get(key)
        return None if kept is None else unpacked(kept)

    async def remember(self, key: str, value: Any) -> None:
        self._kept[key] = packed(value)


class RedisMemory:
    """In Redis under `<namespace>:<key>`, each value for `ttl_s` seconds, sealed (AES-GCM, a key
    derived from the cache secret, bound to its name) as cached answers are. Redis failing only
    means forgetting: the connector asks the site again, and the failure is logged."""

    def __init__(self, redis: Redis, namespace: str, secret: bytes, ttl_s: float) -> None:
        self.redis = redis
        self.namespace = namespace
        self.ttl_s = ttl_s
        self._seal = Sealer(secret, b"legacygraph memory")

    async def recall(self, key: str) -> Any:
        name = f"{self.namespace}:{key}"
        try:
            sealed = await self.redis.get(name)
        except RedisError as exc:
            log.warning("memory: Redis unavailable (%s), asking the source", type(exc).__name__)
            return None
        if not isinstance(sealed, bytes):
            return None
        try:
            return unpacked(self._seal.open(sealed, name.encode()))
        except (InvalidTag, ValueError):
            log.warning("memory: a value in Redis failed its check and was ignored")
            return None

    async def remember(self, key: str, value: Any) -> None:
        name = f"{self.namespace}:{key}"
        sealed = self._seal.seal(packed(value), name.encode())
        try:
            await self.redis.set(name, sealed, px=max(1, int(self.ttl_s * 1000)))
        except RedisError as exc:
            log.warning("memory: Redis unavailable (%s), not kept", type(exc).__name__)
