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
from cachetools import TTLCache
from circuitbreaker import CircuitBreaker
from opentelemetry.trace import Tracer
from redis.asyncio import Redis

from connectors.cache import MemoryStore, RedisStore, ResponseCache
from connectors.civicrm import ApiStyle, Civicrm, CivicrmAuth
from connectors.elgg import Elgg, ElggAuth, MethodInfo
from connectors.eqsash import Eqsash, EqsashAuth
from connectors.errors import Unauthenticated, Unavailable
from connectors.flarum import Flarum, FlarumAuth
from connectors.http import CallStats, Resilience, Upstream, breaker_for, new_client
from connectors.moodle import Moodle, MoodleAuth

from .config import Settings, SourceSettings
from .loaders import CivicrmLoaders, ElggLoaders, EqsashLoaders, FlarumLoaders, MoodleLoaders
from .people import PeopleLoaders
from .session import SessionCodec

__all__ = ["CALLER_HEADERS", "Context", "Credentials", "Gateway"]

CALLER_HEADERS: Mapping[str, str] = {
    "flarum": "X-Flarum-Token",
    "moodle": "X-Moodle-Token",
    "civicrm": "X-Civicrm-Api-Key",
    "elgg": "X-Elgg-Token",
    "eqsash": "X-Eqsash-Token",
}
"""The request header that carries the caller's own credential for each source."""

T = TypeVar("T")
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9._~+/=-]{1,512}")


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
    no_multicall: TTLCache[str, bool] = field(
        default_factory=lambda: TTLCache(maxsize=10_000, ttl=600)
    )
    """Moodle callers whose service refused the multi-call, for ten minutes."""
    elgg_methods: TTLCache[str, MethodInfo] = field(
        default_factory=lambda: TTLCache(maxsize=1_000, ttl=600)
    )
    """What Elgg's `system.api.list` said the site exposes, for ten minutes."""
    sessions: SessionCodec | None = None
    """Reads and issues gateway session tokens; None when no key is configured."""
    breakers: dict[str, CircuitBreaker] = field(default_factory=dict)
    """One circuit breaker per source, shared by every caller."""
    caches: dict[str, ResponseCache] = field(default_factory=dict)
    """One response cache per source whose cache is on, keyed per caller inside."""
    tracer: Tracer | None = None
    """Spans for operations and upstream requests; None when the deployment does not trace."""

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
                    new_client(
                        timeout_s=source.timeout_s,
                        max_connections=source.max_concurrency,
                        transport=transports.get(name),
                    )
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
                    else MemoryStore(),
                )
                for name, source in settings.sources.configured().items()
                if source.cache_ttl_s > 0 or source.cache_ttl_by_call
            }
            yield cls(
                settings,
                clients,
                sessions=SessionCodec.from_settings(settings.session),
                breakers=breakers,
                caches=caches,
                secret=secret,
                tracer=tracer,
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

    # Loaders are made on first use: most requests touch one or two sources.

    @cached_property
    def flarum_loaders(self) -> FlarumLoaders:
        return FlarumLoaders(lambda: self.flarum)

    @cached_property
    def moodle_loaders(self) -> MoodleLoaders:
        return MoodleLoaders(lambda: self.moodle)

    @cached_property
    def civicrm_loaders(self) -> CivicrmLoaders:
        return CivicrmLoaders(lambda: self.civicrm)

    @cached_property
    def elgg_loaders(self) -> ElggLoaders:
        return ElggLoaders(lambda: self.elgg)

    @cached_property
    def eqsash_loaders(self) -> EqsashLoaders:
        return EqsashLoaders(lambda: self.eqsash)

    @cached_property
    def people_loaders(self) -> PeopleLoaders:
        return PeopleLoaders(
            flarum_site=self._connect("flarum"),
            flarum_own=self.flarum_actor,
            moodle_site=self._connect("moodle"),
            civicrm_site=self._connect("civicrm"),
            elgg_site=self._connect("elgg"),
            eqsash_site=self._connect("eqsash"),
            fold_gmail=self.settings.people.fold_gmail,
        )

    def _connect(self, source: str) -> Callable[[], Any] | None:
        """How to reach `source` as the caller, or None: not configured, or no identity there."""
        if source not in self.settings.sources.configured() or not self.has_identity(source):
            return None
        return lambda: getattr(self, source)

    async def once(self, key: str, make: Callable[[], Awaitable[T]]) -> T:
        """Run `make` once per request for `key`; later callers share its result."""
        if key not in self._once:
            self._once[key] = asyncio.ensure_future(make())
        result: T = await asyncio.shield(self._once[key])
        return result

    async def flarum_actor(self) -> Any:
        """The caller's own Flarum account (None for a guest), asked once per request."""
        forum = await self.once("flarum.forum", lambda: self.flarum.forum())
        return forum.actor

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

    @cached_property
    def flarum(self) -> Flarum:
        """Flarum as this caller: their token, else the service key if allowed, else a guest."""
        return self.flarum_as(self.credentials.token("flarum"))

    def flarum_as(self, token: str | None) -> Flarum:
        settings = self.settings.sources.flarum
        if settings is None:
            raise Unavailable("flarum", "Flarum is not configured on this gateway")
        if token:
            auth, identity = FlarumAuth(token=token), f"token:{token}"
        elif settings.allow_service_fallback:
            auth = FlarumAuth(api_key=settings.api_key, user_id=settings.api_user_id)
            identity = f"service:{settings.api_key}:{settings.api_user_id}"
        else:
            auth, identity = FlarumAuth(), "guest"
        upstream = self._upstream(settings, "flarum", auth, identity)
        return Flarum(upstream)

    @cached_property
    def moodle(self) -> Moodle:
        """Moodle as this caller. Moodle has no guest web services: no token, no call."""
        settings = self.settings.sources.moodle
        token = self.credentials.token("moodle")
        if token is None and settings is not None and settings.allow_service_fallback:
            token = settings.token
        if token is None:
            raise Unauthenticated("moodle", "Moodle needs a token: send X-Moodle-Token")
        return self.moodle_as(token)

    def moodle_as(self, token: str | None) -> Moodle:
        settings = self.settings.sources.moodle
        if settings is None:
            raise Unavailable("moodle", "Moodle is not configured on this gateway")
        upstream = self._upstream(settings, "moodle", MoodleAuth(token), f"token:{token or ''}")
        return Moodle(
            upstream,
            no_multicall=self.gateway.no_multicall,
            caller_key=upstream.caller_key,
        )

    @cached_property
    def civicrm(self) -> Civicrm:
        """CiviCRM as this caller. Its REST interface has no guests: no api_key, no call."""
        settings = self.settings.sources.civicrm
        api_key = self.credentials.token("civicrm")
        if api_key is None and settings is not None and settings.allow_service_fallback:
            api_key = settings.api_key
        if api_key is None:
            raise Unauthenticated("civicrm", "CiviCRM needs an api key: send X-Civicrm-Api-Key")
        return self.civicrm_as(api_key)

    def civicrm_as(self, api_key: str | None) -> Civicrm:
        settings = self.settings.sources.civicrm
        if settings is None:
            raise Unavailable("civicrm", "CiviCRM is not configured on this gateway")
        auth = CivicrmAuth(settings.site_key, api_key)
        upstream = self._upstream(settings, "civicrm", auth, f"api_key:{api_key}")
        style: ApiStyle = "q" if settings.api_style == "q" else "entity"
        return Civicrm(upstream, rest_path=settings.rest_path, style=style)

    @cached_property
    def elgg(self) -> Elgg:
        """Elgg as the gateway's application key, and as this caller where they sent a token."""
        return self.elgg_as(self.credentials.token("elgg"))

    def elgg_as(self, token: str | None) -> Elgg:
        settings = self.settings.sources.elgg
        if settings is None:
            raise Unavailable("elgg", "Elgg is not configured on this gateway")
        auth = ElggAuth(
            api_key=settings.api_key,
            secret=settings.secret,
            algorithm=settings.hmac_algorithm,
            variant="legacy" if settings.hmac_variant == "legacy" else "standard",
            user_token=token,
        )
        identity = f"token:{token}" if token else "application"
        upstream = self._upstream(settings, "elgg", auth, identity)
        return Elgg(
            upstream,
            methods=self.gateway.elgg_methods,
            profile=settings.methods,
            overrides=settings.overrides,
        )

    @cached_property
    def eqsash(self) -> Eqsash:
        """Eqsash as this caller, or anonymously: it has no service identity to fall back on."""
        return self.eqsash_as(self.credentials.token("eqsash"))

    def eqsash_as(self, token: str | None) -> Eqsash:
        settings = self.settings.sources.eqsash
        if settings is None:
            raise Unavailable("eqsash", "Eqsash is not configured on this gateway")
        auth = EqsashAuth(settings.api_key, token=token, session_name=settings.session_name)
        upstream = self._upstream(settings, "eqsash", auth, f"token:{token}" if token else "guest")
        return Eqsash(upstream, path=settings.path, get_methods=settings.get_methods)
