"""What lives as long as the app: the settings, one pooled HTTP client per source, the circuit
breakers, caches and memories shared by every request."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field

import httpx
from circuitbreaker import CircuitBreaker
from opentelemetry.trace import Tracer
from redis.asyncio import Redis

from connectors.cache import LocalStore, RedisStore, ResponseCache
from connectors.http import breaker_for
from connectors.memory import LocalMemory, Recollection, RedisMemory
from graph.config import Settings
from graph.idempotency import Idempotency, LocalAnswers, RedisAnswers
from graph.session import SessionCodec
from graph.sources import SOURCES

__all__ = ["LEARNED_FOR_S", "LEARNED_QUERIES", "Gateway"]

LEARNED_QUERIES = 1_000

LEARNED_FOR_S = 24 * 3600
"""How many persisted queries learned from clients a process keeps, and for how long."""


@dataclass
class Gateway:
    """What lives as long as the app: settings, one pooled HTTP client per source, and what
    it learns about each caller (keyed by a keyed hash of their credential, never the credential).
    """

    settings: Settings
    clients: dict[str, httpx.AsyncClient]
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    learned_queries: Recollection = field(
        default_factory=lambda: LocalMemory(LEARNED_QUERIES, LEARNED_FOR_S)
    )
    """Persisted queries learned from clients (APQ), by hash: in this process, or in Redis."""
    memory: dict[str, Recollection] = field(default_factory=dict)
    """What each source's connector learns about a site or caller and keeps for a while: in
    this process, or in Redis with `[cache] url` (every replica reads it)."""
    sessions: SessionCodec | None = None
    """Reads and issues gateway session tokens; None when no key is configured."""
    breakers: dict[str, CircuitBreaker] = field(default_factory=dict)
    """One circuit breaker per source, shared by every caller."""
    caches: dict[str, ResponseCache] = field(default_factory=dict)
    """One response cache per source whose cache is on, keyed per caller inside."""
    tracer: Tracer | None = None
    """Spans for operations and upstream requests; None when the deployment does not trace."""
    idempotency: Idempotency = field(
        default_factory=lambda: Idempotency(LocalAnswers(24 * 3600), secrets.token_bytes(32))
    )
    """The first answers to mutations sent with an `Idempotency-Key`: in this process, or in
    Redis with `[cache] url`."""

    def caller_key(self, source: str, credential: str) -> str:
        # hmac.digest: the same HMAC in one call, without an HMAC object and its copies.
        return hmac.digest(self.secret, f"{source}:{credential}".encode(), "sha256").hex()

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        settings: Settings,
        tracer: Tracer | None = None,
        transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    ) -> AsyncIterator[Gateway]:
        """`transports` replaces the network of the sources it names (replay tests)."""
        transports = transports or {}
        async with AsyncExitStack() as stack:
            clients = {
                name: await stack.enter_async_context(
                    source.new_client(transport=transports.get(name))  # its TLS, proxy, limit
                )
                for name, source in settings.sources.configured().items()
            }
            breakers = {
                name: breaker_for(
                    name, failures=source.breaker_failures, reset_s=source.breaker_reset_s
                )
                for name, source in settings.sources.configured().items()
            }
            redis = None
            if settings.cache.url:
                redis = Redis.from_url(
                    settings.cache.url, socket_timeout=0.5, socket_connect_timeout=0.5
                )
                stack.push_async_callback(redis.aclose)
            secret = settings.cache.secret.encode() or secrets.token_bytes(32)
            caches = {
                name: ResponseCache(
                    source.cache_ttl_s,
                    ttl_by_call=source.call_ttls(),
                    store=RedisStore(redis, f"{settings.cache.namespace}:{name}", secret)
                    if redis is not None
                    else LocalStore(),
                )
                for name, source in settings.sources.configured().items()
                if source.cache_ttl_s > 0 or source.cache_ttl_by_call
            }
            memory: dict[str, Recollection] = {
                name: RedisMemory(
                    redis, f"{settings.cache.namespace}:{name}:memory", secret, spec.memory.ttl_s
                )
                if redis is not None
                else LocalMemory(spec.memory.size, spec.memory.ttl_s)
                for name, spec in SOURCES.items()
                if spec.memory is not None
            }
            learned_queries: Recollection = (
                RedisMemory(redis, f"{settings.cache.namespace}:apq", secret, LEARNED_FOR_S)
                if redis is not None
                else LocalMemory(LEARNED_QUERIES, LEARNED_FOR_S)
            )
            kept = settings.idempotency
            idempotency = Idempotency(
                RedisAnswers(
                    redis,
                    settings.cache.namespace,
                    secret,
                    ttl_s=kept.ttl_s,
                    running_s=kept.running_s,
                )
                if redis is not None
                else LocalAnswers(kept.ttl_s),
                secret,
                wait_s=kept.wait_s,
            )
            yield cls(
                settings,
                clients,
                memory=memory,
                learned_queries=learned_queries,
                sessions=SessionCodec.from_settings(settings.session),
                breakers=breakers,
                caches=caches,
                secret=secret,
                tracer=tracer,
                idempotency=idempotency,
            )
