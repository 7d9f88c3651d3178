"""A client's mistakes in its document or its variables are request errors, as the GraphQL and
GraphQL over HTTP specs say: `BAD_USER_INPUT`, naming what was wrong, no `data` entry, no
traceback in the log; `400` under `application/graphql-response+json`, `200` under JSON."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from graph.server.media import GRAPHQL_RESPONSE, JSON, media_type_for
from tests.conftest import Gateway, Simulator, running_gateway

PAGE = "query($n: Int!) { discussions(first: $n) { nodes { title } } }"
CONTACT = "mutation($c: ContactInput!) { createContact(input: $c) { id } }"
COURSE = "query($id: ID!) { course(id: $id) { shortName } }"
GROUPS = "query($s: Source) { groups(source: $s) { nodes { name } } }"
MISTAKES: dict[str, tuple[str, dict[str, Any], str]] = {
    "a string for an Int": (PAGE, {"n": "abc"}, "n"),
    "a required variable left out": (PAGE, {}, "n"),
    "null for a non-null variable": (PAGE, {"n": None}, "n"),
    "1.5 for an Int": (PAGE, {"n": 1.5}, "n"),
    "2**40 for an Int": (PAGE, {"n": 2**40}, "n"),
    "an unknown enum value": (GROUPS, {"s": "MYSPACE"}, "s"),
    "an object for an ID": (COURSE, {"id": {"id": 2}}, "id"),
    "an unknown input field": (CONTACT, {"c": {"firstName": "Ada", "nickname": "A"}}, "c"),
    "a mistyped input field": (CONTACT, {"c": {"firstName": ["Ada"]}}, "c"),
}


@pytest.fixture(scope="module")
def gateway(flarum: Simulator) -> Iterator[Gateway]:
    with running_gateway(flarum.url) as running:
        yield running


def post(gateway: Gateway, body: dict[str, Any], accept: str | None = None) -> httpx.Response:
    headers = {"accept": accept} if accept else {}
    return httpx.post(f"{gateway.url}/graphql", json=body, headers=headers, timeout=30)


@pytest.mark.parametrize(("query", "variables", "name"), MISTAKES.values(), ids=MISTAKES.keys())
@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE])
def test_a_variable_mistake_is_the_clients_request_error(
    gateway: Gateway,
    flarum: Simulator,
    caplog: pytest.LogCaptureFixture,
    query: str,
    variables: dict[str, Any],
    name: str,
    accept: str,
) -> None:
    before = flarum.counter.total
    with caplog.at_level(logging.INFO):
        answer = post(gateway, {"query": query, "variables": variables}, accept)
    assert answer.status_code == (400 if accept == GRAPHQL_RESPONSE else 200), answer.text
    assert answer.headers["content-type"].startswith(accept)
    body = answer.json()
    assert "data" not in body
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "variable": name}
    assert f"${name}" in error["message"]
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert flarum.counter.total == before  # nothing ran


def test_a_mistake_written_inline_is_answered_the_same_way(gateway: Gateway) -> None:
    answer = post(gateway, {"query": '{ discussions(first: "abc") { nodes { title } } }'})
    assert answer.status_code == 200
    body = answer.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT"}
    assert post(gateway, {"query": "{ discussions("}, GRAPHQL_RESPONSE).status_code == 400


def test_two_operations_need_an_operation_name(gateway: Gateway) -> None:
    document = "query A { viewer { __typename } } query B { __typename }"
    refused = post(gateway, {"query": document}, GRAPHQL_RESPONSE)
    assert refused.status_code == 400
    (error,) = refused.json()["errors"]
    assert error["message"] == "Must provide operation name if query contains multiple operations."
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    chosen = post(gateway, {"query": document, "operationName": "B"}, GRAPHQL_RESPONSE)
    assert (chosen.status_code, chosen.json()) == (200, {"data": {"__typename": "Query"}})
    unknown = post(gateway, {"query": document, "operationName": "C"})
    assert unknown.status_code == 200
    assert unknown.json()["errors"][0]["message"] == "Unknown operation named 'C'."
    assert "data" not in unknown.json()


@pytest.mark.parametrize("name", [["A"], {"A": 1}, 7, True])
def test_an_operation_name_that_is_not_a_string_is_refused(gateway: Gateway, name: Any) -> None:
    answer = post(gateway, {"query": "query A { __typename }", "operationName": name})
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT"}


def test_a_body_that_is_not_json_says_why_and_where(gateway: Gateway) -> None:
    pasted = b'{"query": "{ discussions(first: 2) {\n nodes { title } } }"}'
    answer = httpx.post(
        f"{gateway.url}/graphql", content=pasted, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 400
    message = answer.json()["errors"][0]["message"]
    assert "Invalid control character" in message and "line 1 column 37" in message
    assert "\\n" in message


def test_an_answer_with_data_is_200_under_either_media_type(gateway: Gateway) -> None:
    for accept in (JSON, GRAPHQL_RESPONSE, "*/*", None):
        answer = post(gateway, {"query": "{ discussions(first: 1) { nodes { title } } }"}, accept)
        assert answer.status_code == 200
        assert answer.json()["data"]["discussions"]["nodes"]
        expected = GRAPHQL_RESPONSE if accept == GRAPHQL_RESPONSE else JSON
        assert answer.headers["content-type"].split(";")[0] == expected


def test_a_field_error_keeps_its_data_entry(gateway: Gateway) -> None:
    answer = post(gateway, {"query": '{ discussion(id: "not-an-id") { title } }'}, GRAPHQL_RESPONSE)
    assert answer.status_code == 200
    body = answer.json()
    assert body["data"] == {"discussion": None}
    assert body["errors"][0]["path"] == ["discussion"]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/json", JSON),
        ("application/graphql-response+json", GRAPHQL_RESPONSE),
        ("application/graphql-response+json, application/json;q=0.9", GRAPHQL_RESPONSE),
        ("application/json, application/graphql-response+json", GRAPHQL_RESPONSE),
        ("application/json, application/graphql-response+json;q=0.5", JSON),
        ("application/graphql-response+json;q=0", JSON),
        ("text/html", JSON),
        ("application/graphql-response+json;q=oops", JSON),
    ],
)
def test_media_type_for(accept: str | None, expected: str) -> None:
    assert media_type_for(accept) == expected
