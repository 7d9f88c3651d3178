"""Generated queries and variables over the real schema and running sources: no 5xx, no
traceback, no `INTERNAL`, ever."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    Undefined,
    get_named_type,
    is_leaf_type,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, nodes, queries

from graph.internals import graphql_schema
from graph.schema.root import schema
from tests.conftest import Gateway, Simulator, flarum_headers, login, moodle_login, running_gateway

SCHEMA = (Path(__file__).parents[3] / "schema.graphql").read_text()
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
SHARED = settings(FUZZ, max_examples=50)
"""For the generated documents, whose kinds other tests also send: valid ones (150 more of the
same generator, over every source, in test_plan_equivalence.py) and invalid ones
(test_errors.py, test_request_errors.py). The variables below are this module's alone."""


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


@SHARED
@given(query=queries(SCHEMA, custom_scalars=SCALARS))
def test_valid_queries_answer_with_data_or_coded_errors(
    gateway: tuple[Gateway, dict[str, str]], query: str
) -> None:
    answered_cleanly(*gateway, query)


@SHARED
@given(query=queries(SCHEMA, custom_scalars=SCALARS, mode=Mode.NEGATIVE))
def test_invalid_queries_are_refused_with_coded_errors(
    gateway: tuple[Gateway, dict[str, str]], query: str
) -> None:
    answered_cleanly(*gateway, query)


def json_values() -> st.SearchStrategy[Any]:
    """Any JSON a client could send as a variable."""
    leaves = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text()
    )
    return st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=8,
    )


def value_of(kind: GraphQLInputType) -> st.SearchStrategy[Any]:
    """A value that fits `kind`, as the client would send it in `variables`."""
    if isinstance(kind, GraphQLNonNull):
        return fitting(kind.of_type)
    return st.none() | fitting(kind)


def fitting(kind: GraphQLInputType) -> st.SearchStrategy[Any]:
    if isinstance(kind, GraphQLList):
        return st.lists(value_of(kind.of_type), max_size=3)
    if isinstance(kind, GraphQLEnumType):
        return st.sampled_from(list(kind.values))
    if isinstance(kind, GraphQLInputObjectType):
        return st.fixed_dictionaries(
            {name: value_of(f.type) for name, f in kind.fields.items() if is_required(f)},
            optional={n: value_of(f.type) for n, f in kind.fields.items() if not is_required(f)},
        )
    scalars: dict[str, st.SearchStrategy[Any]] = {
        "Int": st.integers(-(2**31), 2**31 - 1),
        "Float": st.floats(allow_nan=False, allow_infinity=False),
        "Boolean": st.booleans(),
    }
    assert isinstance(kind, GraphQLScalarType)
    return scalars.get(kind.name, st.text(max_size=20))


def is_required(field: GraphQLInputField) -> bool:
    return isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined


@st.composite
def operations_with_variables(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A query of one root field with every argument passed as a variable of its declared type,
    and variables that fit those types, do not, or are left out."""
    fields = {n: f for n, f in graphql_schema(schema).query_type.fields.items() if f.args}  # type: ignore[union-attr]
    name = draw(st.sampled_from(sorted(fields)))
    field = fields[name]
    declared = ", ".join(f"${arg}: {kind.type}" for arg, kind in field.args.items())
    passed = ", ".join(f"{arg}: ${arg}" for arg in field.args)
    returned = get_named_type(field.type)
    selection = "" if is_leaf_type(returned) else " { __typename }"
    query = f"query Fuzzed({declared}) {{ {name}({passed}){selection} }}"
    variables = {}
    for arg, kind in field.args.items():
        choice = draw(st.sampled_from(["fits", "anything", "left out"]))
        if choice != "left out":
            variables[arg] = draw(value_of(kind.type) if choice == "fits" else json_values())
    return query, variables


@FUZZ
@given(operation=operations_with_variables())
def test_variables_valid_or_not_never_give_an_internal_error(
    gateway: tuple[Gateway, dict[str, str]], operation: tuple[str, dict[str, Any]]
) -> None:
    running, headers = gateway
    query, variables = operation
    response = running.post(query, variables, **headers)
    assert response.status_code < 500, response.text
    assert not any(marker in response.text for marker in TRACEBACK), response.text
    for error in response.json().get("errors", []):
        code = error.get("extensions", {}).get("code")
        assert code and code != "INTERNAL", (query, variables, error)
