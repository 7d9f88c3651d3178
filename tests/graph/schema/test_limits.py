"""Query limits: refused with QUERY_TOO_COMPLEX before any upstream request."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from graph.config import LimitsSettings, Settings
from graph.server.app import create_app
from graph.sources.flarum.settings import FlarumSettings
from graph.sources.sections import SourcesSettings
from simulators.serve import serve_in_thread
from tests.conftest import Gateway, Simulator


@pytest.fixture(scope="module")
def strict(flarum: Simulator) -> Iterator[Gateway]:
    settings = Settings(
        limits=LimitsSettings(
            max_depth=6,
            max_aliases=10,
            max_fields=40,
            max_cost=500,
            max_tokens=300,
            max_body_bytes=4_000,
        ),
        sources=SourcesSettings(flarum=FlarumSettings(url=flarum.url)),
    )
    with serve_in_thread(create_app(settings)) as url:
        yield Gateway(url)


def refused(gateway: Gateway, query: str) -> dict[str, object]:
    body = gateway.query(query)
    assert body.get("data") is None
    (error,) = body["errors"]
    extensions: dict[str, object] = error["extensions"]
    assert extensions["code"] == "QUERY_TOO_COMPLEX"
    return extensions


def test_a_depth_bomb_is_refused_before_any_request(strict: Gateway, flarum: Simulator) -> None:
    deep = (
        '{ discussion(id: "x") { ' + "firstPost { discussion { " * 4 + "title" + " } }" * 4 + " } }"
    )
    flarum.counter.reset()
    assert refused(strict, deep) == {
        "code": "QUERY_TOO_COMPLEX",
        "limit": "depth",
        "found": 10,
        "max": 6,
    }
    assert flarum.counter.total == 0


def test_an_alias_bomb_is_refused_also_through_fragments(
    strict: Gateway, flarum: Simulator
) -> None:
    flarum.counter.reset()
    plain = (
        "{ " + " ".join(f"a{i}: discussions(first: 1) {{ totalCount }}" for i in range(11)) + " }"
    )
    assert refused(strict, plain)["found"] == 11
    fragments = "query { ...F ...F ...F } fragment F on Query { a: viewer { flarum { id } } b: viewer { flarum { id } } c: viewer { flarum { id } } d: viewer { flarum { id } } }"
    assert refused(strict, fragments)["found"] == 12
    assert flarum.counter.total == 0


def test_too_many_fields_are_refused_also_through_fragments(
    strict: Gateway, flarum: Simulator
) -> None:
    flarum.counter.reset()
    fields = "id title slug commentCount createdAt lastPostedAt isSticky isLocked"
    spread = "{ discussions(first: 1) { nodes { ...D ...D ...D ...D ...D } } }"
    document = f"{spread} fragment D on Discussion {{ {fields} }}"
    assert refused(strict, document) == {
        "code": "QUERY_TOO_COMPLEX",
        "limit": "fields",
        "found": 2 + 5 * 8,
        "max": 40,
    }
    assert flarum.counter.total == 0
    once = strict.query(
        f"{{ discussions(first: 1) {{ nodes {{ ...D }} }} }} fragment D on Discussion {{ {fields} }}"
    )
    assert "errors" not in once, once


def test_nested_fragments_are_measured_quickly(strict: Gateway) -> None:
    # Each fragment spreads the next one ten times: 10^8 aliased fields if expanded naively.
    names = [f"F{i}" for i in range(8)]
    parts = [
        f"fragment {names[i]} on Query {{ "
        + " ".join(f"...{names[i + 1]}" for _ in range(10))
        + " }"
        for i in range(7)
    ]
    parts.append(f"fragment {names[7]} on Query {{ x: viewer {{ flarum {{ id }} }} }}")
    started = time.monotonic()
    response = httpx.post(f"{strict.url}/graphql", json={"query": "{ ...F0 } " + " ".join(parts)})
    assert time.monotonic() - started < 2
    assert response.json()["errors"][0]["extensions"]["code"] in (
        "QUERY_TOO_COMPLEX",
        "BAD_USER_INPUT",
    )


def test_a_document_of_too_many_tokens_is_refused_while_parsing(
    strict: Gateway, flarum: Simulator
) -> None:
    flarum.counter.reset()
    # Shallow, no aliases, under the body limit: only its length in tokens gives it away.
    wide = "{ discussions(first: 1) { nodes { " + "id title " * 200 + "} } }"
    assert len(wide) < 4_000
    assert refused(strict, wide) == {"code": "QUERY_TOO_COMPLEX", "limit": "tokens", "max": 300}
    assert flarum.counter.total == 0


def test_a_costly_query_is_refused_with_its_estimate(strict: Gateway, flarum: Simulator) -> None:
    flarum.counter.reset()
    nested = "{ discussions(first: 30) { nodes { posts(first: 20) { nodes { number } } } } }"
    # 1 (discussions) + 30 x (1 (nodes) + 1 (posts) + 20 x 1 (their nodes)) = 661
    assert refused(strict, nested) == {
        "code": "QUERY_TOO_COMPLEX",
        "limit": "cost",
        "found": 661,
        "max": 500,
    }
    by_variable = (
        "query($n: Int) { discussions(first: $n) { nodes { posts { nodes { number } } } } }"
    )
    # first: $n counts as the page cap (100); posts without first as the default page (20)
    assert refused(strict, by_variable)["found"] == 1 + 100 * (1 + 1 + 20 * 1)
    assert flarum.counter.total == 0
    fine = "{ discussions(first: 10) { nodes { posts(first: 20) { nodes { number } } } } }"
    assert "errors" not in strict.query(fine)


def test_normal_queries_pass(strict: Gateway) -> None:
    body = strict.query("{ a: discussions(first: 2) { nodes { title author { username } } } }")
    assert "errors" not in body and len(body["data"]["a"]["nodes"]) == 2


def test_a_body_over_the_limit_is_refused(strict: Gateway) -> None:
    query = "{ discussions(first: 1) { nodes { title } } }" + " " * 5_000
    answer = httpx.post(f"{strict.url}/graphql", json={"query": query})
    assert answer.status_code == 413
    assert answer.json()["errors"][0]["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "limit": "body",
        "max": 4_000,
    }

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        yield b'{"query": "{ discussions(first: 1) { nodes { title } } }'
        yield b" " * 5_000
        yield b'"}'

    streamed = httpx.post(
        f"{strict.url}/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413


def test_introspection_can_be_turned_off(flarum: Simulator) -> None:
    query = "{ __schema { queryType { name } } }"
    for enabled in (True, False):
        settings = Settings(
            limits=LimitsSettings(introspection=enabled),
            sources=SourcesSettings(flarum=FlarumSettings(url=flarum.url)),
        )
        with serve_in_thread(create_app(settings)) as url:
            body = httpx.post(f"{url}/graphql", json={"query": query}).json()
        if enabled:
            assert body["data"] == {"__schema": {"queryType": {"name": "Query"}}}
        else:
            assert (
                body.get("data") is None
                and body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
            )


async def test_a_document_sent_again_is_not_validated_again() -> None:
    # The validation cache is keyed by the rules as well as the document: the limits rule must
    # be the same object from one request to the next for the cache to answer.
    from graph.schema.documents import validate_cached as cache
    from graph.schema.root import build_schema

    schema = build_schema(LimitsSettings(max_depth=7))
    document = "{ __typename anotherName: __typename }"
    await schema.execute(document)
    before = cache.cache_info()
    await schema.execute(document)
    after = cache.cache_info()
    assert after.hits == before.hits + 1 and after.misses == before.misses
