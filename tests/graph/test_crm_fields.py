"""What CRM users came for (issue 27) through the gateway over the CiviCRM simulator: contacts
by field, related contacts, custom fields read and written, new groups; each as the real
CiviCRM 5.77 answered an administrator and a restricted user (`issue27.jsonl`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from graph.schema.ids import GlobalId
from graph.sources.civicrm.source import RELATIONSHIP_TYPES, SiteCache
from simulators.civicrm import api_key_of, contact_id_of
from simulators.world import EPOCH, World
from tests.conftest import Gateway, Simulator, running_civicrm, running_gateway

STAFF = "bea.abebe"  # views and edits all contacts, sees custom data
RESTRICTED = "emil.zhou"  # staff without "access all custom data" (the real coord1)


def cid(contact_id: int) -> str:
    return GlobalId("civicrm", "Contact", str(contact_id)).encode()


def gid(group_id: int) -> str:
    return GlobalId("civicrm", "CivicrmGroup", str(group_id)).encode()


class Crm:
    def __init__(self, gateway: Gateway, simulator: Simulator) -> None:
        self.gateway = gateway
        self.simulator = simulator

    def query(
        self, query: str, variables: dict[str, Any] | None = None, *, as_user: str = STAFF
    ) -> dict[str, Any]:
        return self.gateway.query(query, variables, **{"X-Civicrm-Api-Key": api_key_of(as_user)})

    def calls(self) -> list[str]:
        return [call for _, call, _ in self.simulator.app.state.log]


@pytest.fixture
def crm(world: World, flarum: Simulator) -> Iterator[Crm]:
    RELATIONSHIP_TYPES.clear()
    with (
        running_civicrm(world) as simulator,
        running_gateway(flarum.url, civicrm_url=simulator.url) as gateway,
    ):
        yield Crm(gateway, simulator)


SEARCH = """query($f: ContactFilter, $first: Int) { contacts(first: $first, filter: $f) {
  totalCount nodes { upstreamId displayName email address { city country } } } }"""


def test_fields_combined_find_what_civicrm_finds(crm: Crm, world: World) -> None:
    body = crm.query(SEARCH, {"f": {"contactType": "INDIVIDUAL", "city": "glasgow"}, "first": 100})
    assert "errors" not in body, body["errors"]
    expected = {
        c.id for c in world.contacts if c.contact_type == "Individual" and c.city == "Glasgow"
    }
    found = body["data"]["contacts"]
    assert {int(n["upstreamId"]) for n in found["nodes"]} == expected
    assert found["totalCount"] == len(expected)


def test_an_email_in_another_case_and_a_group(crm: Crm, world: World) -> None:
    body = crm.query(SEARCH, {"f": {"email": "ADA.Costa@example.org"}})
    assert [n["displayName"] for n in body["data"]["contacts"]["nodes"]] == ["Ada Costa"]
    members = {c for g, c in world.memberships if g == 1}
    body = crm.query(SEARCH, {"f": {"groupId": gid(1), "country": "United Kingdom"}, "first": 100})
    assert {int(n["upstreamId"]) for n in body["data"]["contacts"]["nodes"]} == members


def test_modified_since_finds_the_contacts_changed_since(crm: Crm) -> None:
    """The seeded contacts were last changed before the world's epoch; one written now is the
    only one changed since then."""
    change = f'mutation {{ updateContact(id: "{cid(5)}", input: {{lastName: "C"}}) {{ id }} }}'
    assert "errors" not in crm.query(change)
    body = crm.query(SEARCH, {"f": {"modifiedSince": EPOCH.isoformat()}})
    assert [n["upstreamId"] for n in body["data"]["contacts"]["nodes"]] == ["5"]


def test_a_filter_the_q_style_cannot_send_is_bad_input(world: World, flarum: Simulator) -> None:
    with (
        running_civicrm(world) as simulator,
        running_gateway(
            flarum.url, civicrm_url=simulator.url, civicrm_options={"api_style": "q"}
        ) as gateway,
    ):
        crm = Crm(gateway, simulator)
        body = crm.query(SEARCH, {"f": {"modifiedSince": EPOCH.isoformat()}})
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        body = crm.query(SEARCH, {"f": {"city": "York", "contactType": "INDIVIDUAL"}})
        assert body["data"]["contacts"]["nodes"]
        assert {n["address"]["city"] for n in body["data"]["contacts"]["nodes"]} == {"York"}


RELATIONSHIPS = """query($ids: [ID!]!, $active: Boolean) { nodes(ids: $ids) { ... on Contact {
  upstreamId relationships(active: $active) { label isContactA isActive startDate endDate
    type { labelAToB labelBToA } otherContact { upstreamId displayName } } } } }"""
PAGE = [cid(i) for i in (1, 2, 3, 4, 5, 6, 7)]


def test_relationships_from_either_side_in_one_call_for_the_page(crm: Crm) -> None:
    body = crm.query(RELATIONSHIPS, {"ids": PAGE})
    assert "errors" not in body, body["errors"]
    by_id = {n["upstreamId"]: n["relationships"] for n in body["data"]["nodes"]}
    (employee,) = by_id["2"]
    assert (employee["label"], employee["isContactA"], employee["startDate"]) == (
        "Employee of",
        True,
        "2023-04-01",
    )
    assert employee["type"] == {"labelAToB": "Employee of", "labelBToA": "Employer of"}
    assert employee["otherContact"]["displayName"] == "Legacygraph Community Trust"
    employer = [r["label"] for r in by_id["1"]]
    assert sorted(employer) == ["Employer of", "Volunteer is"]
    (parent,) = by_id["6"]
    assert (parent["label"], parent["isActive"], parent["endDate"]) == (
        "Parent of",
        False,
        "2025-06-30",
    )
    assert crm.calls().count("Relationship.get") == 1
    assert crm.calls().count("RelationshipType.get") == 1
    crm.simulator.app.state.log.clear()
    body = crm.query(RELATIONSHIPS, {"ids": PAGE, "active": True})
    active = {n["upstreamId"]: n["relationships"] for n in body["data"]["nodes"]}
    assert active["6"] == [] and len(active["2"]) == 1
    assert "RelationshipType.get" not in crm.calls()  # kept for the site


def test_relationship_types_are_asked_again_once_they_are_old() -> None:
    now = [0.0]
    cache = SiteCache(ttl_s=60, clock=lambda: now[0])
    asked: list[int] = []

    async def ask() -> int:
        asked.append(1)
        return len(asked)

    import asyncio

    async def run() -> list[int]:
        first = await cache.get("site", ask)
        now[0] = 59.0
        second = await cache.get("site", ask)
        other = await cache.get("other site", ask)
        now[0] = 61.0
        third = await cache.get("site", ask)
        return [first, second, other, third]

    assert asyncio.run(run()) == [1, 1, 2, 3]


CUSTOM = """query($id: ID!) { contact(id: $id) { customFields { key label group type value
  number date boolean option { value label } choices { value } } } }"""


def test_custom_fields_typed_for_a_user_who_may_see_them(crm: Crm) -> None:
    body = crm.query(CUSTOM, {"id": cid(2)})
    assert "errors" not in body, body["errors"]
    fields = {f["label"]: f for f in body["data"]["contact"]["customFields"]}
    assert fields["T-shirt size"]["type"] == "OPTION"
    assert fields["T-shirt size"]["option"] == {"value": "M", "label": "Medium"}
    assert [c["value"] for c in fields["T-shirt size"]["choices"]] == ["S", "M", "L"]
    assert (fields["Volunteer hours"]["type"], fields["Volunteer hours"]["number"]) == (
        "NUMBER",
        12.5,
    )
    assert fields["First donation"]["date"] == "2023-05-06"
    assert fields["Gift Aid"]["boolean"] is True
    assert fields["DBS checked"]["group"] == "Safeguarding"
    organisation = crm.query(CUSTOM, {"id": cid(1)})["data"]["contact"]["customFields"]
    assert [f["label"] for f in organisation] == ["DBS checked"]  # the set on every contact


@pytest.mark.parametrize("who", [RESTRICTED, "people-20"])
def test_custom_fields_the_caller_may_not_see_are_absent(crm: Crm, world: World, who: str) -> None:
    user = world.people[20].username if who == "people-20" else who
    contact = 2 if who == RESTRICTED else contact_id_of(world.people[20].id)
    body = crm.query(CUSTOM, {"id": cid(contact)}, as_user=user)
    assert "errors" not in body, body["errors"]
    assert body["data"]["contact"]["customFields"] == []


UPDATE = """mutation($id: ID!, $input: ContactInput!) { updateContact(id: $id, input: $input) {
  modifiedAt customFields { key value option { label } number boolean date } } }"""


def test_custom_fields_written_by_update_contact(crm: Crm) -> None:
    before = crm.query(f'query {{ contact(id: "{cid(3)}") {{ modifiedAt }} }}')
    change = [
        {"key": "T_shirt_size", "value": "Small"},
        {"key": "custom_2", "value": "7.25"},
        {"key": "Gift_Aid", "value": "true"},
        {"key": "First_donation", "value": "2024-03-01"},
        {"key": "Visits", "value": None},
    ]
    body = crm.query(UPDATE, {"id": cid(3), "input": {"customFields": change}})
    assert "errors" not in body, body["errors"]
    updated = body["data"]["updateContact"]
    fields = {f["key"]: f for f in updated["customFields"]}
    assert fields["custom_1"]["option"] == {"label": "Small"} and fields["custom_1"]["value"] == "S"
    assert fields["custom_2"]["number"] == 7.25 and fields["custom_4"]["boolean"] is True
    assert fields["custom_3"]["date"] == "2024-03-01" and fields["custom_6"]["value"] is None
    # CiviCRM does not count custom fields alone as a change of the contact (issue27.jsonl 282)
    assert updated["modifiedAt"] == before["data"]["contact"]["modifiedAt"]
    assert crm.calls().count("Contact.create") == 1


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("T_shirt_size", "XL", "is not one of its options"),
        ("Volunteer_hours", "lots", "is not a number"),
        ("Visits", "2.5", "is not a whole number"),
        ("First_donation", "1 March", "is not a date"),
        ("Nosuch", "1", "no custom field 'Nosuch'"),
    ],
)
def test_a_custom_value_the_field_cannot_take_writes_nothing(
    crm: Crm, key: str, value: str, words: str
) -> None:
    body = crm.query(
        UPDATE, {"id": cid(3), "input": {"customFields": [{"key": key, "value": value}]}}
    )
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "customFields"}
    assert words in error["message"]
    assert "Contact.create" not in crm.calls()


def test_a_restricted_user_writes_no_custom_field(crm: Crm) -> None:
    body = crm.query(
        UPDATE,
        {"id": cid(3), "input": {"customFields": [{"key": "custom_1", "value": "L"}]}},
        as_user=RESTRICTED,
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Contact.create" not in crm.calls()
    create = """mutation { createContact(input: {contactType: INDIVIDUAL, firstName: "N",
      customFields: [{key: "custom_1", value: "S"}]}) { id } }"""
    assert crm.query(create)["errors"][0]["extensions"]["field"] == "customFields"


GROUP = """mutation($input: CivicrmGroupInput!) { createGroup(input: $input) {
  name description groupTypes visibility memberCount } }"""


def test_create_group(crm: Crm, world: World) -> None:
    given = {
        "title": "Autumn appeal",
        "description": "Monthly news",
        "groupTypes": ["MAILING_LIST", "ACCESS_CONTROL"],
        "visibility": "PUBLIC_PAGES",
    }
    body = crm.query(GROUP, {"input": given})
    assert "errors" not in body, body["errors"]
    assert body["data"]["createGroup"] == {
        "name": "Autumn appeal",
        "description": "Monthly news",
        "groupTypes": ["Mailing List", "Access Control"],
        "visibility": "Public Pages",
        "memberCount": 0,
    }
    again = crm.query(GROUP, {"input": given})
    assert again["errors"][0]["extensions"]["code"] == "CONFLICT"
    member = world.people[20].username
    refused = crm.query(GROUP, {"input": {"title": "Mine"}}, as_user=member)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    empty = crm.query(GROUP, {"input": {"title": "  "}})
    assert empty["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert crm.calls().count("Group.create") == 3  # the empty title never left the gateway


def test_the_sync_example_costs_what_it_says(crm: Crm) -> None:
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "playground" / "examples" / "crm-sync.graphql"
    crm.simulator.app.state.log.clear()
    body = crm.query(example.read_text())
    assert "errors" not in body, body["errors"]
    page = body["data"]["contacts"]
    assert len(page["nodes"]) == 100 and page["pageInfo"]["hasNextPage"] is True
    assert crm.calls() == [
        "CustomField.get",
        "OptionValue.get",
        "Contact.get",
        "Contact.get",
        "Group.get",
    ]
    crm.simulator.app.state.log.clear()
    restricted = crm.query(example.read_text(), as_user=RESTRICTED)
    assert all(n["customFields"] == [] for n in restricted["data"]["contacts"]["nodes"])
    assert crm.calls() == ["CustomField.get", "Contact.get", "Contact.get", "Group.get"]
