"""One graph: people across the five systems, the viewer, node lookups, single sign-on."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest
from cryptography.fernet import Fernet

from graph import context as request_context
from graph.config import PeopleSettings, SessionSettings, Settings
from graph.schema.ids import GlobalId
from graph.schema.nodes import NODE_LOADERS
from graph.schema.types.common import Info, PersonRoot
from graph.session import InvalidSession, SessionCodec
from graph.sources.flarum.settings import FlarumSettings
from graph.sources.moodle.settings import MoodleSettings
from graph.sources.sections import SourcesSettings
from simulators.civicrm.store import api_key_of
from simulators.world import World
from tests.conftest import Gateway, Simulator, errors_by_path, running_gateway

SOURCES = ("flarum", "moodle", "civicrm", "elgg", "eqsash")
KEY_A, KEY_B = Fernet.generate_key().decode(), Fernet.generate_key().decode()
PERSON = """query($email: String!) { person(email: $email) {
  email displayName accounts { source }
  forumUser { username discussionCount }
  moodleUser { courses(first: 50) { nodes { fullName } } }
  contact { groups { name } }
  elggUser { groups { name } }
  eqsashUser { roles }
} }"""


@pytest.fixture(scope="module")
def sims(
    flarum: Simulator, moodle: Simulator, civicrm: Simulator, elgg: Simulator, eqsash: Simulator
) -> dict[str, Simulator]:
    return {"flarum": flarum, "moodle": moodle, "civicrm": civicrm, "elgg": elgg, "eqsash": eqsash}


def gateway_over(
    sims: dict[str, Simulator], *keys: str, ttl_s: int = 3600, grace_s: int = 3600
) -> Any:
    return running_gateway(
        sims["flarum"].url,
        sims["moodle"].url,
        civicrm_url=sims["civicrm"].url,
        elgg_url=sims["elgg"].url,
        eqsash_url=sims["eqsash"].url,
        session=SessionSettings(keys=keys, ttl_s=ttl_s, rotation_grace_s=grace_s),
    )


@pytest.fixture(scope="module")
def one_graph(sims: dict[str, Simulator]) -> Iterator[Gateway]:
    with gateway_over(sims, KEY_A) as gateway:
        yield gateway


def login_all(gateway: Gateway, username: str) -> dict[str, Any]:
    body = gateway.query(
        'mutation($u: String!) { loginAll(username: $u, password: "demo-password") {'
        " logins { source error errorCode login { token } } sessionToken sessionExpiresAt } }",
        {"u": username},
    )
    result: dict[str, Any] = body["data"]["loginAll"]
    return result


def bearer(token: str, civicrm_user: str | None = None) -> dict[str, str]:
    """The session token; with `civicrm_user`, that user's CiviCRM api key beside it (CiviCRM 5
    has no login by password, so a session never holds one)."""
    headers = {"Authorization": f"Bearer {token}"}
    if civicrm_user is not None:
        headers["X-Civicrm-Api-Key"] = api_key_of(civicrm_user)
    return headers


def signed_in(result: dict[str, Any]) -> bool:
    """Every source took the password, but CiviCRM, which says it cannot."""
    civicrm = next(e for e in result["logins"] if e["source"] == "CIVICRM")
    return civicrm["errorCode"] == "BAD_USER_INPUT" and all(
        e["login"] for e in result["logins"] if e["source"] != "CIVICRM"
    )


def reset(sims: dict[str, Simulator]) -> None:
    for sim in sims.values():
        sim.counter.reset()
        if hasattr(sim.app.state, "calls"):
            sim.app.state.calls.reset()


def test_a_person_who_is_everywhere(
    one_graph: Gateway, sims: dict[str, Simulator], world: World
) -> None:
    admin = login_all(one_graph, world.admin.username)
    assert signed_in(admin) and admin["sessionToken"]
    person = world.people[4]
    reset(sims)
    body = one_graph.query(
        PERSON,
        {"email": f"  {person.email.upper()} "},
        **bearer(admin["sessionToken"], world.admin.username),
    )
    assert "errors" not in body, body["errors"]
    found = body["data"]["person"]
    assert found["email"] == person.email and found["displayName"] == person.display_name
    assert [a["source"] for a in found["accounts"]] == [
        "FLARUM",
        "MOODLE",
        "CIVICRM",
        "ELGG",
        "EQSASH",
    ]
    assert found["forumUser"] == {
        "username": person.username,
        "discussionCount": sum(d.author_id == person.id for d in world.discussions),
    }
    courses = {c.id: c.fullname for c in world.courses}
    assert sorted(n["fullName"] for n in found["moodleUser"]["courses"]["nodes"]) == sorted(
        courses[e.course_id] for e in world.enrolments if e.person_id == person.id
    )
    titles = {g.id: g.title for g in world.contact_groups}
    contact_id = person.id + 1
    assert sorted(g["name"] for g in found["contact"]["groups"]) == sorted(
        titles[g] for g, c in world.memberships if c == contact_id
    )
    elgg_names = {g.guid: g.name for g in world.social_groups}
    assert sorted(g["name"] for g in found["elggUser"]["groups"]) == sorted(
        elgg_names[g] for g, p in world.social_members if p == person.id
    )
    # Batched sources: one request a level; Elgg has no batch calls (one per distinct call).
    assert sims["moodle"].app.state.calls.snapshot() == {
        "core_user_get_users_by_field": 1,
        "core_enrol_get_users_courses": 1,
    }
    # The contact by e-mail, its groups' ids (Contact.get return=group), the groups.
    assert sims["civicrm"].app.state.calls.snapshot() == {"Contact.get": 2, "Group.get": 1}
    assert sims["eqsash"].app.state.calls.snapshot() == {"users.get_by_email": 1}
    assert sims["elgg"].app.state.calls.snapshot().get("user.get_user_by_email") == 1
    # The full user document, and once whether Flarum knows the caller's token.
    assert sims["flarum"].counter.snapshot() == {"GET /api/users": 1, "GET /api": 1}


def test_a_person_in_two_systems_only(one_graph: Gateway, world: World) -> None:
    admin = login_all(one_graph, world.admin.username)
    person = world.people[-1]
    body = one_graph.query(
        PERSON, {"email": person.email}, **bearer(admin["sessionToken"], world.admin.username)
    )
    found = body["data"]["person"]
    assert [a["source"] for a in found["accounts"]] == ["FLARUM", "CIVICRM"]
    assert (found["moodleUser"], found["elggUser"], found["eqsashUser"]) == (None, None, None)
    assert found["forumUser"]["username"] == person.username
    missing = one_graph.query(
        PERSON,
        {"email": "nobody@nowhere.example"},
        **bearer(admin["sessionToken"], world.admin.username),
    )
    assert missing["data"]["person"] is None and "errors" not in missing


def test_people_with_their_accounts(
    one_graph: Gateway, sims: dict[str, Simulator], world: World
) -> None:
    admin = login_all(one_graph, world.admin.username)
    reset(sims)
    body = one_graph.query(
        "{ people(first: 50) { nodes { email accounts { source } } } }",
        **bearer(admin["sessionToken"], world.admin.username),
    )
    nodes = body["data"]["people"]["nodes"]
    assert len(nodes) == 50
    by_email = {p.email: p for p in world.people}
    for node in nodes:
        person = by_email.get(node["email"])
        expected = (
            ["CIVICRM"] if person is None else [s.upper() for s in SOURCES if person.has_account(s)]
        )
        assert [a["source"] for a in node["accounts"]] == expected, node["email"]
    assert sims["civicrm"].app.state.calls.snapshot() == {
        "Contact.get": 1
    }  # the list; lookups primed
    assert sims["moodle"].app.state.calls.snapshot() == {"core_user_get_users_by_field": 1}
    assert sims["eqsash"].app.state.calls.snapshot() == {"users.get_by_email": 1}
    # Flarum and Elgg find one address a call: each distinct address once, concurrently.
    # (and once whether Flarum knows the caller's token)
    assert sims["flarum"].counter.snapshot() == {"GET /api/users": 50, "GET /api": 1}
    assert sims["elgg"].app.state.calls.snapshot().get("user.get_user_by_email") == 50


def test_with_two_sources_only_the_rest_is_null_and_callers_stay_apart(
    one_graph: Gateway, sims: dict[str, Simulator], world: World
) -> None:
    first, second = world.people[6], world.people[7]
    tokens = {}
    for person in (first, second):
        logins = {
            e["source"]: e["login"]["token"]
            for e in login_all(one_graph, person.username)["logins"]
            if e["login"]
        }
        tokens[person.username] = {
            "X-Civicrm-Api-Key": api_key_of(person.username),
            "X-Eqsash-Token": logins["EQSASH"],
        }
    query = "{ viewer { person { email forumUser { username } moodleUser { username } elggUser { username } } civicrm { displayName } eqsash { login } flarum { username } } }"

    async def ask(client: httpx.AsyncClient, username: str) -> tuple[str, dict[str, Any]]:
        response = await client.post(
            f"{one_graph.url}/graphql", json={"query": query}, headers=tokens[username]
        )
        return username, response.json()

    async def interleave() -> list[tuple[str, dict[str, Any]]]:
        async with httpx.AsyncClient(timeout=30) as client:
            return await asyncio.gather(
                *(ask(client, p.username) for _ in range(5) for p in (first, second))
            )

    people = {p.username: p for p in (first, second)}
    for username, body in asyncio.run(interleave()):
        assert "errors" not in body, body
        viewer = body["data"]["viewer"]
        person = people[username]
        assert viewer["person"] == {
            "email": person.email,
            "forumUser": None,
            "moodleUser": None,
            "elggUser": None,
        }
        assert viewer["civicrm"] == {"displayName": person.display_name}
        assert viewer["eqsash"] == {"login": person.username} and viewer["flarum"] is None


def test_node_round_trips_and_malformed_ids(one_graph: Gateway, world: World) -> None:
    admin = login_all(one_graph, world.admin.username)
    ids = [
        GlobalId("flarum", "Discussion", "1"),
        GlobalId("flarum", "Post", "1"),
        GlobalId("flarum", "FlarumUser", "2"),
        GlobalId("flarum", "Tag", "1"),
        GlobalId("moodle", "Course", "2"),
        GlobalId("moodle", "MoodleUser", "3"),
        GlobalId("moodle", "Assignment", "1"),
        GlobalId("civicrm", "Contact", "3"),
        GlobalId("civicrm", "CivicrmGroup", "1"),
        GlobalId("elgg", "ElggGroup", "1000"),
        GlobalId("eqsash", "Article", "1"),
        GlobalId("eqsash", "EqsashUser", "2"),
        GlobalId("eqsash", "Section", "1"),
        GlobalId("legacygraph", "Person", world.people[2].email),
    ]
    encoded = [i.encode() for i in ids]
    body = one_graph.query(
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }",
        {"ids": encoded},
        **bearer(admin["sessionToken"], world.admin.username),
    )
    assert "errors" not in body, body["errors"]
    assert [n["id"] for n in body["data"]["nodes"]] == encoded
    assert [n["__typename"] for n in body["data"]["nodes"]] == [i.type_name for i in ids]
    for bad in ("%%%", "bm90LWFuLWlk", GlobalId("flarum", "Spaceship", "1").encode()):
        answer = one_graph.query("query($id: ID!) { node(id: $id) { id } }", {"id": bad})
        assert errors_by_path(answer)["node"]["extensions"]["code"] == "BAD_USER_INPUT"


def test_every_node_type_can_be_fetched_again_by_its_id() -> None:
    """The Relay promise: every type that implements Node (directly or through Account or
    Group) has a way back from its id."""
    schema = (Path(__file__).parents[2] / "schema.graphql").read_text()
    interfaces = {"Node"} | set(re.findall(r"^interface (\w+) implements Node", schema, re.M))
    types = {
        name
        for name, implemented in re.findall(r"^type (\w+) implements ([\w &]+) \{", schema, re.M)
        if interfaces & {part.strip() for part in implemented.split("&")}
    }
    served = {type_name for _, type_name in NODE_LOADERS}
    assert types and types <= served, types - served


def test_listed_submissions_grades_and_elgg_users_round_trip(
    one_graph: Gateway, world: World
) -> None:
    """Ids of objects that their systems list only (Moodle's submissions and grades, by
    assignment) or find by name only (Elgg's users) come back through `node`."""
    admin = login_all(one_graph, world.admin.username)
    headers = bearer(admin["sessionToken"], world.admin.username)
    listed = one_graph.query(
        """{ courses(first: 3) { nodes { assignments { submissions { id status }
             grades { id grade } } } }
           viewer { elgg { id username groups { name } } } }""",
        **headers,
    )
    assert "errors" not in listed, listed["errors"]
    submission = next(
        s
        for c in listed["data"]["courses"]["nodes"]
        for a in c["assignments"]
        for s in a["submissions"]
    )
    grade = next(
        g for c in listed["data"]["courses"]["nodes"] for a in c["assignments"] for g in a["grades"]
    )
    elgg_user = listed["data"]["viewer"]["elgg"]
    body = one_graph.query(
        """query($ids: [ID!]!) { nodes(ids: $ids) { __typename id
             ... on Submission { status } ... on Grade { grade } ... on ElggUser { username } } }""",
        {"ids": [submission["id"], grade["id"], elgg_user["id"]]},
        **headers,
    )
    assert "errors" not in body, body["errors"]
    assert body["data"]["nodes"] == [
        {"__typename": "Submission", **submission},
        {"__typename": "Grade", **grade},
        {"__typename": "ElggUser", "id": elgg_user["id"], "username": elgg_user["username"]},
    ]


def test_the_session_token_is_accepted_and_refused_when_tampered(
    one_graph: Gateway, world: World
) -> None:
    session = login_all(one_graph, world.people[3].username)["sessionToken"]
    ok = one_graph.query("{ viewer { moodle { username } eqsash { login } } }", **bearer(session))
    assert ok["data"]["viewer"] == {
        "moodle": {"username": world.people[3].username},
        "eqsash": {"login": world.people[3].username},
    }
    tampered = session[:-6] + ("A" if session[-6] != "A" else "B") + session[-5:]
    refused = one_graph.post("{ viewer { moodle { username } } }", **bearer(tampered))
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}


def test_without_keys_the_feature_is_off(sims: dict[str, Simulator], world: World) -> None:
    with gateway_over(sims) as gateway:
        result = login_all(gateway, world.people[3].username)
        assert result["sessionToken"] is None and signed_in(result)
        assert (
            gateway.post(
                "{ viewer { moodle { username } } }", Authorization="Bearer abc"
            ).status_code
            == 401
        )


def aged(session: str, key: str, age_s: int) -> str:
    """The same session token as if `key` had made it `age_s` seconds ago (the gateway reads
    its own clock; the token's time is what moves)."""
    fernet = Fernet(key)
    return fernet.encrypt_at_time(fernet.decrypt(session), int(time.time()) - age_s).decode()


def test_expiry_and_rotation_past_the_grace(sims: dict[str, Simulator], world: World) -> None:
    def viewer(gateway: Gateway, session: str) -> int:
        response = gateway.post("{ viewer { moodle { username } } }", **bearer(session))
        return response.status_code

    with gateway_over(sims, KEY_A, ttl_s=60) as short:
        fresh = login_all(short, world.people[3].username)["sessionToken"]
        assert viewer(short, aged(fresh, KEY_A, 30)) == 200
        assert viewer(short, aged(fresh, KEY_A, 120)) == 401  # past ttl_s
    with gateway_over(sims, KEY_A) as old:
        made_with_a = login_all(old, world.people[3].username)["sessionToken"]
    with gateway_over(sims, KEY_B, KEY_A, grace_s=60) as rotated:
        assert viewer(rotated, made_with_a) == 200
        assert viewer(rotated, aged(made_with_a, KEY_A, 120)) == 401  # past the grace
        made_with_b = login_all(rotated, world.people[3].username)["sessionToken"]
        assert viewer(rotated, aged(made_with_b, KEY_B, 120)) == 200  # the first key: ttl_s
    with gateway_over(sims, KEY_B) as retired:
        assert viewer(retired, made_with_a) == 401


def test_the_codec_on_its_own() -> None:
    now = [1_700_000_000.0]
    codec = SessionCodec.from_settings(
        SessionSettings(keys=(KEY_A,), ttl_s=60), clock=lambda: now[0]
    )
    assert codec is not None
    token = codec.issue({"moodle": "m-token", "flarum": "f-token"})
    assert "m-token" not in token and codec.read(token) == {
        "flarum": "f-token",
        "moodle": "m-token",
    }
    now[0] += 61
    with pytest.raises(InvalidSession):
        codec.read(token)
    assert SessionCodec.from_settings(SessionSettings()) is None


@pytest.mark.parametrize(
    ("fold_gmail", "key"),
    [(False, "ada.costa+forum@googlemail.com"), (True, "adacosta@gmail.com")],
)
async def test_a_persons_key_is_the_normalised_address_and_makes_no_sources_loaders(
    fold_gmail: bool, key: str
) -> None:
    """`Account.person` and `Query.node` answer a person by the address alone: normalising it
    makes no source's loaders (Moodle's alone are eleven) and asks no source."""
    settings = Settings(
        people=PeopleSettings(fold_gmail=fold_gmail),
        sources=SourcesSettings(
            flarum=FlarumSettings(url="http://forum.test/"),
            moodle=MoodleSettings(url="http://moodle.test/"),
        ),
    )

    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"{request.url} was asked")

    transports = {name: httpx.MockTransport(refuse) for name in ("flarum", "moodle")}
    async with request_context.Gateway.open(settings, None, transports) as gateway:
        context = request_context.Context(
            gateway, request_context.Credentials({"flarum": "token-a", "moodle": "token-b"})
        )
        info = cast(Info, SimpleNamespace(context=context))
        person = PersonRoot.of(info, " Ada.Costa+forum@GoogleMail.com ")
    assert person.email == key
    assert GlobalId.decode(person.id) == GlobalId("legacygraph", "Person", key)
    assert "people_loaders" not in vars(context)
