"""What one GraphQL request runs with: the caller's credentials, the shared per-source HTTP
clients, connectors acting as that caller, and a fresh set of loaders.

Made in one direction: the context builds each source's connector (`Connector`, from the
source's spec, the gateway and the request's stats) and its loaders over it; neither the source
modules nor the loaders call back into the context."""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Generic, TypeVar

import httpx
from circuitbreaker import CircuitBreaker
from opentelemetry.trace import Tracer
from redis.asyncio import Redis

from connectors.cache import LocalStore, RedisStore, ResponseCache
from connectors.errors import Unauthenticated, Unavailable
from connectors.http import CallStats, Resilience, Upstream, breaker_for
from connectors.memory import LocalMemory, Recollection, RedisMemory
from graph.config import Settings
from graph.idempotency import Idempotency, LocalAnswers, RedisAnswers
from graph.people import PeopleLoaders
from graph.session import SessionCodec
from graph.sources import SOURCES, SourceSpec

__all__ = ["CALLER_HEADERS", "Connector", "Context", "Credentials", "Gateway"]

CALLER_HEADERS: Mapping[str, str] = {name: spec.header for name, spec in SOURCES.items()}
"""The request header that carries the caller's own credential for each source."""

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


class Connector(Generic[SiteT]):
    """How one request reaches one source: the source's connector acting as the caller, made
    on first use (most requests touch one or two sources) from plain parts. The spec says how
    the caller's credential acts (`acting`) and makes the connector (`connect`); the Upstream
    between them is the gateway's (its shared client, limits, breaker, cache and tracer) with
    this request's stats and the caller's keyed hash."""

    def __init__(
        self,
        spec: SourceSpec[Any, SiteT, Any],
        gateway: Gateway,
        credentials: Credentials,
        stats: CallStats,
    ) -> None:
        self.spec = spec
        self.gateway = gateway
        self.credentials = credentials
        self.stats = stats
        self._site: SiteT | None = None

    def site(self) -> SiteT:
        """The connector acting as the caller (or as the service or a guest, where the source
        allows), made once."""
        if self._site is None:
            settings = self.gateway.settings.sources.of(self.spec)
            token = self.credentials.token(self.spec.name)
            self._site = self.acting_as(self.spec.credential(settings, token))
        return self._site

    def acting_as(self, credential: str | None) -> SiteT:
        """The connector acting with `credential` (a login's new token, say), made anew."""
        name = self.spec.name
        settings = self.gateway.settings.sources.of(self.spec)
        if settings is None:
            raise Unavailable(name, f"{self.spec.label} is not configured on this gateway")
        acting = self.spec.acting(settings, credential)
        gateway = self.gateway
        upstream = Upstream(
            name,
            gateway.clients[name],
            settings.url,
            acting.auth,
            self.stats,
            max_response_bytes=settings.max_response_bytes,
            resilience=Resilience(
                breaker=gateway.breakers.get(name), read_retries=settings.read_retries
            ),
            cache=gateway.caches.get(name),
            caller_key=gateway.caller_key(name, acting.identity),
            tracer=gateway.tracer,
        )
        return self.spec.connect(upstream, settings, gateway.memory.get(name))


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
        self._connectors: dict[str, Connector[Any]] = {}
        self._loaders: dict[str, Any] = {}

    # Connectors and loaders are made on first use: most requests touch one or two sources.

    def connector(self, spec: SourceSpec[Any, SiteT, Any]) -> Connector[SiteT]:
        """How this request reaches the source, made once per request."""
        connector = self._connectors.get(spec.name)
        if connector is None:
            connector = Connector(spec, self.gateway, self.credentials, self.stats)
            self._connectors[spec.name] = connector
        return connector

    def site(self, spec: SourceSpec[Any, SiteT, Any]) -> SiteT:
        """The source's connector acting as this caller, made once per request."""
        return self.connector(spec).site()

    def site_as(self, spec: SourceSpec[Any, SiteT, Any], credential: str | None) -> SiteT:
        """The source's connector acting with `credential` (a login's new token, say)."""
        return self.connector(spec).acting_as(credential)

    def loaders(self, spec: SourceSpec[Any, Any, LoadersT]) -> LoadersT:
        """The source's loaders for this request, over its connector."""
        if spec.name not in self._loaders:
            self._loaders[spec.name] = spec.loaders(self.connector(spec))
        loaders: LoadersT = self._loaders[spec.name]
        return loaders

    async def viewer(self, spec: SourceSpec[Any, Any, Any]) -> Any:
        """The caller's own account on the source, asked once per request by its loaders."""
        return await spec.viewer(self.loaders(spec))

    @cached_property
    def people_loaders(self) -> PeopleLoaders:
        """Each source's accounts by e-mail, found through its loaders; none (no lookup) where
        the source is not configured or the caller has no identity there."""
        lookups = {
            name: spec.people(self.loaders(spec)) if self._reachable(name) else None
            for name, spec in SOURCES.items()
        }
        return PeopleLoaders(lookups, fold_gmail=self.settings.people.fold_gmail)

    def _reachable(self, source: str) -> bool:
        return source in self.settings.sources.configured() and self.has_identity(source)

    @property
    def settings(self) -> Settings:
        return self.gateway.settings

    def has_identity(self, source: str) -> bool:
        """Whether requests to `source` act as someone (the caller, or an allowed service)."""
        configured = self.settings.sources.configured().get(source)
        if configured is None:
            return False
        return source in self.credentials.tokens or configured.allow_service_fallback
