"""The CiviCRM connector: XML parsing (safely), the is_error envelope, both call styles."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from connectors.civicrm import Civicrm, CivicrmAuth, ContactFields, error_from, parse_xml
from connectors.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    ProtocolError,
    Unauthenticated,
    UpstreamError,
)
from connectors.http import Upstream
from tests.connectors.recording import Recorder

REST = "/sites/all/modules/civicrm/extern/rest.php"


def civicrm_with(
    handler: Recorder, style: str = "entity", api_key: str | None = "user-key"
) -> Civicrm:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    auth = CivicrmAuth("site-secret", api_key)
    return Civicrm(
        Upstream("civicrm", client, "http://crm.test", auth), rest_path=REST, style=style
    )  # type: ignore[arg-type]


def xml(body: str) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "text/xml"}, content=body.encode())


def test_xml_results_nested_and_empty() -> None:
    text = """<?xml version="1.0"?>
<ResultSet xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" count="2">
<Result><contact_id>1</contact_id><sort_name>Doe, Jane</sort_name><email></email>
<address><city>Leeds</city><postal_code>LS1 2AB</postal_code></address></Result>
<Result><contact_id>7</contact_id><sort_name>O&apos;Neil &amp; Co</sort_name></Result>
</ResultSet>"""
    assert parse_xml(text) == [
        {
            "contact_id": "1",
            "sort_name": "Doe, Jane",
            "email": "",
            "address": {"city": "Leeds", "postal_code": "LS1 2AB"},
        },
        {"contact_id": "7", "sort_name": "O'Neil & Co"},
    ]
    assert parse_xml('<?xml version="1.0"?>\n<ResultSet count="0">\n</ResultSet>') == []


@pytest.mark.parametrize(
    "hostile",
    [
        # Entity expansion ("billion laughs"): refused before anything expands.
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        "<ResultSet><Result><x>&b;</x></Result></ResultSet>",
        # An external entity: nothing is fetched or read.
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]><ResultSet><Result><x>&e;</x></Result></ResultSet>',
        "<ResultSet><Result><unclosed></Result></ResultSet>",
        "<html><body>Site offline</body></html>",
    ],
)
def test_hostile_or_broken_xml_is_a_protocol_error(hostile: str) -> None:
    with pytest.raises(ProtocolError):
        parse_xml(hostile)


@pytest.mark.parametrize(
    ("body", "kind", "field"),
    [
        (
            {
                "error_message": "Could not authenticate user, invalid site key. More info at: http://x"
            },
            Unauthenticated,
            None,
        ),
        (
            {"error_message": "FATAL: 'key' is incorrect. More info at: http://x"},
            Unauthenticated,
            None,
        ),
        ({"error_message": "Valid session, or user api_key required"}, Unauthenticated, None),
        ({"error_message": "User API key invalid"}, Unauthenticated, None),
        (
            {"error_message": "FATAL: mandatory param 'api_key' (user key) missing"},
            Unauthenticated,
            None,
        ),
        (
            {
                "error_message": "API permission check failed for Contact/create call; insufficient permission: require access CiviCRM and add contacts",
                "error_code": "unauthorized",
            },
            Forbidden,
            None,
        ),
        (
            {
                "error_message": "Mandatory key(s) missing from params array: contact_type",
                "error_code": "mandatory_missing",
            },
            BadRequest,
            "contact_type",
        ),
        ({"error_message": "contact_id is a required field"}, BadRequest, "contact_id"),
        ({"error_message": "Invalid Contact Id 999"}, NotFound, None),
        ({"error_message": "contact_id is not valid", "error_field": "id"}, NotFound, "id"),
        (
            {"error_message": "contact_type `Robot` is not valid.", "error_field": "contact_type"},
            BadRequest,
            "contact_type",
        ),
        ({"error_message": "Invalid parameters"}, BadRequest, None),
    ],
)
def test_envelope_errors_map_to_the_hierarchy(
    body: dict[str, Any], kind: type[UpstreamError], field: str | None
) -> None:
    error = error_from({"is_error": 1, **body})
    assert type(error) is kind
    assert error.source == "civicrm"
    assert error.field == field


async def test_keys_go_in_the_body_and_v3_parameters_in_json() -> None:
    recorder = Recorder(
        lambda r: httpx.Response(200, json={"is_error": 0, "version": 3, "count": 0, "values": []})
    )
    await civicrm_with(recorder).contacts(ids=[3, 5])
    request = recorder.requests[0]
    assert "site-secret" not in str(request.url) and "user-key" not in str(request.url)
    assert request.headers.get_list("content-type") == ["application/x-www-form-urlencoded"]
    form = recorder.form()
    assert (form["key"], form["api_key"], form["entity"], form["action"]) == (
        "site-secret",
        "user-key",
        "Contact",
        "get",
    )
    params = json.loads(form["json"])
    assert (
        params["id"] == {"IN": [3, 5]}
        and params["sequential"] == 1
        and params["options"] == {"limit": 0}
    )


async def test_q_style_writes_flat_parameters_and_numbered_email_blocks_on_3_2() -> None:
    """CiviCRM 5 takes `q=civicrm/contact/create` (API v3, flat fields: a top-level e-mail, the
    duplicate check); a 3.2-era site, which has no `create`, `contact/add` with the numbered
    e-mail blocks of API v2."""

    def respond(request: httpx.Request) -> httpx.Response:
        sent = request.content.decode()
        if "contact%2Fget" in sent:  # the read back
            saved = {"contact_id": "42", "first_name": "Ana", "email": "ana@example.net"}
            return httpx.Response(200, json=[saved])
        if "contact%2Fcreate" in sent and era == "3.2":
            return httpx.Response(
                200, json={"is_error": 1, "error_message": "Unknown function called: create"}
            )
        return httpx.Response(200, json={"contact_id": 42, "is_error": 0})

    common = {"json": "1", "contact_type": "Individual", "first_name": "Ana"}
    keys = {"key": "site-secret", "api_key": "user-key"}
    for era in ("5", "3.2"):
        recorder = Recorder(respond)
        new = await civicrm_with(recorder, style="q").create_contact(
            ContactFields(contact_type="Individual", first_name="Ana", email="ana@example.net")
        )
        assert new.id == 42 and new.email == "ana@example.net"
        assert recorder.form() == {
            "q": "civicrm/contact/create",
            **common,
            "email": "ana@example.net",
            "dupe_check": "1",
            **keys,
        }
        if era == "3.2":
            assert recorder.form(1) == {
                "q": "civicrm/contact/add",
                **common,
                "email[1][email]": "ana@example.net",
                "email[1][location_type_id]": "1",
                "email[1][is_primary]": "1",
                "dupe_check": "1",
                **keys,
            }


async def test_v2_lists_are_bare_json_lists_of_strings() -> None:
    body = [
        {
            "contact_id": "7",
            "contact_type": "Organization",
            "display_name": "Acme",
            "sort_name": "Acme",
            "created_date": "2020-01-02 03:04:05",
        }
    ]
    contacts = await civicrm_with(
        Recorder(lambda r: httpx.Response(200, json=body)), style="q"
    ).contacts(search="Ac")
    assert (
        contacts[0].id == 7
        and contacts[0].created_at is not None
        and contacts[0].created_at.hour == 3
    )
    assert contacts[0].email is None


async def test_xml_answers_work_like_json() -> None:
    answer = '<?xml version="1.0"?>\n<ResultSet count="1">\n<Result><id>3</id><title>Donors</title><is_active>1</is_active></Result>\n</ResultSet>'
    groups = await civicrm_with(Recorder(lambda r: xml(answer))).groups()
    assert [(g.id, g.title, g.is_active) for g in groups] == [(3, "Donors", True)]
    error = '<?xml version="1.0"?>\n<ResultSet>\n<Result><is_error>1</is_error><error_message>User API key invalid</error_message></Result>\n</ResultSet>'
    with pytest.raises(Unauthenticated):
        await civicrm_with(Recorder(lambda r: xml(error))).groups()


async def test_the_v2_style_has_no_in_filter_so_batches_go_per_id() -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        form = dict(httpx.QueryParams(request.content.decode()))
        return httpx.Response(
            200,
            json=[{"group_id": "1", "title": "Newsletter"}] if form["contact_id"] == "4" else [],
        )

    recorder = Recorder(respond)
    found = await civicrm_with(recorder, style="q").memberships(contact_ids=[4, 5])
    assert [(m.group_id, m.contact_id) for m in found] == [(1, 4)]
    assert sorted(recorder.form(i)["contact_id"] for i in range(2)) == ["4", "5"]


async def test_html_where_the_api_should_be_is_a_protocol_error() -> None:
    page = httpx.Response(
        200, headers={"content-type": "text/html"}, content=b"<!DOCTYPE html><html>Login</html>"
    )
    with pytest.raises(ProtocolError):
        await civicrm_with(Recorder(lambda r: page)).groups()
