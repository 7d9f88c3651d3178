"""CiviCRM contacts and groups through the gateway, in both API styles and both formats."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from graph.schema.ids import GlobalId
from simulators.civicrm import api_key_of, contact_id_of
from simulators.world import World
from tests.conftest import (
    Gateway,
    Simulator,
    errors_by_path,
    flarum_headers,
    login,
    moodle_login,
    running_civicrm,
    running_gateway,
)

STAFF = "bea.abebe"  # may view and edit all contacts
CONTACTS = """query($first: Int) { contacts(first: $first) {
  pageInfo { hasNextPage }
  nodes { id displayName email contactType groups { name } }
} }"""


@dataclass
class Crm:
    gateway: Gateway
    simulator: Simulator
    style: str
    era: str = "5"

    def query(
        self, query: str, variables: dict[str, Any] | None = None, *, as_user: str = STAFF
    ) -> dict[str, Any]:
        return self.gateway.query(query, variables, **{"X-Civicrm-Api-Key": api_key_of(as_user)})


STYLES = [
    pytest.param(("entity", False, "5"), id="v3-json"),
    pytest.param(("entity", True, "5"), id="v3-xml"),
    pytest.param(("q", False, "5"), id="q-on-5"),
    pytest.param(("q", False, "3.2"), id="v2-json"),
    pytest.param(("q", True, "3.2"), id="v2-xml"),
]


@pytest.fixture(params=STYLES)
def crm(request: pytest.FixtureRequest, world: World, flarum: Simulator) -> Iterator[Crm]:
    style, xml, era = request.param
    with (
        running_civicrm(world, force_xml=xml, era=era) as simulator,
        running_gateway(
            flarum.url, civicrm_url=simulator.url, civicrm_options={"api_style": style}
        ) as gateway,
    ):
        yield Crm(gateway, simulator, style, era)


def cid(contact_id: int) -> str:
    return GlobalId("civicrm", "Contact", str(contact_id)).encode()


def gid(group_id: int) -> str:
    return GlobalId("civicrm", "CivicrmGroup", str(group_id)).encode()


def test_fifty_contacts_with_groups_and_emails(crm: Crm, world: World) -> None:
    crm.simulator.counter.reset()
    body = crm.query(CONTACTS, {"first": 50})
    assert "errors" not in body, body["errors"]
    nodes = body["data"]["contacts"]["nodes"]
    assert len(nodes) == 50 and body["data"]["contacts"]["pageInfo"]["hasNextPage"] is True
    contacts = {c.id: c for c in world.contacts}
    titles = {g.id: g.title for g in world.contact_groups}
    for node in nodes:
        contact = contacts[int(GlobalId.decode(node["id"]).upstream_id)]
        assert node["email"] == (contact.email or None)
        assert node["contactType"] == contact.contact_type.upper()
        expected = sorted(titles[g] for g, c in world.memberships if c == contact.id)
        assert sorted(g["name"] for g in node["groups"]) == expected
    requests = crm.simulator.counter.total
    if crm.style == "entity":
        assert requests <= 3  # contacts, memberships of all 50 (IN), their groups (IN)
    else:
        assert requests == 1 + 50 + 1  # API v2 has no IN: one membership call per contact


def test_create_then_add_to_group_then_read_the_members(crm: Crm, world: World) -> None:
    created = crm.query(
        "mutation($input: ContactInput!) { createContact(input: $input) { id displayName email contactType } }",
        {
            "input": {
                "contactType": "INDIVIDUAL",
                "firstName": "Nia",
                "lastName": "Obi",
                "email": "nia.obi@example.net",
            }
        },
    )
    assert "errors" not in created, created["errors"]
    contact = created["data"]["createContact"]
    assert contact["displayName"] == "Nia Obi" and contact["email"] == "nia.obi@example.net"
    added = crm.query(
        "mutation($c: ID!, $g: ID!) { addContactToGroup(contactId: $c, groupId: $g) { name memberCount } }",
        {"c": contact["id"], "g": gid(2)},
    )
    before = sum(1 for g, _ in world.memberships if g == 2)
    assert added["data"]["addContactToGroup"] == {"name": "Volunteers", "memberCount": before + 1}
    members = crm.query(
        "query($g: ID!) { group(id: $g) { members(first: 100) { totalCount nodes { id displayName } } } }",
        {"g": gid(2)},
    )["data"]["group"]["members"]
    assert {"id": contact["id"], "displayName": "Nia Obi"} in members["nodes"]
    assert members["totalCount"] == before + 1


def test_an_update_changes_only_the_given_fields(crm: Crm, world: World) -> None:
    target = next(
        c for c in world.contacts if c.contact_type == "Individual" and c.person_id is None
    )
    store = crm.simulator.app.state.store
    before = dict(store.one("SELECT * FROM contacts WHERE id = ?", (target.id,)))
    body = crm.query(
        'mutation($id: ID!) { updateContact(id: $id, input: {lastName: "Okafor-Reyes"}) { displayName firstName } }',
        {"id": cid(target.id)},
    )
    assert body["data"]["updateContact"] == {
        "displayName": f"{target.first_name} Okafor-Reyes",
        "firstName": target.first_name,
    }
    after = dict(store.one("SELECT * FROM contacts WHERE id = ?", (target.id,)))
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {"last_name", "display_name", "modified_date"}


def test_bad_input_is_refused_before_any_request(everything: Gateway, civicrm: Simulator) -> None:
    civicrm.counter.reset()
    cases = [
        ({"contactType": "INDIVIDUAL", "firstName": "A", "email": "not-an-address"}, "email"),
        ({"contactType": "ORGANIZATION", "firstName": "A"}, "organizationName"),
        ({"firstName": "A"}, "contactType"),
    ]
    for given, field in cases:
        body = everything.query(
            "mutation($input: ContactInput!) { createContact(input: $input) { id } }",
            {"input": given},
            **{"X-Civicrm-Api-Key": api_key_of(STAFF)},
        )
        assert errors_by_path(body)["createContact"]["extensions"] == {
            "code": "BAD_USER_INPUT",
            "field": field,
        }
    assert civicrm.counter.total == 0


def test_wrong_keys_fail_civicrm_only(
    world: World, flarum: Simulator, moodle: Simulator, civicrm: Simulator
) -> None:
    query = "{ contacts(first: 1) { nodes { id } } discussions(first: 1) { nodes { title } } viewer { moodle { username } } }"
    headers = {"X-Moodle-Token": moodle_login(moodle.url, STAFF)}
    with running_gateway(
        flarum.url, moodle.url, civicrm_url=civicrm.url, civicrm_options={"site_key": "wrong"}
    ) as gateway:
        body = gateway.query(query, **headers, **{"X-Civicrm-Api-Key": api_key_of(STAFF)})
    assert errors_by_path(body)["contacts"]["extensions"] == {
        "code": "UNAUTHENTICATED",
        "source": "CIVICRM",
    }
    assert (
        body["data"]["discussions"]["nodes"]
        and body["data"]["viewer"]["moodle"]["username"] == STAFF
    )
    with running_gateway(flarum.url, moodle.url, civicrm_url=civicrm.url) as gateway:
        body = gateway.query(query, **headers, **{"X-Civicrm-Api-Key": "0" * 32})
    error = errors_by_path(body)["contacts"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED", "source": "CIVICRM"}
    assert "0" * 32 not in error["message"]
    assert (
        body["data"]["discussions"]["nodes"]
        and body["data"]["viewer"]["moodle"]["username"] == STAFF
    )


def test_a_caller_without_view_all_sees_what_civicrm_shows_them(
    everything: Gateway, world: World
) -> None:
    limited = world.people[20]
    me = contact_id_of(limited.id)
    mine = {g for g, c in world.memberships if c == me}
    public = {g.id for g in world.contact_groups if g.visibility == "Public Pages"}
    visible = {me} | {c for g, c in world.memberships if g in mine | public}
    body = everything.query(
        "{ contacts(first: 100) { nodes { id } } }",
        **{"X-Civicrm-Api-Key": api_key_of(limited.username)},
    )
    seen = {int(GlobalId.decode(n["id"]).upstream_id) for n in body["data"]["contacts"]["nodes"]}
    assert seen and seen <= visible
    hidden = next(c.id for c in world.contacts if c.id not in visible)
    body = everything.query(
        "query($id: ID!) { contact(id: $id) { id } }",
        {"id": cid(hidden)},
        **{"X-Civicrm-Api-Key": api_key_of(limited.username)},
    )
    assert errors_by_path(body)["contact"]["extensions"]["code"] == "NOT_FOUND"


def test_groups_with_member_counts(everything: Gateway, civicrm: Simulator, world: World) -> None:
    civicrm.counter.reset()
    body = everything.query(
        "{ groups(source: CIVICRM, first: 20) { totalCount nodes { __typename name source memberCount } } }",
        **{"X-Civicrm-Api-Key": api_key_of(STAFF)},
    )
    groups = body["data"]["groups"]
    assert groups["totalCount"] == len(world.contact_groups)
    counts = {
        g.title: sum(1 for gid_, _ in world.memberships if gid_ == g.id)
        for g in world.contact_groups
    }
    assert {n["name"]: n["memberCount"] for n in groups["nodes"]} == counts
    assert {n["__typename"] for n in groups["nodes"]} == {"CivicrmGroup"}
    assert civicrm.counter.total == 2  # the groups, and the memberships of all of them


def test_civicrm_5_has_no_login_by_password(everything: Gateway, world: World) -> None:
    """CiviCRM 5 cannot exchange a password for an api key: said at once, nothing asked."""
    refused = everything.query(
        'mutation { login(source: CIVICRM, username: "bea.abebe", password: "demo-password") { token } }'
    )
    error = errors_by_path(refused)["login"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "api key" in error["message"]
    viewer = everything.query(
        "{ viewer { civicrm { displayName email } } }", **{"X-Civicrm-Api-Key": api_key_of(STAFF)}
    )
    assert viewer["data"]["viewer"]["civicrm"] == {
        "displayName": "Bea Abebe",
        "email": "bea.abebe@example.org",
    }


def test_a_3_2_era_site_logs_in_by_password(flarum: Simulator, world: World) -> None:
    with (
        running_civicrm(world, era="3.2") as simulator,
        running_gateway(
            flarum.url, civicrm_url=simulator.url, civicrm_options={"api_style": "q"}
        ) as gateway,
    ):
        body = gateway.query(
            'mutation { login(source: CIVICRM, username: "bea.abebe", password: "demo-password") { token } }'
        )
        assert body["data"]["login"]["token"] == api_key_of(STAFF)
        no_key = world.people[-1].username
        refused = gateway.query(
            'mutation($u: String!) { login(source: CIVICRM, username: $u, password: "demo-password") { token } }',
            {"u": no_key},
        )
        assert errors_by_path(refused)["login"]["extensions"]["code"] == "UNAUTHENTICATED"


def test_all_three_sources_in_one_query(
    everything: Gateway, flarum: Simulator, moodle: Simulator, world: World
) -> None:
    person = world.people[1]
    body = everything.query(
        "{ viewer { flarum { username } moodle { username } civicrm { displayName } } }",
        **flarum_headers(login(flarum.url, person.username)),
        **{
            "X-Moodle-Token": moodle_login(moodle.url, person.username),
            "X-Civicrm-Api-Key": api_key_of(person.username),
        },
    )
    assert body["data"]["viewer"] == {
        "flarum": {"username": person.username},
        "moodle": {"username": person.username},
        "civicrm": {"displayName": person.display_name},
    }


def test_an_email_and_phone_change_is_read_back_or_refused(crm: Crm, world: World) -> None:
    """CiviCRM 5 ignores e-mail and phone given on a contact: the gateway writes them as their
    own records and reads the contact back. Where the site still did not save them (CiviCRM 5
    spoken to in the 3.2-era style), the mutation fails saying so instead of reporting them."""
    target = next(
        c for c in world.contacts if c.contact_type == "Individual" and c.person_id is None
    )
    body = crm.query(
        'mutation($id: ID!) { updateContact(id: $id, input: {email: "new.address@example.net",'
        ' phone: "+44 113 496 0009"}) { email phone } }',
        {"id": cid(target.id)},
    )
    row = crm.simulator.app.state.store.one("SELECT * FROM contacts WHERE id = ?", (target.id,))
    assert "errors" not in body, body["errors"]
    assert body["data"]["updateContact"] == {
        "email": "new.address@example.net",
        "phone": "+44 113 496 0009",
    }
    assert (row["email"], row["phone"]) == ("new.address@example.net", "+44 113 496 0009")
    again = crm.query(
        "query($id: ID!) { contact(id: $id) { email phone } }", {"id": cid(target.id)}
    )
    assert again["data"]["contact"] == body["data"]["updateContact"]


def test_a_new_contacts_phone_is_saved(crm: Crm) -> None:
    body = crm.query(
        "mutation($input: ContactInput!) { createContact(input: $input) { email phone } }",
        {
            "input": {
                "contactType": "INDIVIDUAL",
                "firstName": "Hana",
                "lastName": "Chain",
                "email": "hana.chain@example.net",
                "phone": "+44 113 496 0002",
            }
        },
    )
    assert body["data"]["createContact"] == {
        "email": "hana.chain@example.net",
        "phone": "+44 113 496 0002",
    }
