"""The CiviCRM simulator states what the real CiviCRM 5.77 answered an administrator and a
restricted user for search by field, relationships, custom fields and new groups
(`tests/recordings/civicrm-5.77/issue27.jsonl`, by seq). Raw HTTP, no connector. The
simulator's restricted user is the fifth person (staff without "access all custom data")."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from simulators.civicrm import REST_PATH, SITE_KEY, api_key_of
from tests.conftest import Simulator
from tests.realworld import exchanges

ADMIN, RESTRICTED = "bea.abebe", "emil.zhou"
REAL = {e["seq"]: e["response"] for e in exchanges("civicrm-5.77", "issue27.jsonl")}


def v3(sim: Simulator, entity: str, action: str, who: str = ADMIN, **params: Any) -> Any:
    form = {
        "entity": entity,
        "action": action,
        "key": SITE_KEY,
        "api_key": api_key_of(who),
        "json": json.dumps({"sequential": 1, **params}),
    }
    return httpx.post(f"{sim.url}{REST_PATH}", data=form).json()


def test_relationships_either_side_only_with_options_or(civicrm: Simulator) -> None:
    """262 and 265: the two IN filters are both required unless `options.or` pairs them."""
    both = {"contact_id_a": {"IN": [2, 3, 4]}, "contact_id_b": {"IN": [2, 3, 4]}}
    either = v3(
        civicrm, "Relationship", "get", **both, options={"or": [["contact_id_a", "contact_id_b"]]}
    )
    required = v3(civicrm, "Relationship", "get", **both)
    assert [(r["contact_id_a"], r["contact_id_b"]) for r in either["values"]] == [
        ("2", "1"),
        ("3", "4"),
    ]
    assert [(r["contact_id_a"], r["contact_id_b"]) for r in required["values"]] == [("3", "4")]
    assert set(either["values"][0]) <= set(REAL[262]["values"][0])
    assert "end_date" not in either["values"][0]  # absent where not set, as 262


def test_relationship_types_as_installed(civicrm: Simulator) -> None:
    """261."""
    answer = v3(civicrm, "RelationshipType", "get", options={"limit": 0})
    real = [(t["id"], t["label_a_b"], t["label_b_a"]) for t in REAL[261]["values"]]
    assert [(t["id"], t["label_a_b"], t["label_b_a"]) for t in answer["values"]] == real


@pytest.mark.parametrize("entity", ["CustomField", "CustomGroup"])
def test_custom_field_definitions_need_access_to_all_custom_data(
    civicrm: Simulator, entity: str
) -> None:
    """268, 269."""
    refused = v3(civicrm, entity, "get", RESTRICTED)
    real = REAL[268 if entity == "CustomField" else 269]
    assert (refused["error_code"], refused["error_message"]) == (
        real["error_code"],
        real["error_message"],
    )
    assert v3(civicrm, entity, "get")["count"] >= 2


def test_custom_fields_joined_with_their_set(civicrm: Simulator) -> None:
    """266 (same fields, same keys) and 271 (the select's options)."""
    asked = {
        "custom_group_id.extends": {"IN": ["Contact", "Individual", "Organization", "Household"]}
    }
    answer = v3(civicrm, "CustomField", "get", **asked)
    keep = (
        "id",
        "name",
        "label",
        "data_type",
        "html_type",
        "custom_group_id.title",
        "custom_group_id.extends",
    )
    assert [{k: f[k] for k in keep} for f in answer["values"]] == [
        {k: f[k] for k in keep} for f in REAL[266]["values"]
    ]
    options = v3(civicrm, "OptionValue", "get", option_group_id={"IN": [102]})
    assert [(o["value"], o["label"]) for o in options["values"]] == [
        (o["value"], o["label"]) for o in REAL[271]["values"]
    ]


def test_custom_values_are_left_out_for_a_restricted_user(civicrm: Simulator) -> None:
    """272 and 274: "" where a contact has none; no key at all for the restricted user."""
    asked = {"id": {"IN": [2, 4]}, "return": ["custom_1", "custom_2", "custom_7"]}
    admin = v3(civicrm, "Contact", "get", **asked)["values"]
    assert (admin[0]["custom_1"], admin[1]["custom_1"], admin[1]["custom_2"]) == ("M", "", "4")
    restricted = v3(civicrm, "Contact", "get", RESTRICTED, **asked)["values"]
    assert [r["id"] for r in restricted] == ["2", "4"]
    assert not [k for r in restricted for k in r if k.startswith("custom_")]


def test_custom_writes(fresh_civicrm: Simulator) -> None:
    """275/276 (written, modified_date kept as 282 shows), 278 and 279 (refused), 281 and 282
    (a restricted user's write answered success and ignored)."""
    sim = fresh_civicrm
    before = v3(sim, "Contact", "get", id=4, **{"return": ["modified_date"]})["values"][0]
    assert (
        v3(sim, "Contact", "create", id=4, custom_1="S", custom_4=0, custom_3="2024-03-01")[
            "is_error"
        ]
        == 0
    )
    after = v3(
        sim,
        "Contact",
        "get",
        id=4,
        **{"return": ["custom_1", "custom_3", "custom_4", "modified_date"]},
    )
    record = after["values"][0]
    assert (record["custom_1"], record["custom_3"], record["custom_4"]) == (
        "S",
        "2024-03-01 00:00:00",
        "0",
    )
    assert record["modified_date"] == before["modified_date"]
    bad_option = v3(sim, "Contact", "create", id=4, custom_1="XL")
    assert (bad_option["error_code"], bad_option["error_message"]) == (
        REAL[278]["error_code"], REAL[278]["error_message"]
    )  # fmt: skip
    not_a_number = v3(sim, "Contact", "create", id=4, custom_2="lots")
    assert not_a_number["error_message"] == REAL[279]["error_message"]
    ignored = v3(sim, "Contact", "create", RESTRICTED, id=4, custom_1="L")
    assert ignored["is_error"] == 0
    assert (
        v3(sim, "Contact", "get", id=4, **{"return": ["custom_1"]})["values"][0]["custom_1"] == "S"
    )


def test_group_create(fresh_civicrm: Simulator, world: Any) -> None:
    """283 (types and visibility as given), 284 (a title taken), 285 (a visibility CiviCRM
    does not have)."""
    sim = fresh_civicrm
    made = v3(
        sim,
        "Group",
        "create",
        title="Newsletter 1",
        description="d",
        group_type=["2"],
        visibility="Public Pages",
    )
    group = made["values"][0]
    assert (group["group_type"], group["visibility"]) == (["2"], "Public Pages")
    again = v3(sim, "Group", "create", title="Newsletter 1")
    assert (str(again["error_code"]), again["error_message"]) == (
        str(REAL[284]["error_code"]),
        REAL[284]["error_message"],
    )
    odd = v3(sim, "Group", "create", title="Newsletter 2", visibility="Everyone")
    assert (odd["error_message"], odd["error_field"]) == (REAL[285]["error_message"], "visibility")
