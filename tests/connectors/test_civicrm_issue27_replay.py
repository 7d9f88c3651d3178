"""The CiviCRM connector's search by field, relationships, custom fields and group creation
against what the real CiviCRM 5.77 answered an administrator and a restricted user
(`tests/recordings/civicrm-5.77/issue27.jsonl`; the restricted user has "access CiviCRM" and
views and edits all contacts, without "access all custom data" and "edit groups")."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.civicrm import ContactFields, ContactFilter, custom
from connectors.civicrm.client import _records
from connectors.civicrm.results import read
from connectors.errors import BadRequest, Conflict, Forbidden, ProtocolError, UpstreamError
from tests.connectors.test_civicrm_replay import Site, civicrm, response_of_text, words_of
from tests.realworld import exchanges

RECORDED = exchanges("civicrm-5.77", "issue27.jsonl")
BY_SEQ = {e["seq"]: e for e in RECORDED}
KIND_OF_WORDS: list[tuple[str, type[UpstreamError]]] = [
    ("is not of the type", BadRequest),
    ("is not a valid option for field custom_1", BadRequest),
    ("is not a valid option for field visibility", BadRequest),
    ("api permission check failed", Forbidden),
    ("db error: already exists", BadRequest),
]


def test_the_recording_is_of_both_roles() -> None:
    assert {e["as"] for e in RECORDED} == {"admin", "restricted"}
    assert [e["seq"] for e in RECORDED] == list(range(244, 289))


@pytest.mark.parametrize("exchange", RECORDED, ids=lambda e: f"{e['seq']}-{e['as']}")
def test_every_recorded_answer_is_read_or_mapped_to_its_error(exchange: dict[str, Any]) -> None:
    words = words_of(exchange["response"])
    try:
        read(response_of_text(exchange))
    except UpstreamError as error:
        assert words is not None, error
        (expected,) = [kind for part, kind in KIND_OF_WORDS if part in words.lower()]
        assert isinstance(error, expected), (words, error)
        return
    assert words is None, f"{words!r} was read as a success"


async def test_a_search_by_field_sends_each_filter_and_only_the_fields_asked_for() -> None:
    """245: type, city, country and group combined, the fields asked for and the page."""
    site = Site(BY_SEQ[245])
    where = ContactFilter(
        contact_type="Individual", city="Leeds", country="United Kingdom", group_id=2
    )
    asked = ("contact_type", "display_name", "email", "city", "country")
    found = await civicrm(site).contacts(where=where, returned=asked, limit=4)
    assert [(c.display_name, c.city, c.country) for c in found][:2] == [
        ("Ana Alvarez", "Leeds", "United Kingdom"),
        ("Ben Brown", "Leeds", "United Kingdom"),
    ]
    assert found[0].phone is None and found[0].sort_name == ""  # not asked for
    sent = site.sent[0]["json"]
    assert sent["return"] == list(asked)
    assert (sent["contact_type"], sent["city"], sent["country"], sent["group"]) == (
        "Individual",
        "Leeds",
        "United Kingdom",
        {"IN": [2]},
    )


async def test_modified_since_is_a_comparison_in_civicrms_time() -> None:
    """257: `modified_date >=` the moment, written as CiviCRM writes dates (the site's UTC)."""
    site = Site(BY_SEQ[257])
    since = datetime(2026, 12, 6, 22, 20, tzinfo=UTC)
    found = await civicrm(site).contacts(where=ContactFilter(modified_since=since))
    assert site.sent[0]["json"]["modified_date"] == {">=": "2026-12-06 22:20:00"}
    assert {c.display_name for c in found} == {"Cora Coordinator", "Xena Xu"}
    assert all(c.modified_at and c.modified_at >= since for c in found)


async def test_the_count_takes_the_same_filters() -> None:
    site = Site(BY_SEQ[246])
    where = ContactFilter(contact_type="Individual", city="Leeds", group_id=2)
    assert await civicrm(site).contact_count(where=where) == 9
    assert site.sent[0]["json"]["city"] == "Leeds"


def test_the_real_site_matches_filters_whole_and_in_any_case() -> None:
    """244 (e-mail in another case), 255 (city), 252 (a first name's prefix finds nothing),
    253/254 (a country by name; by ISO code refused), 258 (a smart group as a group)."""
    assert BY_SEQ[244]["response"]["count"] == 1 and BY_SEQ[255]["response"]["count"] == 1
    assert BY_SEQ[252]["response"]["count"] == 0
    assert BY_SEQ[253]["response"]["values"][0]["country"] == "France"
    with pytest.raises(BadRequest):
        read(response_of_text(BY_SEQ[254]))
    assert BY_SEQ[258]["response"]["count"] == 3 and BY_SEQ[288]["response"]["count"] == 0


async def test_a_page_of_contacts_relationships_is_one_call_either_side() -> None:
    """262: `options.or` pairs the two IN filters; without it CiviCRM requires both (265)."""
    site = Site(BY_SEQ[262])
    found = await civicrm(site).relationships([7, 8, 9, 10, 31])
    assert [(r.contact_id_a, r.contact_id_b, r.type_id) for r in found] == [
        (7, 31, 5),
        (8, 9, 2),
        (10, 11, 1),
        (12, 31, 6),
    ]
    ended = found[2]
    assert (ended.is_active, ended.start_date, ended.end_date) == (
        False,
        "2001-02-03",
        "2025-06-30",
    )
    assert found[1].start_date is None
    assert site.sent[0]["json"]["options"]["or"] == [["contact_id_a", "contact_id_b"]]
    assert BY_SEQ[265]["response"]["count"] == 2
    assert BY_SEQ[264]["response"] == BY_SEQ[262]["response"]  # the restricted user alike


async def test_relationship_types_have_both_labels() -> None:
    types = {t.id: t for t in await civicrm(Site(BY_SEQ[261])).relationship_types()}
    assert (types[5].label_a_b, types[5].label_b_a) == ("Employee of", "Employer of")
    assert BY_SEQ[263]["response"] == BY_SEQ[261]["response"]


async def test_custom_fields_come_typed_with_their_options() -> None:
    """266 (the fields with their set, joined), 271 (the select's options)."""
    site = Site(BY_SEQ[266], BY_SEQ[271])
    fields = {f.key: f for f in await civicrm(site).custom_fields()}
    assert [f.label for f in fields.values()] == [
        "T-shirt size",
        "Volunteer hours",
        "First donation",
        "Gift Aid",
        "Dietary needs",
        "Visits",
        "DBS checked",
    ]
    shirt = fields["custom_1"]
    assert (shirt.group, shirt.extends, shirt.data_type) == (
        "Supporter details",
        "Individual",
        "String",
    )
    assert [(o.value, o.label) for o in shirt.options] == [
        ("S", "Small"),
        ("M", "Medium"),
        ("L", "Large"),
    ]
    assert fields["custom_7"].extends == "Contact" and fields["custom_7"].options == ()
    assert site.sent[1]["json"]["option_group_id"] == {"IN": [102]}


async def test_a_user_without_access_to_custom_data_has_none() -> None:
    """268: CiviCRM refuses the restricted user the fields; that is no custom fields, not an
    error (and 274: its Contact.get leaves the values out)."""
    site = Site(BY_SEQ[268])
    assert await civicrm(site).custom_fields() == []
    assert len(site.sent) == 1
    fields = await civicrm(Site(BY_SEQ[266], BY_SEQ[271])).custom_fields()
    values = await civicrm(Site(BY_SEQ[274])).custom_values([7, 8, 9, 31], fields)
    assert values == {7: {}, 8: {}, 9: {}, 31: {}}


async def test_custom_values_of_a_page_in_one_call() -> None:
    fields = await civicrm(Site(BY_SEQ[266], BY_SEQ[271])).custom_fields()
    site = Site(BY_SEQ[272])
    values = await civicrm(site).custom_values([7, 8, 9, 31], fields)
    assert values[7]["custom_1"] == "M" and values[7]["custom_3"] == "2023-05-06 00:00:00"
    assert values[8]["custom_2"] == "" and values[31]["custom_1"] == ""
    assert site.sent[0]["json"]["id"] == {"IN": [7, 8, 9, 31]}
    assert [o.label for o in custom.options_of(fields[0], values[7]["custom_1"])] == ["Medium"]


async def test_custom_fields_are_written_with_the_contact_and_read_back() -> None:
    """275 wrote them in one Contact.create; 276 reads them back."""
    fields = {f.key: f for f in await civicrm(Site(BY_SEQ[266], BY_SEQ[271])).custom_fields()}
    sent = json.loads(BY_SEQ[275]["body"]["json"])
    change = [
        (fields[key], custom.written(fields[key], str(value)))
        for key, value in sent.items()
        if key.startswith("custom_")
    ]
    site = Site(BY_SEQ[276], BY_SEQ[275], BY_SEQ[276])
    updated = await civicrm(site).update_contact(9, ContactFields(), change)
    assert updated.custom is not None and updated.custom["custom_1"] == "S"
    write = site.sent[1]["json"]
    assert (write["id"], write["custom_1"], write["custom_4"], write["custom_3"]) == (
        9,
        "S",
        0,
        "2024-03-01",
    )
    assert set(site.sent[2]["json"]["return"]) >= {"custom_1", "custom_6"}


async def test_a_custom_write_civicrm_ignores_is_not_reported_done() -> None:
    """281: CiviCRM answers the restricted user's write success and keeps the old value (282)."""
    fields = {f.key: f for f in await civicrm(Site(BY_SEQ[266], BY_SEQ[271])).custom_fields()}
    shirt = fields["custom_1"]
    site = Site(BY_SEQ[282], BY_SEQ[281], BY_SEQ[282])
    with pytest.raises(ProtocolError) as failed:
        await civicrm(site).update_contact(9, ContactFields(), [(shirt, "L")])
    assert "did not save: T-shirt size (custom_1)" in failed.value.message


def test_values_are_checked_before_anything_is_written() -> None:
    """What CiviCRM would refuse (278, 279) is refused first, in the caller's words."""
    records = _records(read(response_of_text(BY_SEQ[266])))
    options = _records(read(response_of_text(BY_SEQ[271])))
    from connectors.answers import typed
    from connectors.civicrm import answers as a

    fields = {
        f.key: f
        for f in custom.custom_fields(
            [typed("civicrm", r, a.CustomFieldRecord, "f") for r in records],
            [typed("civicrm", r, a.OptionValueRecord, "o") for r in options],
        )
    }
    assert custom.written(fields["custom_1"], "Large") == "L"
    assert custom.written(fields["custom_4"], "false") == 0
    assert custom.written(fields["custom_2"], " 7.25 ") == "7.25"
    assert custom.written(fields["custom_5"], None) == ""
    for key, value in (("custom_1", "XL"), ("custom_2", "lots"), ("custom_6", "2.5"),
                       ("custom_3", "01/03/2024"), ("custom_4", "maybe")):  # fmt: skip
        with pytest.raises(custom.InvalidValue) as refused:
            custom.written(fields[key], value)
        assert refused.value.key == key


async def test_a_new_group_is_answered_as_created() -> None:
    site = Site(BY_SEQ[283])
    group = await civicrm(site).create_group(
        "Newsletter 22:20:00", "Monthly news", group_types=["2"], visibility="Public Pages"
    )
    assert (group.id, group.title, group.group_types, group.visibility) == (
        6,
        "Newsletter 22:20:00",
        ("2",),
        "Public Pages",
    )
    assert site.sent[0]["json"]["group_type"] == ["2"]


async def test_group_creation_refusals() -> None:
    """284: a title taken is CONFLICT; 286: without "edit groups", FORBIDDEN; 285: a
    visibility CiviCRM does not have."""
    with pytest.raises(Conflict) as taken:
        await civicrm(Site(BY_SEQ[284])).create_group("Newsletter 22:20:00")
    assert "already has a group titled" in taken.value.message
    assert "INSERT" not in taken.value.message  # CiviCRM's SQL stays out
    with pytest.raises(Forbidden):
        await civicrm(Site(BY_SEQ[286])).create_group("Other")
    with pytest.raises(BadRequest):
        await civicrm(Site(BY_SEQ[285])).create_group("Other", visibility="Everyone")
