"""One direction from the request to the sources: the request context makes each source's
connector from plain parts (`Connector`), hands the loaders that connector, and the loaders alone
keep what an answer brings along."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from connectors.errors import Unauthenticated, Unavailable
from connectors.flarum import Flarum, FlarumAuth
from connectors.http import CallStats, Upstream
from graph.config import Settings
from graph.connector import Connector
from graph.context import Context
from graph.credentials import Credentials
from graph.gateway import Gateway
from graph.people import PeopleLoaders
from graph.sources import ELGG, FLARUM, MOODLE, SOURCES
from graph.sources.civicrm.source import CivicrmLoaders
from graph.sources.flarum.settings import FlarumSettings
from graph.sources.flarum.source import FlarumLoaders
from graph.sources.moodle.settings import MoodleSettings
from graph.sources.sections import SourcesSettings
from graph.sources.spec import Acting, PeopleLookup
from tests.connectors.recording import Recorder

JSONAPI = {"content-type": "application/vnd.api+json"}
ACTOR = {"type": "users", "id": "1", "attributes": {"username": "ada", "joinTime": "2024-01-01"}}


def answer(request: httpx.Request) -> httpx.Response:
    """A forum whose caller is user 1, with one discussion by user 2 in tag 1."""
    if request.url.path == "/api":
        body: dict[str, Any] = {
            "data": {
                "type": "forums",
                "id": "1",
                "attributes": {"title": "Forum"},
                "relationships": {"actor": {"data": {"type": "users", "id": "1"}}},
            },
            "included": [ACTOR],
        }
    elif request.url.path == "/api/discussions":
        body = {
            "data": [
                {
                    "type": "discussions",
                    "id": "7",
                    "attributes": {"title": "Food bank", "createdAt": "2024-05-01T10:00:00+00:00"},
                    "relationships": {
                        "user": {"data": {"type": "users", "id": "2"}},
                        "tags": {"data": [{"type": "tags", "id": "1"}]},
                    },
                }
            ],
            "included": [
                {"type": "users", "id": "2", "attributes": {"username": "bea"}},
                {"type": "tags", "id": "1", "attributes": {"name": "Events", "slug": "events"}},
            ],
            "links": {},
        }
    else:
        body = {"data": []}
    return httpx.Response(200, headers=JSONAPI, content=json.dumps(body).encode())


@pytest.fixture
async def forum() -> AsyncIterator[tuple[Gateway, Recorder]]:
    recorder = Recorder(answer)
    settings = Settings(
        sources=SourcesSettings(
            flarum=FlarumSettings(url="http://forum.test/"),
            moodle=MoodleSettings(url="http://moodle.test/"),
        )
    )
    transports = {name: httpx.MockTransport(recorder) for name in ("flarum", "moodle")}
    async with Gateway.open(settings, None, transports) as gateway:
        yield gateway, recorder


async def test_the_context_makes_a_connector_once_from_the_gateways_parts(
    forum: tuple[Gateway, Recorder],
) -> None:
    gateway, recorder = forum
    context = Context(gateway, Credentials({"flarum": "caller-token"}))
    site = context.site(FLARUM)
    assert site is context.site(FLARUM) is context.connector(FLARUM).site()
    assert isinstance(site, Flarum)
    upstream = site.upstream
    assert upstream.client is gateway.clients["flarum"]
    assert upstream.base_url == "http://forum.test/"
    assert upstream.stats is context.stats
    assert upstream.caller_key == gateway.caller_key("flarum", "token:caller-token")
    assert "caller-token" not in upstream.caller_key
    assert recorder.requests == []  # made, not yet used

    await site.tags()
    # The source's memory reached the connector: a caller's token is checked alongside.
    assert sorted(r.url.path for r in recorder.requests) == ["/api", "/api/tags"]
    assert {r.headers["authorization"] for r in recorder.requests} == {"Token caller-token"}
    assert context.stats.requests == {"flarum": 2}


async def test_a_guest_is_not_checked_and_acts_with_no_credential(
    forum: tuple[Gateway, Recorder],
) -> None:
    gateway, recorder = forum
    context = Context(gateway, Credentials())
    site = context.site(FLARUM)
    assert site.upstream.caller_key == gateway.caller_key("flarum", "guest")
    await site.tags()
    assert [r.url.path for r in recorder.requests] == ["/api/tags"]
    assert "authorization" not in recorder.requests[0].headers


async def test_site_as_acts_with_another_credential_and_leaves_the_callers(
    forum: tuple[Gateway, Recorder],
) -> None:
    gateway, _ = forum
    context = Context(gateway, Credentials({"flarum": "caller-token"}))
    fresh = context.site_as(FLARUM, "new-token")
    assert fresh is not context.site(FLARUM)
    assert fresh.upstream.caller_key == gateway.caller_key("flarum", "token:new-token")
    assert context.site(FLARUM).upstream.caller_key == gateway.caller_key(
        "flarum", "token:caller-token"
    )


async def test_loaders_are_made_without_reaching_the_source(
    forum: tuple[Gateway, Recorder],
) -> None:
    gateway, recorder = forum
    context = Context(gateway, Credentials())  # Moodle has no guests
    loaders = context.loaders(MOODLE)
    assert loaders is context.loaders(MOODLE)
    with pytest.raises(Unauthenticated, match="Moodle needs a token"):
        await loaders.users.load(1)
    with pytest.raises(Unavailable, match="Elgg is not configured"):
        context.site(ELGG)
    assert recorder.requests == []


async def test_a_connector_takes_plain_parts() -> None:
    settings = Settings(sources=SourcesSettings(flarum=FlarumSettings(url="http://forum.test/")))
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        gateway = Gateway(settings, {"flarum": client})
        stats = CallStats()
        connector = Connector(FLARUM, gateway, Credentials({"flarum": "t"}), stats)
        site = connector.site()
        assert site is connector.site()
        assert site.upstream.caller_key == gateway.caller_key("flarum", "token:t")
        assert site.upstream.stats is stats
        assert connector.acting_as("u") is not site


@pytest.mark.parametrize(
    ("name", "token", "identity"),
    [
        ("flarum", "t", "token:t"),
        ("flarum", None, "guest"),
        ("moodle", "t", "token:t"),
        ("civicrm", "t", "api_key:t"),
        ("elgg", "t", "token:t"),
        ("elgg", None, "application"),
        ("eqsash", "t", "token:t"),
        ("eqsash", None, "guest"),
    ],
)
def test_each_source_names_the_identity_it_acts_as(
    name: str, token: str | None, identity: str
) -> None:
    """The identity is what cached answers and memory are kept under (a keyed hash of it, in
    Redis shared by replicas): it stays what it was."""
    spec = SOURCES[name]
    acting = spec.acting(spec.over_simulator("http://source.test/"), token)
    assert acting.identity == identity
    assert isinstance(acting.auth, httpx.Auth)


def test_the_service_identity_names_its_key() -> None:
    settings = FlarumSettings(
        url="http://forum.test/", api_key="k" * 40, api_user_id=3, allow_service_fallback=True
    )
    assert FLARUM.acting(settings, None).identity == f"service:{'k' * 40}:3"


class Reached:
    """A connection to a stand-in connector (what `Connector` is to the loaders)."""

    def __init__(self, site: Any) -> None:
        self._site = site

    def site(self) -> Any:
        return self._site


async def test_flarum_loaders_keep_what_a_list_brought_along() -> None:
    recorder = Recorder(answer)
    async with httpx.AsyncClient(transport=httpx.MockTransport(recorder)) as client:
        upstream = Upstream("flarum", client, "http://forum.test/", FlarumAuth())
        loaders = FlarumLoaders(Reached(Flarum(upstream)))
        await keeps_what_came_along(loaders)
    assert [r.url.path for r in recorder.requests] == ["/api/discussions", "/api"]


async def keeps_what_came_along(loaders: FlarumLoaders) -> None:
    assert loaders.users.held("2") is None
    page = await loaders.discussion_list(offset=0, limit=1, include=("user", "tags"))
    assert [d.id for d in page.items] == ["7"]
    user = loaders.users.held("2")
    tag = loaders.tags.held("1")
    assert user is not None and user.username == "bea"
    assert tag is not None and tag.name == "Events"

    viewer = await loaders.viewer()
    assert viewer.username == "ada"
    assert await loaders.full_users.load("1") is viewer  # kept: no GET /api/users/1


class Memberships:
    def __init__(self) -> None:
        self.changed: list[tuple[str, int, list[int]]] = []

    async def add_to_group(self, group: int, contacts: list[int]) -> int:
        self.changed.append(("added", group, contacts))
        return 1

    async def remove_from_group(self, group: int, contacts: list[int]) -> int:
        self.changed.append(("removed", group, contacts))
        return 1


async def test_civicrm_loaders_forget_what_a_membership_change_made_stale() -> None:
    site = Memberships()
    loaders = CivicrmLoaders(Reached(site))
    loaders.members_of_group.prime(5, [1, 2])
    loaders.groups_of_contact.prime(3, [4])
    loaders.members_of_group.prime(6, [3])
    await loaders.add_to_group(5, 3)
    assert site.changed == [("added", 5, [3])]
    assert loaders.members_of_group.held(5) is None
    assert loaders.groups_of_contact.held(3) is None
    assert loaders.members_of_group.held(6) == [3]


@dataclass(frozen=True)
class Account:
    id: int
    email: str | None


async def test_people_keep_the_accounts_a_list_brought_and_find_none_without_identity() -> None:
    asked: list[list[str]] = []

    async def find(emails: list[str]) -> list[Account]:
        asked.append(emails)
        return []

    people = PeopleLoaders({"civicrm": PeopleLookup(find=find), "moodle": None}, fold_gmail=False)

    async def listing() -> list[Account]:
        return [Account(1, "Ada@Example.org"), Account(2, "ada@example.org"), Account(3, None)]

    found = await people.listed("civicrm", listing())
    assert [a.id for a in found] == [1, 2, 3]
    assert await people.of("civicrm").load("ada@example.org") == Account(1, "Ada@Example.org")
    assert [a.id for a in people.every("civicrm", "ADA@example.org")] == [1, 2]
    assert await people.of("moodle").load("ada@example.org") is None
    assert asked == []  # the list answered for the address; no source was asked


def test_who_a_source_acts_as_keeps_its_credential_out_of_its_repr() -> None:
    acting = Acting(FlarumAuth(token="s3cret-token"), "token:s3cret-token")
    assert "s3cret" not in repr(acting)
