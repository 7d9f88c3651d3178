"""The executor's shortcuts answer exactly what Strawberry's usual path answers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import pytest
import strawberry
from strawberry.extensions import SchemaExtension

from graph.internals import graphql_schema
from graph.schema.execution import GatewayExecutor, use_lean_resolvers
from graph.schema.root import schema as gateway_schema


@strawberry.enum
class Colour(Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Author:
    name: str
    nickname: str | None
    must_have: str
    """Declared non-null; some objects have None in it: an error at that path."""
    joined: datetime
    colour: Colour
    score: int

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()

    @strawberry.field
    def greeting(self, info: strawberry.Info) -> str:
        return f"{self.name} at {info.path.key}"

    @strawberry.field
    async def later(self, info: strawberry.Info) -> str:
        await asyncio.sleep(0)
        return f"{self.name} later"

    @strawberry.field
    def failing(self) -> str | None:
        raise ValueError(f"{self.name} cannot")

    @strawberry.field
    def padded(self, width: int = 8) -> str:
        return self.name.ljust(width, ".")


@strawberry.type
class Query:
    @strawberry.field
    def authors(self) -> list[Author]:
        return [
            Author(
                name=f"ada{i}",
                nickname=None if i % 2 else f"a{i}",
                must_have=None if i == 2 else "yes",  # type: ignore[arg-type]
                joined=datetime(2024, 1, i + 1, tzinfo=UTC),
                colour=Colour.RED if i % 2 else Colour.BLUE,
                score=i,
            )
            for i in range(4)
        ]


QUERY = """
{ authors { name nickname mustHave joined colour score shout greeting later failing
            padded(width: 6) alias: name } }
"""


def run(schema: strawberry.Schema, query: str = QUERY) -> dict[str, Any]:
    result = asyncio.run(schema.execute(query))
    errors = sorted((e.message, tuple(e.path or ())) for e in result.errors or [])
    return {"data": result.data, "errors": errors}


def with_shortcuts(**options: Any) -> strawberry.Schema:
    built = strawberry.Schema(query=Query, execution_context_class=GatewayExecutor, **options)
    assert use_lean_resolvers(built) == 6  # padded(width) too: a plain Int argument
    return built


def test_the_shortcuts_answer_what_strawberry_answers() -> None:
    plain = run(strawberry.Schema(query=Query))
    assert run(with_shortcuts()) == plain
    assert plain["data"] is None  # a null in a non-null field of a non-null list item...
    assert (
        "Cannot return null for non-nullable field Author.mustHave.",
        ("authors", 2, "mustHave"),
    ) in plain["errors"]


def test_the_shortcuts_answer_what_strawberry_answers_field_by_field() -> None:
    fields = "name nickname joined colour score shout greeting later failing padded(width: 6)"
    query = f"{{ authors {{ {fields} }} }}"
    expected = run(strawberry.Schema(query=Query), query)
    assert run(with_shortcuts(), query) == expected
    authors = expected["data"]["authors"]
    assert authors[1] == {
        "name": "ada1",
        "nickname": None,
        "joined": "2024-01-02T00:00:00+00:00",
        "colour": "RED",
        "score": 1,
        "shout": "ADA1",
        "greeting": "ada1 at greeting",
        "later": "ada1 later",
        "failing": None,
        "padded": "ada1..",
    }
    assert ("ada1 cannot", ("authors", 1, "failing")) in expected["errors"]


def test_an_extension_that_sees_every_field_still_sees_every_field() -> None:
    seen: list[str] = []

    class Watch(SchemaExtension):
        def resolve(
            self, _next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any
        ) -> Any:
            seen.append(info.field_name)
            return _next(root, info, *args, **kwargs)

    run(with_shortcuts(extensions=[Watch]), "{ authors { name score } }")
    assert seen.count("name") == seen.count("score") == 4


def test_the_gateway_schema_uses_both_shortcuts() -> None:
    assert issubclass(gateway_schema.execution_context_class, GatewayExecutor)
    author = graphql_schema(gateway_schema).type_map["Discussion"].fields["author"]  # type: ignore[union-attr]
    assert author.resolve.__qualname__.startswith("_lean_resolver")


@pytest.mark.parametrize("query", ["{ authors { name(x: 1) } }", "{ authors { nosuch } }"])
def test_invalid_queries_are_refused_alike(query: str) -> None:
    assert run(with_shortcuts(), query) == run(strawberry.Schema(query=Query), query)


# Resolvers with arguments: plain scalars are passed as graphql-core coerced them, by their
# Python names; any other kind of argument keeps Strawberry's wrapper, which converts it.


@strawberry.input
class Window:
    first: int


@strawberry.type
class Arguments:
    @strawberry.field
    def scalars(
        self,
        info: strawberry.Info,
        id: strawberry.ID,
        user_id: int,
        search: str | None = None,
        ratio: float = 0.5,
        active: bool | None = None,
    ) -> str:
        assert isinstance(info, strawberry.Info) and info.field_name == "scalars"
        return f"{id!r} {user_id!r} {search!r} {ratio!r} {active!r}"

    @strawberry.field
    async def later(self, width: int = 3) -> str:
        return "x" * width

    @strawberry.field
    def colour(self, colour: Colour) -> str:
        return repr(colour)

    @strawberry.field
    def listed(self, ids: list[strawberry.ID]) -> str:
        return repr(ids)

    @strawberry.field
    def windowed(self, window: Window) -> str:
        return repr(window)

    @strawberry.field
    def failing(self, why: str) -> str:
        raise ValueError(why)


@strawberry.type
class ArgumentsQuery:
    @strawberry.field
    def arguments(self) -> Arguments:
        return Arguments()


ARGUMENT_QUERIES = [
    '{ arguments { scalars(id: "7", userId: 3) } }',
    '{ arguments { scalars(id: 7, userId: -1, search: "ada", ratio: 2, active: false) } }',
    '{ arguments { scalars(id: "7", userId: 3, search: null, active: null) } }',
    "query Q($u: Int!, $s: String) { arguments { scalars(id: 1, userId: $u, search: $s) } }",
    "{ arguments { later a: later(width: 1) } }",
    "{ arguments { colour(colour: RED) listed(ids: [1, 2]) windowed(window: {first: 2}) } }",
    '{ arguments { failing(why: "no") } }',
    "{ arguments { scalars(userId: 3) } }",
]


@pytest.mark.parametrize("query", ARGUMENT_QUERIES)
def test_resolvers_with_arguments_answer_as_strawberry_s_wrapper_does(query: str) -> None:
    def schema() -> strawberry.Schema:
        return strawberry.Schema(query=ArgumentsQuery, execution_context_class=GatewayExecutor)

    lean = schema()
    assert use_lean_resolvers(lean) == 4  # arguments, scalars, later, failing
    fields = graphql_schema(lean).type_map["Arguments"].fields  # type: ignore[union-attr]
    for kept in ("colour", "listed", "windowed"):
        assert not fields[kept].resolve.__qualname__.startswith("_lean_resolver"), kept
    variables = {"u": 5, "s": "bea"}
    stock = asyncio.run(schema().execute(query, variable_values=variables))
    answer = asyncio.run(lean.execute(query, variable_values=variables))
    assert answer.data == stock.data
    assert [e.formatted for e in answer.errors or ()] == [e.formatted for e in stock.errors or ()]
