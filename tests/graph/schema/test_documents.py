"""A document is validated once, and its errors, shared by every request that sends it, are
never changed by one: each request codes its own copies."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from graphql import DocumentNode, parse, specified_rules

from graph.config import LimitsSettings
from graph.internals import graphql_schema
from graph.schema.documents import fresh, validate_cached
from graph.schema.errors import give_codes
from graph.schema.root import build_schema

INVALID = "{ nosuch discussions(first: 2) { nodes { title } } }"


def formatted(result: Any) -> list[dict[str, Any]]:
    """The errors as a client sees them (a copy: `formatted` shares the error's extensions)."""
    return copy.deepcopy([error.formatted for error in result.errors or []])


async def test_two_requests_with_the_same_invalid_document_get_equal_independent_errors() -> None:
    schema = build_schema(LimitsSettings())
    first = await schema.execute(INVALID)
    misses = validate_cached.cache_info().misses
    second = await schema.execute(INVALID)
    assert validate_cached.cache_info().misses == misses  # the second one hit the cache
    assert formatted(first) == formatted(second)
    (error,) = formatted(first)
    assert error["extensions"] == {"code": "BAD_USER_INPUT"} and "nosuch" in error["message"]
    assert first.errors is not None and second.errors is not None
    assert first.errors[0] is not second.errors[0]
    first.errors[0].message = "changed by the first request"
    first.errors[0].extensions["code"] = "CHANGED"  # type: ignore[index]
    assert formatted(second) == [error]
    assert formatted(await schema.execute(INVALID)) == [error]


def test_the_cached_errors_are_never_coded() -> None:
    schema = graphql_schema(build_schema(LimitsSettings()))
    document, rules = parse(INVALID), tuple(specified_rules)
    cached = validate_cached(schema, document, rules)
    assert isinstance(cached, tuple) and len(cached) == 1
    before = cached[0].formatted
    assert "code" not in before.get("extensions", {})
    copies = fresh(cached)
    assert [c.formatted for c in copies] == [before]
    give_codes(copies)
    assert copies[0].extensions == {"code": "BAD_USER_INPUT"}
    assert validate_cached(schema, document, rules) is cached
    assert cached[0].formatted == before


def test_a_document_is_found_by_identity_without_hashing_its_tree(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    schema = graphql_schema(build_schema(LimitsSettings()))
    document, rules = parse(INVALID), tuple(specified_rules)
    cached = validate_cached(schema, document, rules)

    def refused(self: object) -> int:
        raise AssertionError("a document's tree was hashed")

    monkeypatch.setattr(DocumentNode, "__hash__", refused)
    assert validate_cached(schema, document, rules) is cached
    equal = parse(INVALID)  # equal, not the same: validated on its own
    assert validate_cached(schema, equal, rules) is not cached
