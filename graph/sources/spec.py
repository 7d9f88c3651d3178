"""What the graph needs to know about one legacy system, in one place.

A source module (`graph/sources/eqsash/source.py`, …) fills one `SourceSpec`; the registry in
`graph/sources/__init__.py` lists them. Everything that would otherwise name a source (the
caller headers, making a connector act as the caller, its loaders, `/readyz`, `login`, finding a
person, the viewer, the demo) asks the registry instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

import httpx

from connectors.http import Upstream
from connectors.memory import Recollection
from graph.doctor.report import Need
from graph.sources.settings import SourceSettings

__all__ = [
    "Diagnose",
    "Memory",
    "PeopleLookup",
    "Reach",
    "Request",
    "SignedIn",
    "SourceSpec",
    "caller_only",
]

SettingsT = TypeVar("SettingsT", bound=SourceSettings)
SiteT = TypeVar("SiteT")
LoadersT = TypeVar("LoadersT")


@dataclass(frozen=True)
class Reach:
    """How a source module reaches its system for one request: `upstream(auth, identity)`, the
    shared client with this request's limits, stats and cache, acting as `identity` (a
    credential, kept only as a keyed hash), and what the gateway remembers for the source."""

    upstream: Callable[[httpx.Auth, str], Upstream]
    memory: Recollection | None = None


@dataclass(frozen=True)
class Memory:
    """A source remembers something per site or caller between requests (`Reach.memory`)."""

    size: int
    ttl_s: float


@dataclass(frozen=True)
class SignedIn:
    """What a source's own login answered."""

    token: str
    expires_at: datetime | None = None
    user_id: str | None = None
    """Whose token it is, where the login says so (Flarum, Eqsash)."""


@dataclass(frozen=True)
class PeopleLookup:
    """How a source finds accounts by e-mail address, as the caller."""

    find: Callable[[Any, list[str]], Awaitable[Sequence[Any]]]
    """The accounts with these addresses (the connector acting as the caller, the addresses)."""
    one_at_a_time: bool = False
    """The API takes one address a call: `find` gets one, and the calls run concurrently."""
    own: Callable[[], Awaitable[Any]] | None = None
    """Where the source refuses the caller a search: their own account, so that at least that
    links (set per request by `people`)."""


Diagnose = Callable[
    [str, Any, httpx.AsyncClient, Sequence[str], Sequence[Need]], Awaitable[Sequence[Any]]
]
"""A source's doctor: its name, settings, a client that reaches it, the caller tokens given
(`--as`) and its `needs`; answers `graph.doctor.report.Check`s."""


@dataclass(frozen=True)
class SourceSpec(Generic[SettingsT, SiteT, LoadersT]):
    name: str
    """The configuration section and the first part of global ids: `[sources.<name>]`."""
    label: str
    """How people write the system's name, for messages."""
    header: str
    """The request header that carries the caller's own credential."""
    settings: type[SettingsT]
    """Its `[sources.<name>]` settings, defined beside it (`SourcesSettings` in `graph/config.py`
    lists them, typed, for the rest of the code)."""
    credential: Callable[[SettingsT | None, str | None], str | None]
    """The credential a request acts with, from the one the caller sent (None: none sent): the
    service's where the operator allows it, and `Unauthenticated` where the system has no
    guests."""
    connect: Callable[[Reach, SettingsT, str | None], SiteT]
    """The connector acting with a credential (None: as a guest, or the gateway's own key)."""
    loaders: Callable[[Callable[[], SiteT]], LoadersT]
    """The per-request loaders, over a way to reach the connector."""
    ping: Callable[[str, SettingsT, httpx.AsyncClient], Awaitable[str]]
    """Reach the system as the gateway's configured identity, say what answered, raise its
    `UpstreamError` when it cannot (`/readyz`, `check-config`)."""
    login: Callable[[SiteT, SettingsT, str, str], Awaitable[SignedIn]]
    """The system's own login with a username and password."""
    account: Callable[[SiteT, str | None], Awaitable[Any]]
    """The account a connector acts as (`user_id` from its login where known); None if none."""
    people: Callable[[Request], PeopleLookup]
    """How a person's account is found on this source, for one request."""
    viewer: Callable[[Request], Awaitable[Any]]
    """The caller's own account, once per request (the caller has an identity there)."""
    demo_port: int
    """Where `legacygraph demo` serves the source's simulator."""
    over_simulator: Callable[[str], SettingsT]
    """The settings that reach the source's simulator at a URL, with its demo keys."""
    memory: Memory | None = None
    """What the gateway keeps for the source's connector between requests, if anything."""
    needs: tuple[Need, ...] = ()
    """What each of its GraphQL fields needs upstream (`legacygraph doctor` checks them)."""
    diagnose: Diagnose | None = None
    """Its read-only checks for `legacygraph doctor`, beyond `ping`; None: `ping` only."""


T = TypeVar("T")


class Request(Protocol):
    """What a source module asks of the request it serves (`graph.context.Context` is one):
    its connector as the caller, its loaders, and a result shared by the whole request."""

    def site(self, spec: SourceSpec[Any, SiteT, Any]) -> SiteT: ...

    def loaders(self, spec: SourceSpec[Any, Any, LoadersT]) -> LoadersT: ...

    async def once(self, key: str, make: Callable[[], Awaitable[T]]) -> T: ...


def caller_only(settings: SourceSettings | None, token: str | None) -> str | None:
    """The credential the caller sent, or none (a guest, or the gateway's own key)."""
    return token
