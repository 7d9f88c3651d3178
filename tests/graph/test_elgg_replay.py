"""Whole operations through the gateway, answered by the recorded Elgg 5.1.11 running this
project's plugin (`integrations/elgg/legacygraph/`).

The gateway runs in process with its Elgg client's network replaced by `RecordedElgg`: every
upstream request must be one the real site was recorded answering for that user, signed as Elgg 5
checks it. Each operation of `graph.jsonl` gives the answer and costs the request count the real
site saw.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from connectors.errors import Unauthenticated
from graph.config import Settings
from graph.schema.ids import GlobalId
from graph.server.health import ping
from graph.sources.elgg.settings import ElggSettings
from graph.sources.sections import SourcesSettings
from tests.realworld import exchanges, gateway_over
from tests.recorded_elgg import CORPUS, RecordedElgg, graph_cases, ids, token_of

API_KEY = "a" * 40
SECRET = "replay-secret-0123456789abcdef01234567"


class Replayed:
    def __init__(self, site: RecordedElgg, client: httpx.AsyncClient) -> None:
        self.site = site
        self.client = client

    async def run(self, user: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        headers = {"X-Legacygraph-Trace": "1"}
        if not query.lstrip().startswith("mutation($u"):
            headers["X-Elgg-Token"] = token_of(user)
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        body: dict[str, Any] = response.json()
        assert self.site.missing == [], "the gateway asked what the real site was not asked"
        assert self.site.refused == [], "a request the real site would refuse"
        return body


@pytest.fixture
async def recorded() -> AsyncIterator[Replayed]:
    site = RecordedElgg(SECRET)
    elgg = ElggSettings(url="http://elgg.test", api_key=API_KEY, secret=SECRET, cache_ttl_s=0)
    async with gateway_over(Settings(sources=SourcesSettings(elgg=elgg)), "elgg", site) as client:
        yield Replayed(site, client)


def gid(guid: int) -> str:
    return GlobalId("elgg", "ElggGroup", str(guid)).encode()


async def test_every_recorded_operation_answers_as_on_the_real_site(recorded: Replayed) -> None:
    """In recording order (bobby joins Gardeners before its activity is read): the same answer,
    and the same Elgg methods, as many requests as the real site saw."""
    passwords = {"bobby": "Pass-word-1", "alice": "Pass-word-1"}
    for case in graph_cases():
        if "query" not in case:
            continue
        variables = dict(case["variables"])
        if variables.get("p") == "<password>":
            variables["p"] = passwords[case["as"]]
        before = len(recorded.site.requests)
        body = await recorded.run(case["as"], case["query"], variables)
        upstream = body.pop("extensions")["upstream"]["elgg"]
        login = (body.get("data") or {}).get("login")
        if login:
            assert login["token"] == token_of(case["as"])
            login.update(token="<token>", expiresAt="<time>")
        assert body == case["answer"], case["case"]
        assert recorded.site.methods()[before:] == case["calls"], case["case"]
        assert upstream["requests"] == case["requests"], case["case"]


async def test_a_members_groups_take_two_pages(recorded: Replayed) -> None:
    """bobby is in 53 groups; the plugin pages by `limit`/`offset`, the gateway asks 50 a page."""
    body = await recorded.run("bobby", "{ viewer { elgg { username email groups { name } } } }", {})
    viewer = body["data"]["viewer"]["elgg"]
    assert (viewer["username"], viewer["email"]) == ("bobby", "bobby@example.org")
    assert len(viewer["groups"]) == 53
    pages = [r for r in recorded.site.requests if b"user.get_groups" in r.url.query]
    assert [(r.url.params["limit"], r.url.params["offset"]) for r in pages] == [
        ("50", "0"),
        ("50", "50"),
    ]


async def test_a_closed_groups_members_as_a_member_and_not(recorded: Replayed) -> None:
    query = "query($g: ID!) { group(id: $g) { members(first: 5) { nodes { username } } } }"
    board = {"g": gid(ids()["BOARD_GUID"])}
    member = await recorded.run("alice", query, board)
    assert member["data"]["group"]["members"]["nodes"] == [{"username": "alice"}]
    outsider = await recorded.run("bobby", query, board)
    assert outsider["data"]["group"]["members"] is None
    (error,) = outsider["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"


async def test_a_person_by_email_whose_address_the_site_hides(recorded: Replayed) -> None:
    """Finding E5: the plugin hides alice's address from bobby; the method searched by it, so the
    account is hers."""
    (exchange,) = [c for c in graph_cases() if c["case"] == "a person by e-mail, someone else"]
    (found,) = [
        e["response"]["result"]
        for e in exchanges(CORPUS)
        if e["elgg_method"] == "user.get_user_by_email" and e["case"] == exchange["case"]
    ]
    assert [u["username"] for u in found] == ["alice"] and "email" not in found[0]
    body = await recorded.run("bobby", exchange["query"], {})
    assert body["data"]["person"]["elggUser"] == {
        "username": "alice",
        "displayName": "Alice Example",
        "email": "alice@example.org",
    }
    assert recorded.site.methods() == ["system.api.list", "user.get_user_by_email"]


@pytest.mark.parametrize(("secret", "expected"), [(SECRET, "ok"), ("0" * 40, "refused")])
async def test_readiness_makes_one_signed_call(secret: str, expected: str) -> None:
    """Finding E6: system.api.list needs no API authentication on Elgg 5, so readiness also calls
    a method that does; a refusal names the likely causes."""
    site = RecordedElgg(SECRET)
    settings = ElggSettings(url="http://elgg.test", api_key=API_KEY, secret=secret)
    async with httpx.AsyncClient(transport=httpx.MockTransport(site)) as client:
        if expected == "ok":
            line = await ping("elgg", settings, client)
            assert line == "reachable, signature ok (group.get_groups), 12 methods exposed"
        else:
            with pytest.raises(Unauthenticated) as caught:
                await ping("elgg", settings, client)
            message = caught.value.message
            assert "group.get_groups" in message and "'Missing API key'" in message
            assert "the secret" in message
            assert "sha1 or sha256" in message and secret not in message
    assert site.methods() == ["system.api.list", "group.get_groups"]
    assert site.missing == []
