"""What the graph needs to know about one legacy system, in one place.

A source module (`graph/sources/eqsash/source.py`, …) fills one `SourceSpec`; the registry in
`graph/sources/__init__.py` lists them. Everything that would otherwise name a source (the
caller headers, making a connector act as the caller, its loaders, `/readyz`, `login`, finding a
person, the viewer, the demo) asks the registry instead.

The request goes one way: the request context (`graph/context.py`) builds each source's
connector from plain parts (`acting`, then `connect` over an `Upstream` it makes), and hands the
source's loaders a `Connection` that makes it. Reads whose answers bring along records for later
(lists, items with their authors or contacts) go through the loaders, which alone keep what came
along; resolvers call the connector themselves only where nothing of the answer is kept for
later in the request (counts, writes, a message sent, a one-off listing of groups). Nothing
here calls back into the context.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

import httpx

from connectors.http import Upstream
from connectors.memory import Recollection
from graph.doctor.report import Need
from graph.sources.settings import SourceSettings

__all__ = [
    "Acting",
    "Connection",
    "Diagnose",
    "Memory",
    "PeopleLookup",
    "SignedIn",
    "SourceSpec",
    "caller_only",
]

SettingsT = TypeVar("SettingsT", bound=SourceSettings)
SiteT = TypeVar("SiteT")
SiteT_co = TypeVar("SiteT_co", covariant=True)
LoadersT = TypeVar("LoadersT")


@dataclass(frozen=True)
class Acting:
    """Who a source's requests act as: the auth that signs them, and `identity`, which names
    that identity and holds its credential (the gateway keeps it only as a keyed hash: the
    `caller_key` of the `Upstream`, under which cached answers and memory are kept apart)."""

    auth: httpx.Auth = field(repr=False)
    identity: str = field(repr=False)


class Connection(Protocol[SiteT_co]):
    """One source's connector for one request, made on first use (making it may refuse the
    caller: no credential where the system has no guests). `graph.context.Connector` is one."""

    def site(self) -> SiteT_co: ...


@dataclass(frozen=True)
class Memory:
    """A source remembers something per site or caller between requests: the gateway keeps
    it (in this process, or in Redis) and passes it to `SourceSpec.connect`."""

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
    """How a source finds accounts by e-mail address, as the caller (made per request by
    `SourceSpec.people` from the source's loaders)."""

    find: Callable[[list[str]], Awaitable[Sequence[Any]]]
    """The accounts with these addresses."""
    one_at_a_time: bool = False
    """The API takes one address a call: `find` gets one, and the calls run concurrently."""
    own: Callable[[], Awaitable[Any]] | None = None
    """Where the source refuses the caller a search: their own account, so that at least that
    links."""


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
    """Its `[sources.<name>]` settings, in `graph/sources/<name>/settings.py` (`SourcesSettings`
    in `graph/sources/sections.py` lists them, typed, for the rest of the code)."""
    credential: Callable[[SettingsT | None, str | None], str | None]
    """The credential a request acts with, from the one the caller sent (None: none sent): the
    service's where the operator allows it, and `Unauthenticated` where the system has no
    guests."""
    acting: Callable[[SettingsT, str | None], Acting]
    """The auth and identity a credential acts as (None: as a guest, or the gateway's own
    key)."""
    connect: Callable[[Upstream, SettingsT, Recollection | None], SiteT]
    """The connector over an `Upstream` (made by the request context: the source's shared
    client, its limits, the request's stats, the cache, and the auth and caller key of
    `acting`), with its settings and the source's memory (None where it keeps none)."""
    loaders: Callable[[Connection[SiteT]], LoadersT]
    """The per-request loaders, over the request's connection to the source."""
    ping: Callable[[str, SettingsT, httpx.AsyncClient], Awaitable[str]]
    """Reach the system as the gateway's configured identity, say what answered, raise its
    `UpstreamError` when it cannot (`/readyz`, `check-config`)."""
    login: Callable[[SiteT, SettingsT, str, str], Awaitable[SignedIn]]
    """The system's own login with a username and password."""
    account: Callable[[SiteT, str | None], Awaitable[Any]]
    """The account a connector acts as (`user_id` from its login where known); None if none."""
    people: Callable[[LoadersT], PeopleLookup]
    """How a person's account is found on this source, through the request's loaders."""
    viewer: Callable[[LoadersT], Awaitable[Any]]
    """The caller's own account, once per request, through the request's loaders (the caller
    has an identity there)."""
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


def caller_only(settings: SourceSettings | None, token: str | None) -> str | None:
    """The credential the caller sent, or none (a guest, or the gateway's own key)."""
    return token
