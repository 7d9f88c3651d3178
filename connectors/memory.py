"""What the gateway remembers about a source between requests, for a while: what an Elgg site
said it exposes, the callers whose Moodle service refuses the multi-call.

In this process, or in Redis, where every replica of the gateway reads what any of them learned.
Keys are a site's or a caller's keyed hash, never a credential; values are small JSON.
"""

from __future__ import annotations

import json
import logging
import os
from typing import TYPE_CHECKING, Any, Protocol

from cachetools import TTLCache
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from redis.exceptions import RedisError

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["LocalMemory", "Recollection", "RedisMemory"]

log = logging.getLogger("legacygraph.memory")


class Recollection(Protocol):
    async def recall(self, key: str) -> Any:
        """What was remembered under `key`, or None (never kept, expired, or unreachable)."""
        ...

    async def remember(self, key: str, value: Any) -> None: ...


class LocalMemory:
    """In this process: at most `size` keys, each for `ttl_s` seconds."""

    def __init__(self, size: int, ttl_s: float) -> None:
        self._kept: TTLCache[str, Any] = TTLCache(maxsize=size, ttl=ttl_s)

    async def recall(self, key: str) -> Any:
        return self._kept.get(key)

    async def remember(self, key: str, value: Any) -> None:
        self._kept[key] = value


class RedisMemory:
    """In Redis under `<namespace>:<key>`, each value for `ttl_s` seconds, sealed (AES-GCM, a key
    derived from the cache secret, bound to its name) as cached answers are. Redis failing only
    means forgetting: the connector asks the site again, and the failure is logged."""

    def __init__(self, redis: Redis, namespace: str, secret: bytes, ttl_s: float) -> None:
        self.redis = redis
        self.namespace = namespace
        self.ttl_s = ttl_s
        key = HKDF(algorithm=SHA256(), length=32, salt=None, info=b"legacygraph memory")
        self._seal = AESGCM(key.derive(secret))

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
            return json.loads(self._seal.decrypt(sealed[:12], sealed[12:], name.encode()))
        except (InvalidTag, ValueError):
            log.warning("memory: a value in Redis failed its check and was ignored")
            return None

    async def remember(self, key: str, value: Any) -> None:
        name, nonce = f"{self.namespace}:{key}", os.urandom(12)
        sealed = nonce + self._seal.encrypt(nonce, json.dumps(value).encode(), name.encode())
        try:
            await self.redis.set(name, sealed, px=max(1, int(self.ttl_s * 1000)))
        except RedisError as exc:
            log.warning("memory: Redis unavailable (%s), not kept", type(exc).__name__)
