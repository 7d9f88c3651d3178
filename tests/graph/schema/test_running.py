"""The schema's `execute` with the extensions' hooks entered plainly (graph/schema/running.py)
answers as Strawberry's own `execute` does: every request here is sent both ways to one
gateway (same bytes, status and headers), and a schema with extensions that note what they see
runs both ways (same results, same notes, in the same order)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import strawberry
from graphql import GraphQLError
from starlette.applications import Starlette
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from graph.config import Settings, SourcesSettings
from graph.schema import running
from graph.schema.root import GatewaySchema
from graph.server.app import create_app
from graph.sources.flarum.source import FlarumSettings
from tests.conftest import Simulator
from tests.graph.server.test_short_way import JSON, REQUESTS, USER, body, endpoint

MORE: dict[str, tuple[bytes, dict[str, str]]] = {
    "a node, traced": (
        body({"query": f'{{ node(id: "{USER}") {{ id ... on FlarumUser {{ displayName }} }} }}'}),
        {"x-legacygraph-trace": "1"},
    ),
    "a page, traced, named": (
        body(
            {
                "query": "query Front { discussions(first: 2) { nodes { title } } }",
                "operationName": "Front",
            }
        ),
        {"x-legacygraph-trace": "1"},
    ),
    "introspection": (body({"query": "{ __schema { queryType { name } } }"}), {}),
    "a typename": (body({"query": "{ __typename }"}), {}),
    "nodes, one of them bad": (
        body({"query": f'{{ nodes(ids: ["{USER}", "Zm9v"]) {{ id }} }}'}),
        {"x-legacygraph-trace": "1"},
    ),
    "a field that is not there, in a fragment": (
        body({"query": "query { ...F } fragment F on Query { nope }"}),
        {},
    ),
    "a subscription": (body({"query": "subscription { nope }"}), {}),
    "a query too deep": (
        body({"query": "{" + " viewer {" * 30 + " __typename" + " }" * 30 + " }"}),
        {},
    ),
    "a mutation that fails": (
        body(
            {
                "query": 'mutation { login(source: FLARUM, username: "nobody", password: "x") '
                "{ token } }"
            }
        ),
        {"accept": "application/graphql-response+json"},
    ),
}


@pytest.fixture
async def app(flarum: Simulator) -> AsyncIterator[Starlette]:
    # No response cache: each way asks Flarum, and a traced answer lists the same calls.
    flarum_settings = FlarumSettings(url=flarum.url, cache_ttl_s=0)
    settings = Settings(sources=SourcesSettings(flarum=flarum_settings))
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


async def send(
    app: Starlette, content: bytes, headers: dict[str, str], *, plainly: bool
) -> httpx.Response:
    schema = endpoint(app).schema
    assert isinstance(schema, GatewaySchema)
    schema.plainly = plainly
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway"
        ) as client:
            return await client.post(
                "/graphql", content=content, headers={"content-type": JSON, **headers}
            )
    finally:
        schema.plainly = True


CASES = {**REQUESTS, **MORE}


@pytest.mark.parametrize(("content", "headers"), CASES.values(), ids=CASES.keys())
async def test_the_gateway_answers_the_same_either_way(
    app: Starlette, content: bytes, headers: dict[str, str]
) -> None:
    stock = await send(app, content, headers, plainly=False)
    plain = await send(app, content, headers, plainly=True)
    assert seen(plain) == seen(stock)


def seen(answer: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and bytes; a traced answer's upstream times (`"ms"`) read as 0, and
    its length as that of what it sent."""
    assert int(answer.headers.get("content-length", len(answer.content))) == len(answer.content)
    headers = [(k, v) for k, v in answer.headers.multi_items() if k != "content-length"]
    return answer.status_code, headers, TIMES.sub(b'"ms":0', answer.content)


TIMES = re.compile(rb'"ms":[0-9.e-]+')


async def test_the_gateway_s_extensions_are_entered_plainly(
    app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken: list[int] = []
    execute_plainly = running.execute_plainly

    async def noted(*args: Any, **kwargs: Any) -> Any:
        taken.append(1)
        return await execute_plainly(*args, **kwargs)

    monkeypatch.setattr("graph.schema.root.execute_plainly", noted)
    answer = await send(app, *REQUESTS["a node"], plainly=True)
    assert answer.json()["data"]["node"]["id"] == USER
    assert taken == [1]


# A schema of its own, with extensions that note what they see.

NOTES: list[str] = []


class Noting(SchemaExtension):
    """Notes each stage, what it saw, and may fail or swallow on the way out."""

    def on_operation(self) -> Iterator[None]:
        NOTES.append(f"operation in {self.execution_context.operation_name}")
        try:
            yield
        except Exception as error:
            NOTES.append(f"operation saw {type(error).__name__}")
            raise
        finally:
            result = self.execution_context.result
            NOTES.append(f"operation out {result.errors if result else None}")

    def on_parse(self) -> Iterator[None]:
        NOTES.append("parse in")
        yield
        NOTES.append(f"parse out {self.execution_context.graphql_document is not None}")

    def on_validate(self) -> Iterator[None]:
        NOTES.append("validate in")
        yield
        NOTES.append(f"validate out {self.execution_context.pre_execution_errors}")

    def on_execute(self) -> Iterator[None]:
        NOTES.append("execute in")
        yield
        if self.execution_context.query and "swallow" in self.execution_context.query:
            raise LookupError("on the way out")
        NOTES.append("execute out")

    def get_results(self) -> dict[str, Any]:
        return {"notes": len(NOTES)}


class Swallowing(SchemaExtension):
    """Takes a `LookupError` raised by a hook entered after it, as a context manager may."""

    def on_execute(self) -> Iterator[None]:
        try:
            yield
        except LookupError:
            NOTES.append("swallowed")


class Refusing(SchemaExtension):
    """Refuses every operation named Refused, on its way in."""

    def on_validate(self) -> Iterator[None]:
        if self.execution_context.operation_name == "Refused":
            raise GraphQLError("refused on the way in")
        yield


class Async(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        NOTES.append("async execute in")
        yield


@strawberry.type
class Query:
    @strawberry.field
    def hello(self, fail: bool = False) -> str:
        if fail:
            raise ValueError("no")
        return "hi"

    @strawberry.field
    async def later(self) -> int:
        return 3


@strawberry.type
class Mutation:
    @strawberry.mutation
    def poke(self) -> bool:
        return True


OPERATIONS: list[tuple[str | None, str | None, dict[str, Any] | None]] = [
    ("{ hello later }", None, None),
    ("query Named($f: Boolean!) { hello(fail: $f) }", None, {"f": True}),
    ("query Named($f: Boolean!) { hello(fail: $f) }", None, {"f": "x"}),
    ("query Named($f: Boolean!) { hello(fail: $f) }", None, None),
    ("{ nope }", None, None),
    ("{ hello(", None, None),
    ("query A { hello } query B { later }", "B", None),
    ("query A { hello } query B { later }", None, None),
    ("query A { hello }", "C", None),
    ("query Refused { hello }", None, None),
    ("query swallow { hello }", None, None),
    ("mutation { poke }", None, None),
    ("", None, None),
    (None, None, None),
]


async def run(
    plainly: bool,
    extensions: list[Any],
    query: str | None,
    name: str | None,
    variables: dict[str, Any] | None,
    allowed: set[OperationType] | None = None,
) -> tuple[Any, list[str]]:
    schema = GatewaySchema(query=Query, mutation=Mutation, extensions=extensions)
    schema.plainly = plainly
    NOTES.clear()
    try:
        result = await schema.execute(
            query, variable_values=variables, operation_name=name, allowed_operation_types=allowed
        )
    except Exception as error:  # what Strawberry raises to the HTTP view
        return (type(error).__name__, str(error)), list(NOTES)
    errors = [e.formatted for e in result.errors or ()]
    return (result.data, errors, result.extensions), list(NOTES)


@pytest.mark.parametrize(("query", "name", "variables"), OPERATIONS)
@pytest.mark.parametrize(
    "extensions",
    [[Noting], [Swallowing, Noting, Refusing], [Noting, Async]],
    ids=["one", "three", "an async hook"],
)
async def test_a_schema_runs_the_same_either_way(
    extensions: list[Any],
    query: str | None,
    name: str | None,
    variables: dict[str, Any] | None,
) -> None:
    stock = await run(False, extensions, query, name, variables)
    plain = await run(True, extensions, query, name, variables)
    assert plain == stock
    assert stock[1], "the extensions saw the operation"


async def test_an_operation_type_not_allowed_is_refused_either_way() -> None:
    allowed = {OperationType.QUERY}
    stock = await run(False, [Noting], "mutation { poke }", None, None, allowed)
    plain = await run(True, [Noting], "mutation { poke }", None, None, allowed)
    assert plain == stock
    assert stock[0][0] == "InvalidOperationTypeError"


def test_only_plain_generator_hooks_are_taken() -> None:
    assert running.plain_hooks([Noting(), Swallowing(), Refusing()]) is not None
    assert running.plain_hooks([Noting(), Async()]) is None
