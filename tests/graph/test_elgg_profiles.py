"""Elgg through the gateway against both method sets a site may expose: this project's own
(`legacygraph`) and the elgg_with_rest_api plugin's (`rest_api`), each detected from
`system.api.list` or named in config, and a field whose method the site lacks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.elgg import parse_override
from connectors.elgg.profiles import Method
from graph.schema.ids import GlobalId
from simulators.world import World
from tests.conftest import Gateway, Simulator, errors_by_path, running_elgg, running_gateway

PROFILES = ["legacygraph", "rest_api"]


@pytest.fixture(scope="module", params=PROFILES)
def site(request: pytest.FixtureRequest, world: World, flarum: Simulator) -> Iterator[Gateway]:
    with (
        running_elgg(world, methods=request.param) as elgg,
        running_gateway(flarum.url, elgg_url=elgg.url) as gateway,  # methods = "auto"
    ):
        yield gateway


def token_of(gateway: Gateway, username: str) -> dict[str, str]:
    body = gateway.query(
        'mutation($u: String!) { login(source: ELGG, username: $u, password: "demo-password") { token } }',
        {"u": username},
    )
    return {"X-Elgg-Token": body["data"]["login"]["token"]}


def ggid(guid: int) -> str:
    return GlobalId("elgg", "ElggGroup", str(guid)).encode()


def member_of(world: World, person_id: int) -> set[str]:
    members = set(world.social_members)
    return {g.name for g in world.social_groups if (g.guid, person_id) in members}


def test_the_viewers_profile_and_groups(site: Gateway, world: World) -> None:
    person = world.people[1]
    body = site.query(
        "{ viewer { elgg { username displayName groups { name } } } }",
        **token_of(site, person.username),
    )
    assert "errors" not in body, body["errors"]
    viewer = body["data"]["viewer"]["elgg"]
    assert (viewer["username"], viewer["displayName"]) == (person.username, person.display_name)
    assert {g["name"] for g in viewer["groups"]} == member_of(world, person.id)


def test_the_list_of_groups(site: Gateway, world: World) -> None:
    body = site.query(
        "{ groups(source: ELGG, first: 100) { totalCount nodes { name memberCount ... on ElggGroup { isOpen } } } }",
        **token_of(site, world.people[2].username),
    )
    assert "errors" not in body, body["errors"]
    nodes = body["data"]["groups"]["nodes"]
    counts = {g.guid: 0 for g in world.social_groups}
    for guid, _ in world.social_members:
        counts[guid] += 1
    assert {(n["name"], n["memberCount"], n["isOpen"]) for n in nodes} == {
        (g.name, counts[g.guid], g.is_open) for g in world.social_groups
    }


def test_join_then_the_groups_activity(world: World, flarum: Simulator) -> None:
    for methods in PROFILES:  # a fresh site each: joining writes
        with (
            running_elgg(world, methods=methods) as elgg,
            running_gateway(flarum.url, elgg_url=elgg.url) as gateway,
        ):
            person = world.people[12]
            members = set(world.social_members)
            open_group = next(
                g for g in world.social_groups if g.is_open and (g.guid, person.id) not in members
            )
            closed = next(
                g
                for g in world.social_groups
                if not g.is_open and (g.guid, person.id) not in members
            )
            token = token_of(gateway, person.username)
            mutation = "mutation($g: ID!) { joinGroup(groupId: $g) { name } }"
            joined = gateway.query(mutation, {"g": ggid(open_group.guid)}, **token)
            assert joined["data"]["joinGroup"] == {"name": open_group.name}, methods
            refused = gateway.query(mutation, {"g": ggid(closed.guid)}, **token)
            assert errors_by_path(refused)["joinGroup"]["extensions"]["code"] == "FORBIDDEN"
            activity = gateway.query(
                "query($g: ID!) { group(id: $g) { ... on ElggGroup { activity(first: 1) { action subject { username } } } } }",
                {"g": ggid(open_group.guid)},
                **token,
            )
            assert activity["data"]["group"]["activity"] == [
                {"action": "join", "subject": {"username": person.username}}
            ], methods


def test_a_person_found_by_email(site: Gateway, world: World) -> None:
    person = world.people[5]
    body = site.query(
        "query($e: String!) { person(email: $e) { elggUser { username displayName } } }",
        {"e": person.email},
        **token_of(site, world.admin.username),
    )
    assert body["data"]["person"]["elggUser"] == {
        "username": person.username,
        "displayName": person.display_name,
    }


def test_a_field_whose_method_the_site_lacks_says_which(world: World, flarum: Simulator) -> None:
    """The rest_api plugin has no method for a group's members: null, and an error naming it."""
    with (
        running_elgg(world, methods="rest_api") as elgg,
        running_gateway(flarum.url, elgg_url=elgg.url) as gateway,
    ):
        group = world.social_groups[0]
        body = gateway.query(
            "query($g: ID!) { group(id: $g) { name members(first: 5) { totalCount } } }",
            {"g": ggid(group.guid)},
            **token_of(gateway, world.people[1].username),
        )
    assert body["data"]["group"] == {"name": group.name, "members": None}
    error = errors_by_path(body)["group.members"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "a group's members" in error["message"] and "overrides" in error["message"]


def test_an_override_names_the_sites_own_method(world: World, flarum: Simulator) -> None:
    """A site whose plugin calls its members method differently: one override line."""
    with (
        running_elgg(world) as elgg,
        running_gateway(
            flarum.url,
            elgg_url=elgg.url,
            elgg_options={"methods": "legacygraph", "overrides": ("members=group.roster",)},
        ) as gateway,
    ):
        body = gateway.query(
            "query($g: ID!) { group(id: $g) { name members(first: 5) { totalCount } } }",
            {"g": ggid(world.social_groups[0].guid)},
            **token_of(gateway, world.people[1].username),
        )
    error = errors_by_path(body)["group.members"]
    assert "does not expose group.roster" in error["message"]


def test_overrides_are_read_and_checked() -> None:
    assert parse_override("members=mygroups.members(guid:group_guid, limit:count)") == (
        "members",
        Method("mygroups.members", params={"guid": "group_guid", "limit": "count"}),
    )
    for bad in ("nosuchrole=a.b", "members", "members=a b"):
        with pytest.raises(ValueError, match="override"):
            parse_override(bad)


@pytest.mark.parametrize("keys", ["verb", "name"])
def test_elgg_5_and_elgg_4_method_lists(world: World, flarum: Simulator, keys: str) -> None:
    """Elgg 5 keys system.api.list by `VERB:name`, Elgg 4 by name: login (a POST method) and
    the viewer's groups work on both."""
    person = world.people[1]
    with (
        running_elgg(world, method_keys=keys) as elgg,
        running_gateway(flarum.url, elgg_url=elgg.url) as gateway,
    ):
        body = gateway.query(
            "{ viewer { elgg { username groups { name } } } }",
            **token_of(gateway, person.username),
        )
    assert "errors" not in body, body["errors"]
    viewer = body["data"]["viewer"]["elgg"]
    assert viewer["username"] == person.username
    assert {g["name"] for g in viewer["groups"]} == member_of(world, person.id)
