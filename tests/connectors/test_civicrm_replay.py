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

from connectors.civicrm import Civicrm, CivicrmAuth
from connectors.civicrm.client import _contact, _group, _records
from connectors.civicrm.results import read
from connectors.errors import (
    BadRequest,
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
