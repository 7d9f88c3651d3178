"""The Elgg simulator states the facts of the real Elgg 5.1.11 (`tests/recordings/elgg-5.1.11/`,
numbered as in the notes kept with the real-site setup), and serves what the project's plugin
(`integrations/elgg/legacygraph/`) served there: the same fields, the same refusals. Raw HTTP,
no connector; requests use the API key by parameter (fact 7) unless a test is about the HMAC."""

from __future__ import annotations

import base64
import hmac
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote_plus, urlencode

import httpx
import pytest

from simulators.elgg import API_KEY, SECRET, create_app
from simulators.serve import serve_in_thread
from simulators.world import DEMO_PASSWORD, World
from tests.conftest import Simulator
from tests.realworld import exchanges
from tests.recorded_elgg import CORPUS, answer

PATH = "/services/api/rest/json/"


@pytest.fixture(scope="module")
def elgg(world: World) -> Iterator[Simulator]:
    app = create_app(world)
    with serve_in_thread(app) as url:
        yield Simulator(url, app)


def call(sim: Simulator, method: str, token: str | None = None, **params: Any) -> Any:
    query = {"method": method, "api_key": API_KEY, **params}
    if token:
        query["auth_token"] = token
    return httpx.get(f"{sim.url}{PATH}", params=query).json()


def token(sim: Simulator, username: str) -> str:
    answer = httpx.post(
        f"{sim.url}{PATH}?method=auth.gettoken",
        data={"username": username, "password": DEMO_PASSWORD},
    ).json()
    return str(answer["result"])


def recorded(method: str, case: str | None = None) -> Any:
    """The first successful answer the real site gave the gateway for `method`."""
    for exchange in exchanges(CORPUS):
        answered = exchange["elgg_method"] == method and exchange["response"]["status"] == 0
        if answered and case in (None, exchange["case"]):
            return exchange["response"]["result"]
    raise LookupError(method)


def test_fact_2_methods_are_keyed_by_verb_and_name(elgg: Simulator) -> None:
    real = answer("01_system.api.list").body["result"]
    listed = httpx.get(f"{elgg.url}{PATH}", params={"method": "system.api.list"}).json()
    assert {"POST:auth.gettoken", "GET:system.api.list"} <= set(listed["result"]) & set(real)
    for key in ("POST:auth.gettoken", "GET:system.api.list"):
        shown = listed["result"][key]
        assert set(shown) == set(real[key])
        assert (shown["require_api_auth"], shown["require_user_auth"]) == (False, False)


def test_elgg_4_keys_them_by_name(world: World) -> None:
    with serve_in_thread(create_app(world, method_keys="name")) as url:
        listed = httpx.get(f"{url}{PATH}", params={"method": "system.api.list"}).json()
    assert {"auth.gettoken", "group.join"} <= set(listed["result"])
    assert listed["result"]["group.join"]["call_method"] == "POST"


def test_fact_3_the_other_verb_is_not_implemented(elgg: Simulator) -> None:
    real = answer("04_auth.gettoken_as_GET").body
    assert call(elgg, "auth.gettoken") == real


def test_fact_4_a_wrong_password(elgg: Simulator) -> None:
    real = answer("03_auth.gettoken_badpassword").body
    sent = httpx.post(
        f"{elgg.url}{PATH}?method=auth.gettoken", data={"username": "ada.costa", "password": "x"}
    )
    assert sent.json() == real


def test_fact_6_a_method_that_needs_a_user(elgg: Simulator) -> None:
    real = answer("11_probe.user_without_token").body
    assert call(elgg, "user.get_profile") == real
    assert call(elgg, "user.get_profile", token="f" * 32) == real


def test_fact_7_the_api_key_by_parameter(elgg: Simulator) -> None:
    assert call(elgg, "group.get_groups", limit=1)["status"] == 0
    missing = httpx.get(f"{elgg.url}{PATH}", params={"method": "group.get_groups"}).json()
    assert missing == answer("20_probe.api_no_auth").body
    bad = httpx.get(
        f"{elgg.url}{PATH}", params={"method": "group.get_groups", "api_key": "0" * 40}
    ).json()
    assert bad == answer("22_probe.api_bad_api_key_param").body


def signed_get(url: str, method: str, algorithm: str) -> dict[str, Any]:
    query = urlencode({"method": method})
    moment, nonce = str(int(time.time())), "n0nce"
    digest = hmac.new(
        SECRET.encode(), (moment + nonce + API_KEY + query).encode(), algorithm
    ).digest()
    headers = {
        "X-Elgg-apikey": API_KEY,
        "X-Elgg-time": moment,
        "X-Elgg-nonce": nonce,
        "X-Elgg-hmac-algo": algorithm,
        "X-Elgg-hmac": quote_plus(base64.b64encode(digest).decode()),
    }
    return dict(httpx.get(f"{url}{PATH}?{query}", headers=headers).json())


@pytest.mark.parametrize("algorithm", ["sha1", "sha256"])
def test_fact_9_sha1_and_sha256_pass(elgg: Simulator, algorithm: str) -> None:
    assert signed_get(elgg.url, "group.get_groups", algorithm)["status"] == 0


@pytest.mark.parametrize("algorithm", ["md5", "sha384", "sha512"])
def test_facts_9_and_13_other_algorithms_are_refused_as_a_missing_key(
    elgg: Simulator, algorithm: str
) -> None:
    """With the default settings the key handler's message masks the HMAC handler's (26)."""
    refused = signed_get(elgg.url, "group.get_groups", algorithm)
    assert refused == answer("26_probe.api_hmac_md5").body


# What the plugin serves ---------------------------------------------------------------------


def test_a_profile_has_the_plugins_fields(elgg: Simulator, world: World) -> None:
    person = world.people[1]
    own = call(elgg, "user.get_profile", token(elgg, person.username))["result"]
    assert set(own) == set(recorded("user.get_profile"))  # email included for themself
    other = call(elgg, "user.get_profile", token(elgg, person.username), username="ada.costa")
    real_other = recorded("group.get_members", "an open group's members")[0]
    assert set(other["result"]) == set(real_other)  # alice seen by bobby: no email


def test_users_by_email_hide_other_users_addresses(elgg: Simulator, world: World) -> None:
    seeker, sought = world.people[1], world.people[2]
    found = call(elgg, "user.get_user_by_email", token(elgg, seeker.username), email=sought.email)[
        "result"
    ]
    real = recorded("user.get_user_by_email")
    assert [set(u) for u in found] == [set(u) for u in real]
    assert "email" not in found[0]


def test_groups_have_the_plugins_fields(elgg: Simulator) -> None:
    (group,) = call(elgg, "group.get_groups", limit=1)["result"]
    assert set(group) == set(recorded("group.get_groups")[0])
    assert set(call(elgg, "group.get", guid=group["guid"])["result"]) == set(group)


def test_a_closed_groups_members_and_joining_are_refused_as_the_plugin_does(
    elgg: Simulator, world: World
) -> None:
    closed = next(g for g in world.social_groups if not g.is_open)
    members = {p for g, p in world.social_members if g == closed.guid}
    outsider = next(p for p in world.people if p.id not in members and not p.is_admin)
    their = token(elgg, outsider.username)
    refusals = {
        e["case"]: e["response"]
        for e in exchanges(CORPUS)
        if e["response"]["status"] != 0 and e["elgg_method"] in ("group.get_members", "group.join")
    }
    assert (
        call(elgg, "group.get_members", their, guid=closed.guid)
        == refusals["a closed group's members, as someone else"]
    )
    joined = httpx.post(
        f"{elgg.url}{PATH}?method=group.join",
        data={"api_key": API_KEY, "auth_token": their, "guid": str(closed.guid)},
    ).json()
    assert joined == refusals["joining a closed group"]


def test_joining_answers_and_writes_a_river_item_as_the_plugin_does(world: World) -> None:
    app = create_app(world)
    with serve_in_thread(app) as url:
        sim = Simulator(url, app)
        person = world.people[12]
        members = set(world.social_members)
        group = next(
            g for g in world.social_groups if g.is_open and (g.guid, person.id) not in members
        )
        theirs = token(sim, person.username)
        joined = httpx.post(
            f"{url}{PATH}?method=group.join",
            data={"api_key": API_KEY, "auth_token": theirs, "guid": str(group.guid)},
        ).json()
        assert joined["result"] == recorded("group.join")
        (item,) = call(sim, "site.river", theirs, group_guid=group.guid, limit=1)["result"]
    (real,) = recorded("site.river")
    assert set(item) == set(real)
    assert item["summary"] == f"{person.display_name} joined the group {group.name}"
    assert real["summary"] == f"{real['subject_name']} joined the group {real['object_title']}"
