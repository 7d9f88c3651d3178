"""Bytes no client should send: each is the client's fault, answered 400 in GraphQL's error
format with `BAD_USER_INPUT`, with one access-log line and no traceback, and the gateway answers
the next request as before."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import Gateway, Simulator, running_gateway

QUERY = '"query": "query($v: JSON, $n: Int, $s: String) { discussions(first: $n, search: $s) { nodes { title } } }"'
BODIES = {
    "not UTF-8": b'{"query": "{ __typename }", "variables": {"s": "\xff\xfe"}}',
    "variables 5,000 levels deep": (
        "{" + QUERY + ', "variables": {"v": ' + "[" * 5000 + "]" * 5000 + "}}"
    ).encode(),
    "a number too large for a float": ("{" + QUERY + ', "variables": {"n": 1e400}}').encode(),
    "an integer of 5,000 digits": (
        "{" + QUERY + ', "variables": {"n": ' + "9" * 5000 + "}}"
    ).encode(),
    "NaN": ("{" + QUERY + ', "variables": {"n": NaN}}').encode(),
    "Infinity": ("{" + QUERY + ', "variables": {"n": -Infinity}}').encode(),
    "a lone surrogate": ("{" + QUERY + ', "variables": {"s": "\\udc00x"}}').encode(),
    "a lone surrogate in a key": ("{" + QUERY + ', "variables": {"v": {"\\ud800": 1}}}').encode(),
    "a body that stops early": b'{"query": "{ discussions { nodes { tit',
    "not an object": b"[[[]]]",
}


@pytest.fixture(scope="module")
def gateway(flarum: Simulator) -> Iterator[Gateway]:
    with running_gateway(flarum.url) as running:
        yield running


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_a_hostile_body_is_the_clients_400(
    gateway: Gateway, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        answer = httpx.post(
            f"{gateway.url}/graphql", content=body, headers={"content-type": "application/json"}
        )
    assert answer.status_code == 400, answer.text
    (error,) = answer.json()["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"} and error["message"]
    assert not [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    healthy = gateway.query("{ discussions(first: 1) { nodes { title } } }")
    assert healthy["data"]["discussions"]["nodes"]


def test_hostile_variables_by_get_are_refused_too(gateway: Gateway) -> None:
    for variables in ("[" * 5000, '{"n": NaN}', '{"s": "\\ud800"}'):
        answer = httpx.get(
            f"{gateway.url}/graphql", params={"query": "{ __typename }", "variables": variables}
        )
        assert answer.status_code == 400, (variables, answer.text)
        assert answer.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_a_lone_surrogate_escaped_in_the_query_is_a_query_error(gateway: Gateway) -> None:
    body = gateway.query('{ discussions(search: "\\ud800") { nodes { title } } }')
    (error,) = body["errors"]
    assert error["extensions"]["code"] != "INTERNAL"
