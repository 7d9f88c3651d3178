"""The CiviCRM simulator as a 3.2-era site (`era="3.2"`), whose `q=` paths are API v2, answers as
the protocol reference describes (raw HTTP, no connector). CiviCRM 5's own behaviour, recorded
from a real site, is held in `test_civicrm_facts.py`."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from simulators.civicrm import REST_PATH, SITE_KEY, api_key_of
from simulators.world import World
from tests.conftest import Simulator, running_civicrm

STAFF_KEY = api_key_of("bea.abebe")


@pytest.fixture(scope="module")
def civicrm(world: World) -> Iterator[Simulator]:
    with running_civicrm(world, era="3.2") as simulator:
        yield simulator


@pytest.fixture
def fresh_civicrm(world: World) -> Iterator[Simulator]:
    with running_civicrm(world, era="3.2") as simulator:
        yield simulator


def post(sim: Simulator, **form: str) -> httpx.Response:
    return httpx.post(f"{sim.url}{REST_PATH}", data=form)


def test_the_site_key_is_checked_first(civicrm: Simulator) -> None:
    v2 = post(civicrm, q="civicrm/contact/get", key="nope", api_key="also-nope", json="1")
    assert v2.status_code == 200
    assert v2.json()["error_message"].startswith("Could not authenticate user, invalid site key.")
    v3 = post(civicrm, entity="Contact", action="get", api_key=STAFF_KEY, json="{}")
    assert v3.json()["error_message"] == "Failed to authenticate key"  # API v3, as in 5.x


def test_a_user_credential_is_needed_after_the_site_key(civicrm: Simulator) -> None:
    assert post(civicrm, q="civicrm/contact/get", key=SITE_KEY, json="1").json() == {
        "is_error": 1,
        "error_message": "Valid session, or user api_key required",
    }
    v3 = post(civicrm, entity="Contact", action="get", key=SITE_KEY, api_key="wrong", json="{}")
    assert v3.json()["error_message"] == "ERROR: No CMS user associated with given api-key"


def test_xml_by_default_json_when_asked(civicrm: Simulator) -> None:
    as_xml = post(civicrm, q="civicrm/contact/get", key=SITE_KEY, api_key=STAFF_KEY, rowCount="2")
    assert as_xml.text.startswith('<?xml version="1.0"?>\n<ResultSet xmlns:xsi=')
    assert as_xml.text.count("<Result>") == 2
    as_json = post(
        civicrm, q="civicrm/contact/get", key=SITE_KEY, api_key=STAFF_KEY, rowCount="2", json="1"
    ).json()
    # API v2 lists: a bare JSON list of string values, no is_error.
    assert isinstance(as_json, list) and len(as_json) == 2
    assert all(isinstance(v, str) for record in as_json for v in record.values())


def test_v2_paging_defaults_to_25_and_return_selects_fields(civicrm: Simulator) -> None:
    page = post(civicrm, q="civicrm/contact/get", key=SITE_KEY, api_key=STAFF_KEY, json="1").json()
    assert len(page) == 25
    slim = post(
        civicrm,
        q="civicrm/contact/get",
        key=SITE_KEY,
        api_key=STAFF_KEY,
        json="1",
        rowCount="3",
        **{"return[email]": "1"},
    ).json()
    assert all(set(r) == {"contact_id", "email"} for r in slim)


def test_v3_envelope_in_filters_and_sequential(civicrm: Simulator) -> None:
    params = {"id": {"IN": [2, 3, 9999]}, "return": ["display_name"]}
    keyed = post(
        civicrm,
        entity="Contact",
        action="get",
        key=SITE_KEY,
        api_key=STAFF_KEY,
        json=json.dumps(params),
    ).json()
    assert (keyed["is_error"], keyed["version"], keyed["count"]) == (0, 3, 2)
    assert set(keyed["values"]) == {"2", "3"}
    listed = post(
        civicrm,
        entity="Contact",
        action="get",
        key=SITE_KEY,
        api_key=STAFF_KEY,
        json=json.dumps({**params, "sequential": 1}),
    ).json()
    assert sorted(v["id"] for v in listed["values"]) == ["2", "3"]  # by sort_name


def test_v3_writes_must_be_posted(civicrm: Simulator) -> None:
    answer = httpx.get(
        f"{civicrm.url}{REST_PATH}",
        params={
            "entity": "Contact",
            "action": "create",
            "key": SITE_KEY,
            "api_key": STAFF_KEY,
            "json": "{}",
        },
    )
    assert (
        answer.json()["error_message"]
        == "SECURITY: All requests that modify the database must be http POST, not GET."
    )


@pytest.mark.parametrize(
    ("q", "message"),
    [
        ("civicrm/contact", "Unknown function invocation."),
        ("civicrm/contact/fly", "Unknown function called: civicrm_contact_fly"),
    ],
)
def test_unknown_functions(civicrm: Simulator, q: str, message: str) -> None:
    assert (
        post(civicrm, q=q, key=SITE_KEY, api_key=STAFF_KEY, json="1").json()["error_message"]
        == message
    )


def test_create_needs_a_contact_type(fresh_civicrm: Simulator) -> None:
    answer = post(
        fresh_civicrm,
        q="civicrm/contact/add",
        key=SITE_KEY,
        api_key=STAFF_KEY,
        json="1",
        first_name="X",
    ).json()
    assert answer == {
        "is_error": 1,
        "error_message": "Mandatory key(s) missing from params array: contact_type",
    }
    created = post(
        fresh_civicrm,
        q="civicrm/contact/add",
        key=SITE_KEY,
        api_key=STAFF_KEY,
        json="1",
        contact_type="Individual",
        first_name="X",
        **{"email[1][email]": "x@example.net", "email[1][location_type_id]": "1"},
    ).json()
    assert created["is_error"] == 0 and created["contact_id"] > 300
    row = fresh_civicrm.app.state.store.one(
        "SELECT email FROM contacts WHERE id = ?", (created["contact_id"],)
    )
    assert row["email"] == "x@example.net"


def test_login_gives_the_api_key_and_a_session(civicrm: Simulator, world: World) -> None:
    answer = post(
        civicrm,
        q="civicrm/login",
        key=SITE_KEY,
        name="bea.abebe",
        json="1",
        **{"pass": "demo-password"},
    )
    body = answer.json()
    assert body["is_error"] == 0 and body["api_key"] == STAFF_KEY and body["PHPSESSID"]
    session = httpx.post(
        f"{civicrm.url}{REST_PATH}",
        data={"q": "civicrm/group/get", "key": SITE_KEY, "json": "1"},
        cookies={"PHPSESSID": body["PHPSESSID"]},
    ).json()
    assert isinstance(session, list) and session
    no_key = post(
        civicrm,
        q="civicrm/login",
        key=SITE_KEY,
        name=world.people[-1].username,
        json="1",
        **{"pass": "demo-password"},
    )
    assert "does not have a valid API key" in no_key.json()["error_message"]
    assert (
        post(civicrm, q="civicrm/ping", key=SITE_KEY, json="1").json()["message"]
        == f"PONG: {SITE_KEY}"
    )


def test_calls_are_counted_per_entity_and_action(fresh_civicrm: Simulator) -> None:
    post(fresh_civicrm, q="civicrm/group/get", key=SITE_KEY, api_key=STAFF_KEY, json="1")
    post(fresh_civicrm, entity="Group", action="get", key=SITE_KEY, api_key=STAFF_KEY, json="{}")
    assert fresh_civicrm.app.state.calls.snapshot() == {"group.get": 1, "Group.get": 1}
