"""The CiviCRM connector against what a real CiviCRM 5.77 on WordPress answered
(`tests/recordings/civicrm-5.77/`).

Every recorded answer, on both endpoints, goes through the connector's one reading of an answer
(`results.read`) and, where it is a list the connector reads, through its record parsers: it
parses, or maps to the error its words mean. And the connector's own calls for the findings of the
real-CiviCRM issue are replayed against the recorded answers they meet.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from connectors.civicrm import Civicrm, CivicrmAuth, ContactFields
from connectors.civicrm.client import _contact, _group, _records
from connectors.civicrm.results import Duplicate, read
from connectors.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    ProtocolError,
    Unauthenticated,
    Unavailable,
    UpstreamError,
)
from connectors.http import CallStats, Upstream
from tests.realworld import exchanges, response_of

RECORDED = exchanges("civicrm-5.77")
BY_SEQ = {e["seq"]: e for e in RECORDED}

KIND_OF_WORDS: list[tuple[str, type[UpstreamError]]] = [
    ("is not a valid option for field group_id", NotFound),
    ("is not a valid option for field contact_type", BadRequest),
    ("does not exist (join the api team", NotFound),
    ("api permission check failed", Forbidden),
    ("permission denied to modify", Forbidden),
    ("contact id 999 not found", NotFound),
    ("contact_id is not valid", NotFound),
    ("expected one", NotFound),
    ("db error: already exists", BadRequest),
    ("malformed rest path", BadRequest),
    ("no cms user associated with given api-key", Unauthenticated),
    ("mandatory param 'api_key'", Unauthenticated),
    ('invalid param "api_key"', Unauthenticated),
    ("failed to authenticate key", Unauthenticated),
    ("invalid parameter(s): key", Unauthenticated),
    ("param key is not valid", Unauthenticated),
    ("mandatory key(s) missing", BadRequest),
    ("unable to decode supplied json", ProtocolError),
    ("missing parameter(s): entity, action", BadRequest),
    ("found matching contacts", Conflict),
    ("could not delete contact", BadRequest),
    ("not a valid option for field phone_type_id", BadRequest),
    ("contact id 999999 not found", NotFound),
]
"""What each refusal a real CiviCRM sent means to the graph; every recorded refusal must match
exactly one entry, so a new wording fails here first."""


def words_of(answer: Any) -> str | None:
    if isinstance(answer, str) and "<is_error>1</is_error>" in answer:  # an XML refusal
        return answer.partition("<error_message>")[2].partition("</error_message>")[0]
    if isinstance(answer, dict) and str(answer.get("is_error", "0")) == "1":
        return str(answer.get("error_message") or answer.get("1") or "")
    if isinstance(answer, dict) and {"code", "message"} <= set(answer):
        return str(answer["message"])
    return None


def call_of(exchange: dict[str, Any]) -> tuple[str, str]:
    body = exchange["body"] or dict(parse_qsl(exchange["path"].partition("?")[2]))
    if body.get("q"):
        return "q", str(body["q"])
    return str(body.get("entity", "")), str(body.get("action", ""))


@pytest.mark.parametrize("exchange", RECORDED, ids=lambda e: f"{e['seq']}-{e['endpoint']}")
def test_every_recorded_answer_is_read_or_mapped_to_its_error(exchange: dict[str, Any]) -> None:
    words = words_of(exchange["response"])
    try:
        body = read(response_of_text(exchange))
    except UpstreamError as error:
        if words is None:  # no refusal: a crash page, or XML no parser accepts
            assert exchange["http_status"] >= 500, error
            assert isinstance(error, Unavailable)
            return
        (expected,) = [kind for part, kind in KIND_OF_WORDS if part in words.lower()]
        assert isinstance(error, expected), (words, error)
        return
    assert words is None, f"{words!r} was read as a success"
    entity, action = call_of(exchange)
    if (
        action == "get"
        and isinstance(body, dict | list)
        and (isinstance(body, list) or "values" in body)
    ):
        records = _records(body)
        parse = {"Contact": _contact, "Group": _group}.get(entity)
        for record in records:
            if parse is not None:
                parse(record)


def response_of_text(exchange: dict[str, Any]) -> httpx.Response:
    """The recorded answer, with text answers (XML, HTML) as text."""
    answer = exchange["response"]
    if isinstance(answer, str):
        return httpx.Response(
            exchange["http_status"], text=answer, headers={"content-type": exchange["content_type"]}
        )
    return response_of(exchange)


# The connector's calls, against the recorded answers they meet --------------------------------


class Site:
    """Answers each request of the connector with recorded answers, in order; records the
    requests' decoded `json` parameters."""

    def __init__(self, *answers: dict[str, Any]) -> None:
        self.answers = list(answers)
        self.sent: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        form = dict(parse_qsl(request.content.decode(), keep_blank_values=True))
        self.sent.append({**form, "json": json.loads(form.get("json", "{}") or "{}")})
        return response_of_text(self.answers.pop(0))


def civicrm(site: Site) -> Civicrm:
    client = httpx.AsyncClient(transport=httpx.MockTransport(site))
    upstream = Upstream(
        "civicrm", client, "http://crm.test", CivicrmAuth("site-key", "api-key"), CallStats()
    )
    return Civicrm(upstream, rest_path="/wp-json/civicrm/v3/rest")


async def test_many_contacts_groups_in_one_call() -> None:
    """Finding 1: GroupContact.get with contact ids is a PHP fatal (HTTP 500 HTML); the
    connector reads the groups from Contact.get return=group, one call."""
    assert BY_SEQ[63]["http_status"] == 500
    site = Site(BY_SEQ[75])
    found = await civicrm(site).memberships(contact_ids=[7, 8, 9, 16])
    assert sorted((m.contact_id, m.group_id) for m in found) == [
        (7, 2),
        (7, 3),
        (8, 2),
        (8, 3),
        (9, 2),
        (9, 4),
        (16, 3),  # Jon's Volunteers membership is Removed: its item is empty
    ]
    (sent,) = site.sent
    assert (sent["entity"], sent["action"]) == ("Contact", "get")
    assert sent["json"]["id"] == {"IN": [7, 8, 9, 16]} and "group" in sent["json"]["return"]


async def test_a_bad_api_key_is_unauthenticated_on_both_endpoints() -> None:
    """Finding 5."""
    for seq in (16, 18, 20, 22):
        with pytest.raises(Unauthenticated):
            await civicrm(Site(BY_SEQ[seq])).me()


async def test_a_write_that_happened_is_not_reported_failed() -> None:
    """Finding 3: adding to a group goes through Contact.create with a chained
    GroupContact.create, which the WordPress endpoint answers whole."""
    assert BY_SEQ[122]["http_status"] == 500  # GroupContact.create: written, then a crash
    site = Site(BY_SEQ[132])
    assert await civicrm(site).add_to_group(4, [39]) == 1
    assert site.sent[0]["json"]["api.GroupContact.create"] == {"group_id": 4}


async def test_contact_5_has_no_login_by_password() -> None:
    """Finding 4: nothing is asked; the answer says what to do."""
    site = Site()
    with pytest.raises(BadRequest) as refused:
        await civicrm(site).login("staff1", "whatever")
    assert "api key" in refused.value.message and site.sent == []


def test_group_types_are_a_list() -> None:
    """Finding 6."""
    groups = [_group(r) for r in _records(read(response_of(BY_SEQ[79])))]
    by_title = {g.title: g.group_types for g in groups}
    assert by_title["Volunteers"] == ("2",)
    assert by_title["Administrators"] == ("1",)
    assert () in by_title.values()  # a group without a type has no `group_type` key


def test_xml_with_numbered_elements_is_read() -> None:
    """Fact 3: CiviCRM writes list items as `<0>`; the connector reads them anyway."""
    answer = BY_SEQ[81]["response"]
    assert "<0>" in answer
    groups = [_group(r) for r in read(response_of_text(BY_SEQ[81]))]
    assert {g.title: g.group_types for g in groups}["Volunteers"] == ("2",)


def test_slashed_json_on_wordpress_says_which_endpoint_to_use() -> None:
    """Finding 7."""
    with pytest.raises(ProtocolError) as caught:
        read(response_of(BY_SEQ[25]))
    assert "/wp-json/civicrm/v3/rest" in caught.value.message


def test_the_3_2_add_actions_do_not_exist_on_5() -> None:
    """Finding 8: the connector's q= writes ask `create`, and `add` only where `create` is
    missing."""
    with pytest.raises(NotFound):
        read(response_of(BY_SEQ[148]))
    assert str(read(response_of(BY_SEQ[149]))["id"]) == "41"


# Writes whole or not at all, duplicates, removal, LIKE (recorded 2026-12-06, seq 155-235) --------


async def test_a_duplicate_is_a_conflict_naming_the_matches() -> None:
    """CiviCRM's `dupe_check` with the site's default rule: an individual by e-mail, whatever
    the names and the case (155, 156); the gateway sends the e-mail at the top level, where
    the rule sees it, and creates nothing."""
    for seq in (155, 156):
        site = Site(BY_SEQ[seq])
        with pytest.raises(Duplicate) as refused:
            await civicrm(site).create_contact(
                ContactFields(
                    contact_type="Individual", first_name="Ana", email="ANA.ALVAREZ@example.org"
                )
            )
        assert refused.value.ids == [7] and "contact 7" in refused.value.message
        (sent,) = site.sent
        assert (
            sent["json"]["dupe_check"] == 1 and sent["json"]["email"] == "ANA.ALVAREZ@example.org"
        )


async def test_a_duplicate_can_answer_the_existing_contact() -> None:
    site = Site(BY_SEQ[155], BY_SEQ[26])
    found = await civicrm(site).create_contact(
        ContactFields(contact_type="Individual", first_name="Ana", email="ana.alvarez@example.org"),
        on_duplicate="existing",
    )
    assert found.id == 7 and found.email == "ana.alvarez@example.org"
    assert site.sent[1]["json"]["id"] == {"IN": [7]}


async def test_a_create_whose_phone_fails_saves_nothing() -> None:
    """Finding C7: the phone is chained into the create, and CiviCRM 5 rolls the whole create
    back when the chained call fails (167, then 168: no such contact). One request, and the
    error is CiviCRM's own words without its "Error in call to" prefix."""
    assert BY_SEQ[168]["response"]["count"] == 0
    site = Site(BY_SEQ[167])
    with pytest.raises(BadRequest) as refused:
        await civicrm(site).create_contact(
            ContactFields(
                contact_type="Individual", first_name="Kim", last_name="Chainfail", phone="+44"
            )
        )
    assert refused.value.message == "'999' is not a valid option for field phone_type_id"
    assert refused.value.field == "phone_type_id" and len(site.sent) == 1
    assert "api.Phone.create" in site.sent[0]["json"]


async def test_an_update_is_one_call_whole_or_not_at_all() -> None:
    """Finding C7: the contact is read first (its primary e-mail's and phone's ids, 202), then
    names, e-mail and phone go in one Contact.create; when a part fails CiviCRM keeps none of
    it (203, then 204 unchanged)."""
    assert BY_SEQ[204]["response"]["values"] == BY_SEQ[202]["response"]["values"]
    site = Site(BY_SEQ[202], BY_SEQ[203])
    change = ContactFields(last_name="Changed", email="kim.changed@example.org", phone="+44 1")
    with pytest.raises(BadRequest):
        await civicrm(site).update_contact(37, change)
    write = site.sent[1]["json"]
    assert write["id"] == 37 and write["last_name"] == "Changed"
    assert write["api.Email.create"] == {"id": 34, "email": "kim.changed@example.org"}
    assert write["api.Phone.create"] == {"id": 26, "phone": "+44 1"}
    assert len(site.sent) == 2


async def test_an_update_answers_the_contact_read_back() -> None:
    site = Site(BY_SEQ[202], BY_SEQ[205], BY_SEQ[206])
    last = BY_SEQ[206]["response"]["values"][0]
    updated = await civicrm(site).update_contact(
        37, ContactFields(last_name=last["last_name"], email=last["email"], phone=last["phone"])
    )
    assert (updated.last_name, updated.email, updated.phone) == (
        last["last_name"],
        last["email"],
        last["phone"],
    )
    assert len(site.sent) == 3  # read, write, read back


async def test_an_update_of_a_contact_the_caller_cannot_see_writes_nothing() -> None:
    """Finding C10: NOT_FOUND before any write (a member sees no contacts: 163's empty answer)."""
    site = Site(BY_SEQ[163])
    with pytest.raises(NotFound):
        await civicrm(site).update_contact(34, ContactFields(email="x@example.org"))
    assert len(site.sent) == 1 and site.sent[0]["action"] == "get"


async def test_removing_from_a_group_keeps_the_membership_as_removed() -> None:
    """Finding C11: a chained GroupContact.create with status Removed answers `removed`
    (211), 0 for a contact that is not a member (215, 216); Contact.get's `groups` then has an
    empty item for it (212)."""
    site = Site(BY_SEQ[211], BY_SEQ[215])
    assert await civicrm(site).remove_from_group(4, [37]) == 1
    assert await civicrm(site).remove_from_group(4, [37]) == 0
    assert site.sent[0]["json"]["api.GroupContact.create"] == {"group_id": 4, "status": "Removed"}
    assert BY_SEQ[212]["response"]["values"][0]["groups"] == ""


async def test_membership_refusals_say_what_was_refused() -> None:
    """Finding C10: a missing group is NOT_FOUND in CiviCRM's words without "Error in call to
    GroupContact_create" (217); a member's refusal names the groups, not "modify contact
    record" (219)."""
    with pytest.raises(NotFound) as missing:
        await civicrm(Site(BY_SEQ[217])).remove_from_group(99, [37])
    assert missing.value.message == "'99' is not a valid option for field group_id"
    with pytest.raises(Forbidden) as refused:
        await civicrm(Site(BY_SEQ[219])).add_to_group(4, [37])
    assert refused.value.message == "CiviCRM does not let this caller change contact 37's groups"


async def test_search_matches_percent_and_underscore_as_themselves() -> None:
    """Finding C6: CiviCRM passes a LIKE pattern to MySQL, whose escape is the backslash:
    "Ana_Alv" matches Ana Alvarez unescaped (189), nothing escaped (188); an escaped "%" and
    "_" match themselves (230, 233)."""
    site = Site(BY_SEQ[188])
    assert await civicrm(site).contacts(search="Ana_Alv") == []
    assert site.sent[0]["json"]["display_name"] == {"LIKE": "%Ana\\_Alv%"}
    assert BY_SEQ[189]["response"]["count"] == 1
    for seq in (230, 233):
        assert BY_SEQ[seq]["response"]["count"] == 1
    site = Site(BY_SEQ[193])
    assert await civicrm(site).groups(search="V_l") == []
    assert site.sent[0]["json"]["title"] == {"LIKE": "%V\\_l%"}


async def test_a_read_back_with_someone_elses_values_says_so() -> None:
    """Finding C3: CiviCRM answered the write with the values sent (205), but the contact
    reads back otherwise (someone wrote between): CONFLICT naming what changed, not "did not
    save"."""
    other = json.loads(json.dumps(BY_SEQ[206]))
    other["response"]["values"][0]["last_name"] = "Someone"
    written = BY_SEQ[205]["response"]["values"][0]
    site = Site(BY_SEQ[202], BY_SEQ[205], other)
    with pytest.raises(Conflict) as changed:
        await civicrm(site).update_contact(37, ContactFields(last_name=written["last_name"]))
    assert "someone else changed it since: last_name is now 'Someone'" in changed.value.message
    assert "did not save" not in changed.value.message


async def test_groups_key_absent_is_not_no_groups() -> None:
    """Finding C9: CiviCRM 5.77 sends `groups` for every contact asked, "" for none (236); a
    site that ignored `return: group` sends no key, and those contacts are asked one by one
    (`GroupContact.get`, whose rows for one contact lack `contact_id`: 65)."""
    assert all("groups" in r for r in BY_SEQ[236]["response"]["values"])
    ignored = json.loads(json.dumps(BY_SEQ[236]))
    for record in ignored["response"]["values"]:
        del record["groups"]
    ignored["response"]["values"] = [r for r in ignored["response"]["values"] if r["id"] == "6"]
    site = Site(ignored, BY_SEQ[65])
    found = await civicrm(site).memberships(contact_ids=[6])
    assert sorted(m.group_id for m in found) == [2, 3] and {m.contact_id for m in found} == {6}
    assert (site.sent[1]["entity"], site.sent[1]["json"]["contact_id"]) == ("GroupContact", 6)
    site = Site(BY_SEQ[236])
    assert await civicrm(site).memberships(contact_ids=[31, 33, 17, 6]) == []
    assert len(site.sent) == 1


async def test_the_q_style_search_is_escaped_too() -> None:
    """Finding C6 in the q= style: CiviCRM 5 matches `sort_name` with LIKE, `%` matching
    everyone (237), and takes the same backslash escape (238: none, 239: Ana Alvarez)."""
    assert BY_SEQ[237]["response"]["count"] == 3 and BY_SEQ[239]["response"]["count"] == 1
    site = Site(BY_SEQ[238])
    client = civicrm(site)
    client.style = "q"
    assert await client.contacts(search="Ana_Alv") == []
    assert site.sent[0]["sort_name"] == "Ana\\_Alv"
