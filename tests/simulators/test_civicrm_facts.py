"""The CiviCRM simulator (as CiviCRM 5, its default) states the facts of the real CiviCRM 5.77
(recorded in `tests/recordings/civicrm-5.77/`, numbered as in the notes kept with the real-site
setup) that hold for its `extern/rest.php` endpoint, one test per fact. Raw HTTP, no connector.
Facts 1 and 2 (WordPress's own REST route and its slashing of `json=`), and fact 8's role model (a
WordPress editor or subscriber sees no contact at all), are not reproduced: the simulator is one
CMS-neutral endpoint where every account holder sees their own contact."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from simulators.civicrm import REST_PATH, SITE_KEY, api_key_of
from simulators.world import World
from tests.conftest import Simulator

STAFF = "bea.abebe"
MEMBER_INDEX = 20


@dataclass
class Crm:
    sim: Simulator
    world: World

    def v3(self, entity: str, action: str, who: str | None = STAFF, **params: Any) -> Any:
        form = {"entity": entity, "action": action, "key": SITE_KEY, "json": json.dumps(params)}
        if who is not None:
            form["api_key"] = api_key_of(who)
        response = httpx.post(f"{self.sim.url}{REST_PATH}", data=form)
        return response.json() if response.status_code == 200 else response

    def flat(self, **form: str) -> httpx.Response:
        return httpx.post(f"{self.sim.url}{REST_PATH}", data={"key": SITE_KEY, **form})

    @property
    def member(self) -> str:
        return self.world.people[MEMBER_INDEX].username

    def contact_of(self, person_index: int) -> int:
        return self.world.people[person_index].id + 1


@pytest.fixture
def crm(civicrm: Simulator, world: World) -> Crm:
    return Crm(civicrm, world)


@pytest.fixture
def fresh(fresh_civicrm: Simulator, world: World) -> Crm:
    return Crm(fresh_civicrm, world)


def test_fact_03_xml_without_json_and_its_numbered_elements(crm: Crm) -> None:
    answer = crm.flat(entity="Group", action="get", api_key=api_key_of(STAFF))
    assert answer.text.startswith('<?xml version="1.0"?>')
    assert "<group_type>\n<0>" in answer.text  # digits for element names: not well-formed XML


def test_fact_04_get_works_with_everything_in_the_query_string(crm: Crm) -> None:
    params = {"entity": "Contact", "action": "get", "key": SITE_KEY, "api_key": api_key_of(STAFF)}
    answer = httpx.get(f"{crm.sim.url}{REST_PATH}", params={**params, "json": '{"id": 2}'})
    assert answer.json()["count"] == 1


def test_fact_05_the_v3_envelope(crm: Crm) -> None:
    one = crm.v3("Contact", "get", sequential=1, id=2)
    assert (one["is_error"], one["version"], one["count"], one["id"]) == (0, 3, 1, 2)
    (row,) = one["values"]
    assert row["id"] == row["contact_id"] == "2"
    assert all(isinstance(v, str) for v in row.values())
    keyed = crm.v3("Contact", "get", id={"IN": [2, 3]})
    assert set(keyed["values"]) == {"2", "3"} and "id" not in keyed


def test_fact_06_getcount_on_the_rest_script(crm: Crm) -> None:
    answer = crm.v3("Contact", "getcount", display_name={"LIKE": "%Costa%"})
    assert set(answer) == {"is_error", "result"} and answer["result"] >= 1


def test_fact_07_unknown_entity_or_action(crm: Crm) -> None:
    for entity, action in (("Nosuch", "get"), ("Contact", "nosuch")):
        assert crm.v3(entity, action) == {
            "error_code": "not-found",
            "entity": entity,
            "action": action,
            "is_error": 1,
            "error_message": f"API ({entity}, {action}) does not exist (join the API team and"
            " implement it!)",
        }


def test_fact_09_bad_or_missing_api_key(crm: Crm) -> None:
    assert crm.v3("Contact", "get", who=None) == {
        "is_error": 1,
        "error_message": "FATAL: mandatory param 'api_key' (user key) missing",
    }
    bad = crm.flat(entity="Contact", action="get", api_key="key-nobody", json="{}").json()
    assert bad == {
        "is_error": 1,
        "error_message": "ERROR: No CMS user associated with given api-key",
    }


def test_fact_10_bad_or_missing_site_key(crm: Crm) -> None:
    for key in ("wrong", None):
        form = {"entity": "Contact", "action": "get", "api_key": api_key_of(STAFF), "json": "{}"}
        if key:
            form["key"] = key
        answer = httpx.post(f"{crm.sim.url}{REST_PATH}", data=form).json()
        assert answer == {"is_error": 1, "error_message": "Failed to authenticate key"}


def test_fact_11_permission_errors(crm: Crm) -> None:
    refused = crm.v3("Contact", "create", who=crm.member, contact_type="Individual", first_name="X")
    assert refused["error_code"] == "unauthorized"
    assert refused["error_message"].startswith(
        "API permission check failed for Contact/create call; insufficient permission: require"
        " access CiviCRM and add contacts"
    )
    own = crm.v3(
        "Contact", "create", who=crm.member, id=crm.contact_of(MEMBER_INDEX), first_name="Y"
    )
    assert own["error_message"] == "Permission denied to modify contact record"
    groups = crm.v3("GroupContact", "get", who=crm.member, group_id=2)
    assert groups["error_code"] == "unauthorized"


def test_fact_12_contact_get_options(crm: Crm) -> None:
    default = crm.v3("Contact", "get", sequential=1, **{"return": ["sort_name"]})
    names = [r["sort_name"] for r in default["values"]]
    assert len(names) == 25 and names == sorted(names)
    everything = crm.v3("Contact", "get", options={"limit": 0})
    assert everything["count"] > 25
    window = crm.v3("Contact", "get", sequential=1, options={"limit": 2, "offset": 2})
    assert [r["id"] for r in window["values"]] == [r["id"] for r in default["values"][2:4]]


def test_fact_13_filters(crm: Crm) -> None:
    some = crm.v3("Contact", "get", id={"IN": [2, 999999]})
    assert set(some["values"]) == {"2"}
    assert crm.v3("Contact", "get", id=999999)["count"] == 0
    single = crm.v3("Contact", "getsingle", id=999999)
    assert (single["error_code"], single["error_message"]) == (
        "undefined",
        "Expected one Contact but found 0",
    )
    with_email = crm.v3("Contact", "get", email={"IS NOT NULL": 1}, options={"limit": 0})
    assert with_email["count"] > 0


def test_fact_14_group_types_are_lists(crm: Crm) -> None:
    groups = crm.v3("Group", "get", sequential=1)["values"]
    assert all(isinstance(g["group_type"], list) for g in groups if "group_type" in g)
    assert crm.v3("Group", "get", id=999999)["count"] == 0


def test_fact_15_group_contact_get_with_many_contacts_is_a_php_fatal(crm: Crm) -> None:
    answer = crm.v3("GroupContact", "get", contact_id={"IN": [2, 3]})
    assert isinstance(answer, httpx.Response) and answer.status_code == 500
    assert answer.headers["content-type"].startswith("text/html")
    assert "critical error" in answer.text


def test_fact_16_group_contact_get_for_one_contact(crm: Crm, world: World) -> None:
    contact_id = world.memberships[0][1]
    rows = crm.v3("GroupContact", "get", sequential=1, contact_id=contact_id)["values"]
    assert rows and all("contact_id" not in r for r in rows)
    assert {"id", "group_id", "title", "in_date", "in_method"} <= set(rows[0])
    assert crm.v3("GroupContact", "get", contact_id=999999)["count"] == 0


def test_fact_17_group_contact_get_by_group(crm: Crm, world: World) -> None:
    group_id = world.memberships[0][0]
    rows = crm.v3("GroupContact", "get", sequential=1, group_id={"IN": [group_id]})["values"]
    assert rows and set(rows[0]) == {"id", "group_id", "contact_id", "status"}
    missing = crm.v3("GroupContact", "get", group_id=99)
    assert (missing["error_code"], missing["error_field"], missing["error_message"]) == (
        2001,
        "group_id",
        "'99' is not a valid option for field group_id",
    )


def test_fact_18_many_contacts_groups_in_one_call(crm: Crm, world: World) -> None:
    contacts = sorted({c for _, c in world.memberships})[:4]
    rows = crm.v3(
        "Contact", "get", sequential=1, id={"IN": contacts}, options={"limit": 0},
        **{"return": ["display_name", "group"]},
    )["values"]  # fmt: skip
    for row in rows:
        expected = sorted(str(g) for g, c in world.memberships if c == int(row["id"]))
        assert sorted(g for g in row["groups"].split(",") if g) == expected
    chained = crm.v3(
        "Contact", "get", sequential=1, id={"IN": contacts}, **{"api.GroupContact.get": {}}
    )["values"]
    assert all(r["api.GroupContact.get"]["is_error"] == 0 for r in chained)


def test_fact_19_top_level_phone_and_update_email_are_ignored(fresh: Crm) -> None:
    created = fresh.v3(
        "Contact", "create", contact_type="Individual", first_name="Gina", last_name="Top",
        email="gina@example.org", phone="+44 113 496 0001",
    )  # fmt: skip
    contact = created["id"]
    back = fresh.v3("Contact", "get", sequential=1, id=contact)["values"][0]
    assert (back["email"], back["phone"]) == ("gina@example.org", "")
    updated = fresh.v3(
        "Contact", "create", id=contact, first_name="Gina2", email="new@example.org",
        phone="+44 113 496 0009",
    )  # fmt: skip
    assert updated["is_error"] == 0
    back = fresh.v3("Contact", "get", sequential=1, id=contact)["values"][0]
    assert (back["first_name"], back["email"], back["phone"]) == ("Gina2", "gina@example.org", "")


def test_fact_20_an_email_change(fresh: Crm) -> None:
    contact = fresh.contact_of(3)
    (email,) = fresh.v3("Email", "get", sequential=1, contact_id=contact)["values"]
    changed = fresh.v3("Email", "create", sequential=1, id=email["id"], email="changed@example.org")
    assert changed["values"][0]["contact_id"] == ""  # fields not sent come back empty
    assert fresh.v3("Contact", "get", sequential=1, id=contact)["values"][0]["email"] == (
        "changed@example.org"
    )
    chained = fresh.v3(
        "Contact", "create", id=contact, **{
            "api.Email.get": {},
            "api.Email.create": {"id": "$value.api.Email.get.id", "email": "chained@example.org"},
        },
    )  # fmt: skip
    assert chained["is_error"] == 0
    assert fresh.v3("Contact", "get", sequential=1, id=contact)["values"][0]["email"] == (
        "chained@example.org"
    )


def test_fact_21_a_phone_write(fresh: Crm) -> None:
    contact = fresh.contact_of(4)
    fresh.v3(
        "Phone", "create", contact_id=contact, phone="+44 113 496 0010", is_primary=1,
        location_type_id=1, phone_type_id=1,
    )  # fmt: skip
    (phone,) = fresh.v3("Phone", "get", sequential=1, contact_id=contact)["values"]
    assert (phone["phone"], phone["phone_numeric"]) == ("+44 113 496 0010", "441134960010")


def test_fact_22_create_errors(fresh: Crm) -> None:
    no_type = fresh.v3("Contact", "create", first_name="X")
    assert (no_type["error_code"], no_type["error_message"]) == (
        "mandatory_missing",
        "Mandatory key(s) missing from params array: contact_type",
    )
    no_name = fresh.v3("Contact", "create", contact_type="Individual")
    assert no_name["error_message"].startswith("Mandatory key(s) missing from params array: one of")
    robot = fresh.v3("Contact", "create", contact_type="Robot", first_name="R")
    assert (robot["error_code"], robot["error_message"]) == (
        2001,
        "'Robot' is not a valid option for field contact_type",
    )
    missing = fresh.v3("Contact", "create", id=999, first_name="Nobody")
    assert (missing["error_code"], missing["error_message"]) == (0, "Contact id 999 not found.")
    email = fresh.v3("Email", "create", contact_id=999, email="x@example.org")
    assert (email["error_code"], email["error_message"]) == (-3, "contact_id is not valid : 999")
    title = fresh.v3("Group", "get", sequential=1)["values"][0]["title"]
    assert fresh.v3("Group", "create", title=title)["error_message"] == "DB Error: already exists"


def test_fact_23_group_contact_create_answers_an_integer(fresh: Crm, world: World) -> None:
    group_id = world.contact_groups[0].id
    outside = next(c.id for c in world.contacts if (group_id, c.id) not in set(world.memberships))
    answer = fresh.v3("GroupContact", "create", group_id=group_id, contact_id=outside)
    assert (answer["values"], answer["added"], answer["not_added"]) == (1, 1, 0)
    again = fresh.v3("GroupContact", "create", group_id=group_id, contact_id=outside)
    assert (again["added"], again["not_added"]) == (0, 1)
    other = next(c.id for c in world.contacts if c.id not in (outside,))
    chained = fresh.v3("Contact", "create", sequential=1, id=other, **{
        "api.GroupContact.create": {"group_id": group_id}})  # fmt: skip
    assert chained["values"][0]["api.GroupContact.create"]["values"] == 1


def test_fact_24_group_contact_create_errors(fresh: Crm) -> None:
    group = fresh.v3("GroupContact", "create", group_id=99, contact_id=2)
    assert (group["error_code"], group["error_message"]) == (
        2001,
        "'99' is not a valid option for field group_id",
    )
    contact = fresh.v3("GroupContact", "create", group_id=1, contact_id=999)
    assert (contact["error_code"], contact["error_message"]) == (
        -3,
        "contact_id is not valid : 999",
    )
    created = fresh.v3("Group", "create", title="A brand new group")
    assert created["count"] == 1


def test_fact_25_there_is_no_q_login(crm: Crm) -> None:
    for q in ("civicrm/login", "civicrm"):
        answer = crm.flat(q=q, json="1", name=STAFF, api_key=api_key_of(STAFF)).json()
        assert answer == {"is_error": 1, "error_message": "ERROR: Malformed REST path"}


def test_fact_26_q_paths_are_v3_and_have_no_add(fresh: Crm) -> None:
    read = fresh.flat(q="civicrm/contact/get", json="1", api_key=api_key_of(STAFF), id="2").json()
    assert read["values"]["2"]["contact_id"] == "2"  # values keyed by id
    created = fresh.flat(
        q="civicrm/contact/create", json="1", api_key=api_key_of(STAFF),
        contact_type="Individual", first_name="Q", last_name="Create",
    ).json()  # fmt: skip
    assert created["is_error"] == 0
    for entity in ("contact", "group_contact", "group"):
        refused = fresh.flat(q=f"civicrm/{entity}/add", json="1", api_key=api_key_of(STAFF)).json()
        assert refused["error_code"] == "not-found" and "does not exist" in refused["error_message"]
