"""One operation POSTed as JSON runs through the endpoint's short way (`run_json` in
graph/server/endpoint.py) instead of Strawberry's `run`: every request here is sent both ways, to
one gateway, and the answers must be the same bytes, status and headers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from graph.config import Settings
from graph.schema.ids import encode_id
from graph.server.app import create_app
from graph.server.endpoint import GraphQLEndpoint
from graph.server.persisted import sha256
from graph.sources.flarum.settings import FlarumSettings
from graph.sources.sections import SourcesSettings
from tests.conftest import Simulator

USER = encode_id("flarum", "FlarumUser", "1")
PAGE = "query Page($n: Int!) { discussions(first: $n) { nodes { title author { displayName } } } }"
JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"


def body(value: Any) -> bytes:
    return json.dumps(value).encode()


REQUESTS: dict[str, tuple[bytes, dict[str, str]]] = {
    "a query": (body({"query": PAGE, "variables": {"n": 3}}), {}),
    "a query by name": (
        body(
            {
                "query": PAGE + " query Other { discussions(first: 1) { nodes { title } } }",
                "operationName": "Page",
                "variables": {"n": 2},
            }
        ),
        {},
    ),
    "a node": (
        body({"query": f'{{ node(id: "{USER}") {{ id ... on FlarumUser {{ displayName }} }} }}'}),
        {},
    ),
    "a field that fails": (body({"query": '{ node(id: "Zm9v") { id } }'}), {}),
    "a syntax error": (body({"query": "{ discussions("}), {}),
    "a validation error": (body({"query": "{ nope }"}), {}),
    "a validation error, graphql-response": (
        body({"query": "{ nope }"}),
        {"accept": GRAPHQL_RESPONSE},
    ),
    "a variable mistake": (
        body({"query": PAGE, "variables": {"n": "x"}}),
        {"accept": GRAPHQL_RESPONSE},
    ),
    "two operations, no name": (
        body(
            {
                "query": "query A { discussions(first: 1) { nodes { title } } } query B { discussions(first: 1) { nodes { title } } }"
            }
        ),
        {},
    ),
    "an unknown operation name": (body({"query": PAGE, "operationName": "Nope"}), {}),
    "a query that is not a string": (body({"query": 3}), {}),
    "variables that are not an object": (body({"query": PAGE, "variables": [1]}), {}),
    "extensions that are not an object": (body({"query": PAGE, "extensions": "x"}), {}),
    "an operation name that is not a string": (body({"query": PAGE, "operationName": 3}), {}),
    "no query": (body({"variables": {}}), {}),
    "an empty object": (b"{}", {}),
    "not JSON": (b"{query", {}),
    "not UTF-8": (b'{"query": "\xff"}', {}),
    "an empty body": (b"", {}),
    "a batch": (
        body([{"query": "{ discussions(first: 1) { nodes { title } } }"}, {"query": "{ nope }"}]),
        {},
    ),
    "a batch after white space": (
        b" \n[" + body({"query": "{ discussions(first: 1) { nodes { title } } }"}) + b"]",
        {},
    ),
    "a mutation without credentials": (
        body(
            {
                "query": 'mutation { startDiscussion(input: {title: "t", content: "c", tagIds: []}) { id } }'
            }
        ),
        {},
    ),
    "a persisted query not known": (
        body({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}}),
        {},
    ),
    "a persisted query with the wrong hash": (
        body(
            {
                "query": "{ discussions(first: 1) { nodes { title } } }",
                "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}},
            }
        ),
        {},
    ),
    "a persisted query learned": (
        body(
            {
                "query": "{ discussions(first: 1) { nodes { title } } }",
                "extensions": {
                    "persistedQuery": {
                        "version": 1,
                        "sha256Hash": sha256("{ discussions(first: 1) { nodes { title } } }"),
                    }
                },
            }
        ),
        {},
    ),
    "a charset and capitals": (
        body({"query": "{ discussions(first: 1) { nodes { title } } }"}),
        {"content-type": "Application/JSON; charset=utf-8"},
    ),
    "JSON with another spelling": (
        body({"query": "{ discussions(first: 1) { nodes { title } } }"}),
        {"content-type": "application/json-patch+json"},
    ),
    "not JSON's content type": (
        body({"query": "{ discussions(first: 1) { nodes { title } } }"}),
        {"content-type": "text/plain"},
    ),
    "a multipart answer asked for": (
        body({"query": "{ discussions(first: 1) { nodes { title } } }"}),
        {"accept": "multipart/mixed"},
    ),
    "a bad bearer session": (
        body({"query": "{ discussions(first: 1) { nodes { title } } }"}),
        {"authorization": "Bearer nope"},
    ),
    "a malformed token": (
        body({"query": "{ viewer { flarum { displayName } } }"}),
        {"x-flarum-token": "bad token!"},
    ),
}


@pytest.fixture
async def app(flarum: Simulator) -> AsyncIterator[Starlette]:
    settings = Settings(sources=SourcesSettings(flarum=FlarumSettings(url=flarum.url)))
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


def endpoint(app: Starlette) -> GraphQLEndpoint:
    for route in app.routes:
        if getattr(route, "path", "") == "/graphql":
            found = route.endpoint  # type: ignore[attr-defined]
            assert isinstance(found, GraphQLEndpoint)
            return found
    raise AssertionError("no /graphql route")


async def send(
    app: Starlette, content: bytes, headers: dict[str, str], *, short: bool
) -> httpx.Response:
    endpoint(app).short_way = short
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway"
        ) as client:
            return await client.post(
                "/graphql", content=content, headers={"content-type": JSON, **headers}
            )
    finally:
        endpoint(app).short_way = True


@pytest.mark.parametrize(("content", "headers"), REQUESTS.values(), ids=REQUESTS.keys())
async def test_the_short_way_answers_as_strawberry_does(
    app: Starlette, content: bytes, headers: dict[str, str]
) -> None:
    stock = await send(app, content, headers, short=False)
    short = await send(app, content, headers, short=True)
    assert (short.status_code, short.headers.multi_items(), short.content) == (
        stock.status_code,
        stock.headers.multi_items(),
        stock.content,
    )


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b'"{ discussions(first: 1) { nodes { title } } }"', "a string"),
        (b"3", "a number"),
        (b"null", "null"),
        (b"false", "a boolean"),
    ],
)
async def test_a_json_body_that_is_no_object_nor_array_is_the_client_s_400_both_ways(
    app: Starlette, content: bytes, kind: str
) -> None:
    short, stock = [await send(app, content, {}, short=way) for way in (True, False)]
    assert (short.status_code, short.content) == (stock.status_code, stock.content)
    assert short.status_code == 400
    assert short.json() == {
        "errors": [
            {
                "message": f"Expected a JSON object, or an array of them; got {kind}.",
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ]
    }


async def test_the_short_way_is_taken_by_one_json_operation_only(
    app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken: list[str] = []
    run_json = GraphQLEndpoint.run_json

    async def noted(self: GraphQLEndpoint, request: Any) -> Any:
        taken.append(request.headers["x-case"])
        return await run_json(self, request)

    monkeypatch.setattr(GraphQLEndpoint, "run_json", noted)
    one = body({"query": "{ discussions(first: 1) { nodes { title } } }"})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as client:
        for case, headers in {
            "json": {"content-type": JSON},
            "json with a charset": {"content-type": "application/json; charset=utf-8"},
            "text": {"content-type": "text/plain"},
        }.items():
            answer = await client.post("/graphql", content=one, headers={**headers, "x-case": case})
            assert answer.status_code in (200, 400), answer.text
        got = await client.get(
            "/graphql",
            params={"query": "{ discussions(first: 1) { nodes { title } } }"},
            headers={"x-case": "get"},
        )
        assert got.json()["data"]["discussions"]["nodes"]
    assert taken == ["json", "json with a charset"]


@pytest.mark.parametrize("content_type", ["Application/JSON", "APPLICATION/JSON; Charset=UTF-8"])
async def test_a_media_type_in_capitals_is_json_both_ways(
    app: Starlette, content_type: str
) -> None:
    """Media types are case-insensitive (RFC 9110, 8.3.1)."""
    content = body({"query": "{ __typename }"})
    for way in (True, False):
        answer = await send(app, content, {"content-type": content_type}, short=way)
        assert (answer.status_code, answer.json()) == (200, {"data": {"__typename": "Query"}})
