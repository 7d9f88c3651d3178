"""How one request reaches one source: the source's connector acting as the caller, made from
plain parts."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from connectors.errors import Unavailable
from connectors.http import CallStats, Resilience, Upstream
from graph.credentials import Credentials
from graph.gateway import Gateway
from graph.sources import SourceSpec

__all__ = ["Connector"]

SiteT = TypeVar("SiteT")


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
