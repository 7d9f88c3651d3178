"""What one GraphQL request runs with: the caller's credentials, the shared per-source HTTP
clients, connectors acting as that caller, and a fresh set of loaders.

Made in one direction: the context builds each source's connector (`Connector`, from the
source's spec, the gateway and the request's stats) and its loaders over it; neither the source
modules nor the loaders call back into the context."""

from __future__ import annotations

from functools import cached_property
from typing import Any, TypeVar

from connectors.http import CallStats
from graph.config import Settings
from graph.connector import Connector
from graph.credentials import Credentials
from graph.gateway import Gateway
from graph.people import PeopleLoaders
from graph.sources import SOURCES, SourceSpec

__all__ = ["Context"]

SiteT = TypeVar("SiteT")

LoadersT = TypeVar("LoadersT")


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
