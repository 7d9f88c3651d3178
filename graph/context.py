"""What one GraphQL request runs with: the caller's credentials, the shared per-source HTTP
clients, connectors acting as that caller, and a fresh set of loaders."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

import httpx
from circuitbreaker import CircuitBreaker
from opentelemetry.trace import Tracer
from redis.asyncio import Redis

from connectors.cache import LocalStore, RedisStore, ResponseCache
from connectors.errors import Unauthenticated, Unavailable
from connectors.http import CallStats, Resilience, Upstream, breaker_for
from connectors.memory import LocalMemory, Recollection, RedisMemory
from graph.config import Settings, SourceSettings
from graph.idempotency import Idempotency, LocalAnswers, RedisAnswers
from graph.people import PeopleLoaders
from graph.session import SessionCodec
from graph.sources import SOURCES, Reach, SourceSpec

__all__ = ["CALLER_HEADERS", "Context", "Credentials", "Gateway"]

CALLER_HEADERS: Mapping[str, str] = {name: spec.header for name, spec in SOURCES.items()}
"""The request header that carries the caller's own credential for each source."""

T = TypeVar("T")
SiteT = TypeVar("SiteT")
LoadersT = TypeVar("LoadersT")
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9._~+/=-]{1,512}")

LEARNED_QUERIES = 1_000
LEARNED_FOR_S = 24 * 3600
"""How many persisted queries learned from clients a process keeps, and for how long."""


@dataclass(frozen=True)
class Credentials:
    """The caller's credential per source, as sent; `None` where the caller sent none."""

    tokens: Mapping[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_headers(
        cls, headers: Mapping[str, str], session: Mapping[str, str] | None = None
    ) -> Credentials:
        """The source headers; a gateway session's tokens fill in the sources they do not name."""
        tokens = {s: t for s, t in (session or {}).items() if s in CALLER_HEADERS}
        for source, header in CALLER_HEADERS.items():
            value = headers.get(header, "").strip()
            if value:
                tokens[source] = value
        return cls(tokens)

    def token(self, source: str) -> str | None:
        """The caller's token for `source`; a malformed one is refused, not passed on."""
        value = self.tokens.get(source)
        if value is not None and not TOKEN_SHAPE.fullmatch(value):
            raise Unauthenticated(source, f"the {CALLER_HEADERS[source]} header is malformed")
        return value


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
        return hmac.new(self.secret, f"{source}:{credential}".encode(), hashlib.sha256).hexdigest()

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


class Context:
    """Per request: who the caller is on each source and how to reach it as them."""

    def __init__(self, gateway: Gateway, credentials: Credentials, *, traced: bool = False) -> None:
        self.gateway = gateway
        self.credentials = credentials
        self.traced = traced
        """The caller asked for `extensions.upstream` (what the request cost upstream)."""
        self.stats = CallStats()
        self.operation_name: str | None = None
        self.outcome = "ok"
        """ok, partial (some fields failed) or failed (no data)."""
        self._once: dict[str, asyncio.Future[Any]] = {}
        self._sites: dict[str, Any] = {}
        self._loaders: dict[str, Any] = {}

    # Connectors and loaders are made on first use: most requests touch one or two sources.

    def site(self, spec: SourceSpec[Any, SiteT, Any]) -> SiteT:
        """The source's connector acting as this caller, made once per request."""
        if spec.name not in self._sites:
            settings = self.settings.sources.configured().get(spec.name)
            credential = spec.credential(settings, self.credentials.token(spec.name))
            self._sites[spec.name] = self.site_as(spec, credential)
        site: SiteT = self._sites[spec.name]
        return site

    def site_as(self, spec: SourceSpec[Any, SiteT, Any], credential: str | None) -> SiteT:
        """The source's connector acting with `credential` (a login's new token, say)."""
        settings = self.settings.sources.configured().get(spec.name)
        if settings is None:
            raise Unavailable(spec.name, f"{spec.label} is not configured on this gateway")
        reach = Reach(
            lambda auth, identity: self._upstream(settings, spec.name, auth, identity),
            self.gateway.memory.get(spec.name),
        )
        return spec.connect(reach, settings, credential)

    def loaders(self, spec: SourceSpec[Any, Any, LoadersT]) -> LoadersT:
        """The source's loaders for this request."""
        if spec.name not in self._loaders:
            self._loaders[spec.name] = spec.loaders(lambda: self.site(spec))
        loaders: LoadersT = self._loaders[spec.name]
        return loaders

    @cached_property
    def people_loaders(self) -> PeopleLoaders:
        lookups = {name: (spec.people(self), self._connect(name)) for name, spec in SOURCES.items()}
        return PeopleLoaders(lookups, fold_gmail=self.settings.people.fold_gmail)

    def _connect(self, source: str) -> Callable[[], Any] | None:
        """How to reach `source` as the caller, or None: not configured, or no identity there."""
        if source not in self.settings.sources.configured() or not self.has_identity(source):
            return None
        return lambda: self.site(SOURCES[source])

    async def once(self, key: str, make: Callable[[], Awaitable[T]]) -> T:
        """Run `make` once per request for `key`; later callers share its result."""
        if key not in self._once:
            self._once[key] = asyncio.ensure_future(make())
        result: T = await asyncio.shield(self._once[key])
        return result

    @property
    def settings(self) -> Settings:
        return self.gateway.settings

    def has_identity(self, source: str) -> bool:
        """Whether requests to `source` act as someone (the caller, or an allowed service)."""
        configured = self.settings.sources.configured().get(source)
        if configured is None:
            return False
        return source in self.credentials.tokens or configured.allow_service_fallback

    def _upstream(
        self, settings: SourceSettings, source: str, auth: httpx.Auth, identity: str
    ) -> Upstream:
        """How to reach `source` as this request: its shared client, its limits, this auth.
        `identity` names who the auth acts as (it holds the credential); cached answers are
        kept under a keyed hash of it."""
        return Upstream(
            source,
            self.gateway.clients[source],
            settings.url,
            auth,
            self.stats,
            max_response_bytes=settings.max_response_bytes,
            resilience=Resilience(
                breaker=self.gateway.breakers.get(source), read_retries=settings.read_retries
            ),
            cache=self.gateway.caches.get(source),
            caller_key=self.gateway.caller_key(source, identity),
            tracer=self.gateway.tracer,
        )
