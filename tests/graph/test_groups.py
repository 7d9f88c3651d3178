"""Elgg groups through the gateway (and the Group interface across CiviCRM and Elgg)."""

from __future__ import annotations

import httpx

from graph.schema.ids import GlobalId
from simulators.civicrm import api_key_of
from simulators.elgg import API_KEY
from simulators.world import World
from tests.conftest import (
    Gateway,
    Simulator,
    errors_by_path,
    flarum_headers,
    login,
    running_elgg,
    running_gateway,
)


def elgg_login(gateway: Gateway, username: str) -> str:
    body = gateway.query(
        'mutation($u: String!) { login(source: ELGG, username: $u, password: "demo-password") { token expiresAt } }',
        {"u": username},
    )
    payload = body["data"]["login"]
    assert payload["expiresAt"]  # Elgg tokens end 60 minutes after creation
    token: str = payload["token"]
    return token


def ggid(guid: int) -> str:
    return GlobalId("elgg", "ElggGroup", str(guid)).encode()


def test_login_then_the_viewers_groups(everything: Gateway, world: World) -> None:
    person = world.people[1]
    token = elgg_login(everything, person.username)
    body = everything.query(
        "{ viewer { elgg { username email groups { name isOpen } } } }", **{"X-Elgg-Token": token}
    )
    viewer = body["data"]["viewer"]["elgg"]
    assert viewer["username"] == person.username and viewer["email"] == person.email
    expected = {
        g.name for g in world.social_groups if (g.guid, person.id) in set(world.social_members)
    }
    assert {g["name"] for g in viewer["groups"]} == expected


def test_a_closed_groups_members_are_for_members(everything: Gateway, world: World) -> None:
    closed = next(g for g in world.social_groups if not g.is_open)
    members = {p for g, p in world.social_members if g == closed.guid}
    insider = next(p for p in world.people if p.id in members)
    outsider = next(p for p in world.people if p.id not in members and not p.is_admin)
    query = "query($id: ID!) { group(id: $id) { name ... on ElggGroup { isOpen } members(first: 50) { totalCount nodes { username } } } }"
    hidden = everything.query(
        query,
        {"id": ggid(closed.guid)},
        **{"X-Elgg-Token": elgg_login(everything, outsider.username)},
    )
    assert hidden["data"]["group"]["members"] is None
    assert errors_by_path(hidden)["group.members"]["extensions"]["code"] == "FORBIDDEN"
    shown = everything.query(
        query,
        {"id": ggid(closed.guid)},
        **{"X-Elgg-Token": elgg_login(everything, insider.username)},
    )
    usernames = {n["username"] for n in shown["data"]["group"]["members"]["nodes"]}
    assert usernames == {p.username for p in world.people if p.id in members}
    assert shown["data"]["group"]["members"]["totalCount"] == len(members)


def test_twenty_groups_with_members_each_call_once_concurrency_bounded(
    flarum: Simulator, world: World
) -> None:
    with (
        running_elgg(world, latency_s=0.03) as elgg,
        running_gateway(
            flarum.url, elgg_url=elgg.url, elgg_options={"max_concurrency": 4}
        ) as gateway,
    ):
        admin_token = httpx.post(
            f"{elgg.url}/services/api/rest/json/?method=auth.gettoken",
            data={
                "api_key": API_KEY,
                "username": world.admin.username,
                "password": "demo-password",
            },
        ).json()["result"]
        elgg.counter.reset()
        elgg.app.state.calls.reset()
        query = "{ a: groups(source: ELGG, first: 20) { nodes { name members(first: 5) { nodes { username } } } } b: groups(source: ELGG, first: 20) { nodes { name } } }"
        body = gateway.query(query, **{"X-Elgg-Token": admin_token})
        assert "errors" not in body, body["errors"]
        assert len(body["data"]["a"]["nodes"]) == 20
        calls = elgg.app.state.calls.snapshot()
        assert (
            calls["group.get_members"] == 20
        )  # once per group, though asked for 20 distinct groups
        assert calls["group.get_groups"] == 1  # the two identical listings went once
        assert 1 < elgg.counter.peak_in_flight <= 4


def test_a_wrong_secret_fails_elgg_only(
    flarum: Simulator, civicrm: Simulator, world: World
) -> None:
    with (
        running_elgg(world) as elgg,
        running_gateway(
            flarum.url,
            civicrm_url=civicrm.url,
            elgg_url=elgg.url,
            elgg_options={"secret": "0" * 40},
        ) as gateway,
    ):
        body = gateway.query(
            "{ groups(source: ELGG) { nodes { name } } contacts(first: 1) { nodes { displayName } } discussions(first: 1) { nodes { title } } }",
            **{"X-Civicrm-Api-Key": api_key_of("bea.abebe")},
            **flarum_headers(login(flarum.url, "bea.abebe")),
        )
        assert elgg.app.state.refusals == ["HMAC mismatch"]
    assert errors_by_path(body)["groups"]["extensions"] == {
        "code": "UNAUTHENTICATED",
        "source": "ELGG",
        "upstreamCode": "-1",
    }
    assert body["data"]["contacts"]["nodes"] and body["data"]["discussions"]["nodes"]


def test_join_an_open_group_but_not_a_closed_one(flarum: Simulator, world: World) -> None:
    with running_elgg(world) as elgg, running_gateway(flarum.url, elgg_url=elgg.url) as gateway:
        person = world.people[12]
        open_group = next(
            g
            for g in world.social_groups
            if g.is_open and (g.guid, person.id) not in set(world.social_members)
        )
        closed = next(
            g
            for g in world.social_groups
            if not g.is_open and (g.guid, person.id) not in set(world.social_members)
        )
        token = {"X-Elgg-Token": elgg_login(gateway, person.username)}
        mutation = "mutation($g: ID!) { joinGroup(groupId: $g) { name memberCount } }"
        joined = gateway.query(mutation, {"g": ggid(open_group.guid)}, **token)
        before = sum(1 for g, _ in world.social_members if g == open_group.guid)
        assert joined["data"]["joinGroup"] == {"name": open_group.name, "memberCount": before + 1}
        refused = gateway.query(mutation, {"g": ggid(closed.guid)}, **token)
        assert errors_by_path(refused)["joinGroup"]["extensions"]["code"] == "FORBIDDEN"
        activity = gateway.query(
            "query($g: ID!) { group(id: $g) { ... on ElggGroup { activity(first: 1) { action subject { username } } } } }",
            {"g": ggid(open_group.guid)},
            **token,
        )
        assert activity["data"]["group"]["activity"] == [
            {"action": "join", "subject": {"username": person.username}}
        ]


def test_groups_across_sources(everything: Gateway, world: World) -> None:
    body = everything.query(
        "{ groups(first: 100) { totalCount nodes { __typename source name } } }",
        **{"X-Civicrm-Api-Key": api_key_of("bea.abebe")},
    )
    groups = body["data"]["groups"]
    assert groups["totalCount"] == len(world.contact_groups) + len(world.social_groups)
    assert {(n["__typename"], n["source"]) for n in groups["nodes"]} == {
        ("CivicrmGroup", "CIVICRM"),
        ("ElggGroup", "ELGG"),
    }
    # Without a CiviCRM key, CiviCRM's groups are left out rather than failing the list.
    guest = everything.query("{ groups(first: 100) { totalCount } }")
    assert guest["data"]["groups"]["totalCount"] == len(world.social_groups)
