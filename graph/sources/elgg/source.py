"""Elgg (social groups): the gateway's signed application key, plus the caller's user token."""

from __future__ import annotations

from typing import Any

import httpx
from aiodataloader import DataLoader

from connectors import elgg
from connectors.elgg import Elgg
from connectors.http import Upstream
from connectors.memory import Recollection
from graph.doctor.report import Need
from graph.loaders import Once, each, loader
from graph.sources.elgg.doctor import USER_TOKEN, diagnose
from graph.sources.elgg.settings import ElggSettings, signing
from graph.sources.spec import (
    Acting,
    Connection,
    Memory,
    PeopleLookup,
    SignedIn,
    SourceSpec,
    caller_only,
)

__all__ = ["ELGG", "ElggLoaders"]


def acting(settings: ElggSettings, token: str | None) -> Acting:
    """As the gateway's application key, and as the caller where they sent a token."""
    return Acting(signing(settings, token), f"token:{token}" if token else "application")


def connect(upstream: Upstream, settings: ElggSettings, memory: Recollection | None) -> Elgg:
    """Its memory: what each site's `system.api.list` said it exposes, for ten minutes."""
    return Elgg(upstream, memory=memory, profile=settings.methods, overrides=settings.overrides)


async def ping(name: str, settings: ElggSettings, client: httpx.AsyncClient) -> str:
    """`system.api.list`, then one signed call of a method that requires API authentication
    (the list itself needs none); a refusal names the likely causes."""
    site = Elgg(Upstream(name, client, settings.url, signing(settings)))
    exposed = await site.exposed()
    checked = await site.check_signature()
    if checked is None:
        return (
            f"reachable, {len(exposed)} methods exposed; signature unchecked: no method"
            " needs API authentication without a user"
        )
    return f"reachable, signature ok ({checked}), {len(exposed)} methods exposed"


async def login(site: Elgg, settings: ElggSettings, username: str, password: str) -> SignedIn:
    token = await site.get_token(username, password)
    return SignedIn(token.token, expires_at=token.expires_at)


async def account(site: Elgg, user_id: str | None) -> Any:
    return await site.profile()


def people(loaders: ElggLoaders) -> PeopleLookup:
    return PeopleLookup(find=loaders.users_by_email, one_at_a_time=True)


def over_simulator(url: str) -> ElggSettings:
    from simulators.elgg import API_KEY, SECRET

    return ElggSettings(url=url, api_key=API_KEY, secret=SECRET)


class ElggLoaders:
    """Elgg has no batch calls: each distinct call goes once per request, concurrently (the
    source's connection pool keeps it under `max_concurrency`)."""

    def __init__(self, connection: Connection[elgg.Elgg]) -> None:
        self._elgg = connection.site
        self.groups: DataLoader[int, elgg.ElggGroup] = loader(self._groups)
        self.members: DataLoader[tuple[int, int, int], list[elgg.ElggUser]] = loader(self._members)
        self.user_groups: DataLoader[str, list[elgg.ElggGroup]] = loader(self._user_groups)
        self.profiles: DataLoader[str, elgg.ElggUser] = loader(self._profiles)
        self.river: DataLoader[tuple[int, int], list[elgg.Activity]] = loader(self._river)
        self._viewer = Once(lambda: self._elgg().profile())

    async def viewer(self) -> elgg.ElggUser:
        """The caller's own profile, asked once per request."""
        return await self._viewer()

    async def users_by_email(self, emails: list[str]) -> list[elgg.ElggUser]:
        """The users with the one address in `emails` (`people`: one address a call)."""
        return await self._elgg().users_by_email(emails[0])

    async def _groups(self, guids: list[int]) -> list[elgg.ElggGroup | BaseException]:
        return await each(guids, self._elgg().group)

    async def _members(
        self, keys: list[tuple[int, int, int]]
    ) -> list[list[elgg.ElggUser] | BaseException]:
        site = self._elgg()
        return await each(keys, lambda k: site.members(k[0], offset=k[1], limit=k[2]))

    async def _profiles(self, usernames: list[str]) -> list[elgg.ElggUser | BaseException]:
        return await each(usernames, self._elgg().profile)

    async def _user_groups(
        self, usernames: list[str]
    ) -> list[list[elgg.ElggGroup] | BaseException]:
        return await each(usernames, self._elgg().user_groups)

    async def _river(
        self, keys: list[tuple[int, int]]
    ) -> list[list[elgg.Activity] | BaseException]:
        site = self._elgg()
        return await each(keys, lambda k: site.river(group_guid=k[0], limit=k[1]))


NEEDS = (
    Need("Viewer.elgg", ("profile",), USER_TOKEN),
    Need("Query.groups", ("groups",)),
    Need("Query.group", ("group",)),
    Need("ElggGroup.members", ("members",)),
    Need("ElggGroup.activity", ("activity",)),
    Need("Person.elggUser", ("user_by_email",)),
    Need("Person.groups", ("user_groups",)),
    Need("Mutation.joinGroup", ("join",), USER_TOKEN),
)
"""The roles of the method profile each field calls (`connectors/elgg/profiles.py`); the doctor
names the site's method for each."""

ELGG = SourceSpec(
    name="elgg",
    label="Elgg",
    header="X-Elgg-Token",
    settings=ElggSettings,
    credential=caller_only,
    acting=acting,
    connect=connect,
    loaders=ElggLoaders,
    ping=ping,
    login=login,
    account=account,
    people=people,
    viewer=ElggLoaders.viewer,
    demo_port=9103,
    over_simulator=over_simulator,
    memory=Memory(size=1_000, ttl_s=600),
    needs=NEEDS,
    diagnose=diagnose,
)
