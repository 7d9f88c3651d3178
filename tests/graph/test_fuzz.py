"""Generated queries over the real schema and running sources: no 5xx, no traceback, ever."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, nodes, queries

from tests.conftest import Gateway, Simulator, flarum_headers, login, moodle_login, running_gateway

SCHEMA = (Path(__file__).parents[2] / "schema.graphql").read_text()
SCALARS = {
    "DateTime": st.just("2026-01-01T00:00:00+00:00").map(nodes.String),
    "JSON": st.just("{}").map(nodes.String),
}
TRACEBACK = ("Traceback", 'File "', "Error(")
FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


@pytest.fixture(scope="module")
def gateway(flarum: Simulator, moodle: Simulator) -> Iterator[tuple[Gateway, dict[str, str]]]:
    headers = {
        **flarum_headers(login(flarum.url, "bea.abebe")),
        "X-Moodle-Token": moodle_login(moodle.url, "bea.abebe"),
    }
    with running_gateway(flarum.url, moodle.url) as running:
        yield running, headers


def answered_cleanly(gateway: Gateway, headers: dict[str, str], query: str) -> None:
    response = gateway.post(query, **headers)
    assert response.status_code < 500, response.text
    assert not any(marker in response.text for marker in TRACEBACK), response.text
    body: dict[str, Any] = response.json()
    assert "data" in body or "errors" in body
    for error in body.get("errors", []):
        code = error.get("extensions", {}).get("code")
        assert code and code != "INTERNAL", error


@FUZZ
@given(query=queries(SCHEMA, custom_scalars=SCALARS))
def test_valid_queries_answer_with_data_or_coded_errors(
    gateway: tuple[Gateway, dict[str, str]], query: str
) -> None:
    answered_cleanly(*gateway, query)


@FUZZ
@given(query=queries(SCHEMA, custom_scalars=SCALARS, mode=Mode.NEGATIVE))
def test_invalid_queries_are_refused_with_coded_errors(
    gateway: tuple[Gateway, dict[str, str]], query: str
) -> None:
    answered_cleanly(*gateway, query)
