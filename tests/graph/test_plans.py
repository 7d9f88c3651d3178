"""Execution plans answer what graphql-core answers, resolve each field once, and stand aside
where they do not apply (`graph/plans.py`). The whole gateway schema is held to graphql-core in
`test_plan_equivalence.py`; here, a small schema with every shape of error."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from enum import Enum
from typing import Annotated, Any

import graphql
import pytest
import strawberry
from graphql import DocumentNode, parse
from strawberry.extensions import SchemaExtension

from graph.execution import use_lean_resolvers
from graph.metrics import Metrics
from graph.plans import PLAN_COUNTS, Plan, PlanExecutor, _Plans

CALLS: Counter[str] = Counter()


@strawberry.enum
class Mood(Enum):
    GLAD = "glad"
    SAD = "sad"


@strawberry.interface
class Thing:
    name: str


@strawberry.type
class Cat(Thing):
    lives: int


@strawberry.type
class Dog(Thing):
    good: bool
    mood: Mood


@strawberry.type
class Stone:
    weight: int


Found = Annotated[Cat | Stone, strawberry.union("Found")]


@strawberry.type
class Item:
    number: int
    label: str
    """Declared non-null; item 2 has None in it."""
    mood: Mood
    """Item 3 has a value that is no `Mood`."""

    @strawberry.field
    def twice(self) -> int:
        CALLS["twice"] += 1
        return self.number * 2

    @strawberry.field
    async def later(self) -> str:
        CALLS["later"] += 1
        await asyncio.sleep(0)
        if self.number == 1:
            raise ValueError("one cannot wait")
        return f"later {self.number}"

    @strawberry.field
    def failing(self, info: strawberry.Info) -> str | None:
        raise ValueError(f"{self.number} fails at {info.path.key}")

    @strawberry.field
    async def must(self) -> str:
        await asyncio.sleep(0)
        if self.number == 0:
            return None  # type: ignore[return-value]
        return "yes"

    @strawberry.field
    def grid(self) -> list[list[int | None]]:
        return [[self.number, None], []]

    @strawberry.field
    def padded(self, width: int = 4) -> str:
        CALLS["padded"] += 1
        return str(self.number).rjust(width, "0")


def items() -> list[Item]:
    return [
        Item(
            number=i,
            label=None if i == 2 else f"item {i}",  # type: ignore[arg-type]
            mood="confused" if i == 3 else Mood.GLAD,  # type: ignore[arg-type]
        )
        for i in range(4)
    ]


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        CALLS["items"] += 1
        return items()

    @strawberry.field
    def strict_items(self) -> list[Item] | None:
        return items()

    @strawberry.field
    async def things(self) -> list[Thing]:
        return [Cat(name="tom", lives=9), Dog(name="rex", good=True, mood=Mood.SAD)]

    @strawberry.field
    def found(self) -> list[Found]:
        return [Stone(weight=3), Cat(name="kit", lives=7)]

    @strawberry.field
    def wrong(self) -> Cat | None:
        return Stone(weight=1)  # type: ignore[return-value]

    @strawberry.field
    async def streamed(self) -> list[int]:
        async def numbers() -> AsyncIterator[int]:
            for n in range(3):
                yield n

        return numbers()  # type: ignore[return-value]

    @strawberry.field
    def not_a_list(self) -> list[int] | None:
        return 5  # type: ignore[return-value]


@strawberry.type
class Mutation:
    @strawberry.mutation
    def bump(self) -> int:
        CALLS["bump"] += 1
        return CALLS["bump"]


def planned(**options: Any) -> strawberry.Schema:
    schema = strawberry.Schema(
        query=Query,
        mutation=Mutation,
        types=[Cat, Dog],
        execution_context_class=PlanExecutor,
        **options,
    )
    use_lean_resolvers(schema)
    return schema


def stock(**options: Any) -> strawberry.Schema:
    return strawberry.Schema(query=Query, mutation=Mutation, types=[Cat, Dog], **options)


def run(
    schema: strawberry.Schema, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    result = asyncio.run(schema.execute(query, variables))
    errors = [e.formatted for e in result.errors or ()]
    return {"data": result.data, "errors": errors}


QUERIES = [
    "{ items { number twice later failing padded(width: 3) } }",
    "{ items { number label } }",  # a null in a non-null field of a non-null item
    "{ strictItems { number label } }",  # ... up to the nullable list
    "{ strictItems { number mood } }",  # a value its enum refuses
    "{ strictItems { number must later } }",  # an awaited null in a non-null field
    "{ strictItems { l: label m: must } }",  # the same, under aliases
    "{ items { grid } a: items { n: number __typename } }",
    "{ things { __typename name ... on Cat { lives } ... on Dog { good mood } } }",
    "{ found { __typename ... on Stone { weight } ... on Cat { name } } }",
    "{ wrong { name } }",
    "{ streamed }",
    "{ notAList }",
    "query($w: Int!) { items { padded(width: $w) } }",
    "query($s: Boolean!) { items { number label @skip(if: $s) twice @include(if: $s) } }",
    "{ ...F items { ...G } } fragment F on Query { things { name } } fragment G on Item { number }",
]
VARIABLES = {"w": 5, "s": True}


@pytest.mark.parametrize("query", QUERIES)
def test_a_plan_answers_what_graphql_core_answers(query: str) -> None:
    CALLS.clear()
    expected = run(stock(), query, VARIABLES)
    calls_by_graphql_core = dict(CALLS)
    CALLS.clear()
    before = PLAN_COUNTS["planned"]
    assert run(planned(), query, VARIABLES) == expected
    assert PLAN_COUNTS["planned"] == before + 1
    assert dict(CALLS) == calls_by_graphql_core  # every resolver called as often: once a value
    if query.startswith("{ items { number twice"):
        assert calls_by_graphql_core == {"items": 1, "twice": 4, "later": 4, "padded": 4}


def test_skip_and_include_by_variable_are_planned_per_value() -> None:
    query = "query($s: Boolean!) { items { number label @skip(if: $s) twice @include(if: $s) } }"
    schema = planned()
    for value in (True, False, True):
        assert run(schema, query, {"s": value}) == run(stock(), query, {"s": value})
    shown = run(schema, query, {"s": True})["data"]["items"][0]
    assert shown == {"number": 0, "twice": 0}


def test_a_mutation_goes_to_graphql_core_and_runs_once() -> None:
    CALLS.clear()
    before = Counter(PLAN_COUNTS)
    assert run(planned(), "mutation { a: bump b: bump }")["data"] == {"a": 1, "b": 2}
    assert PLAN_COUNTS["mutation"] == before["mutation"] + 1
    assert PLAN_COUNTS["planned"] == before["planned"]
    assert CALLS["bump"] == 2


def test_an_extension_that_sees_every_field_has_graphql_core_execute() -> None:
    seen: list[str] = []

    class Watch(SchemaExtension):
        def resolve(
            self, _next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any
        ) -> Any:
            seen.append(info.field_name)
            return _next(root, info, *args, **kwargs)

    before = PLAN_COUNTS["middleware"]
    query = "{ items { number twice } }"
    assert run(planned(extensions=[Watch]), query) == run(stock(), query)
    assert PLAN_COUNTS["middleware"] == before + 1
    assert seen.count("number") == 4  # the extension saw every field


def test_one_plan_per_document_and_operation_is_kept_and_reused() -> None:
    schema = planned()
    query = "query One { items { number } } query Two { items { label } }"
    asyncio.run(schema.execute(query, operation_name="One"))
    asyncio.run(schema.execute(query, operation_name="Two"))
    from graph.plans import PLANS

    keys = [k for k, plan in PLANS.plans.items() if k[0] == id(schema._schema)]
    assert len(keys) == 2  # one per operation
    plans = [PLANS.plans[k] for k in keys]
    asyncio.run(schema.execute(query, operation_name="One"))
    assert [PLANS.plans[k] for k in keys] == plans  # reused, not compiled again


def test_the_plan_cache_is_bounded() -> None:
    cache = _Plans(maxsize=2)
    documents: list[DocumentNode] = [parse(f"{{ a{i} }}") for i in range(3)]
    for i, document in enumerate(documents):
        cache.condition_variables(document)
        cache.put((i,), Plan(document, []))
    assert list(cache.plans) == [(1,), (2,)]
    assert id(documents[0]) not in cache.conditions


def test_graphql_core_is_the_release_the_plans_were_written_against() -> None:
    """The plans call into graphql-core's executor (`handle_field_error`, `complete_value`...);
    an upgrade is checked by the differential test before this pin moves."""
    assert graphql.version.startswith("3.3."), graphql.version
    for name in (
        "handle_field_error",
        "complete_value",
        "complete_list_value",
        "complete_object_value",
        "complete_abstract_value",
        "complete_leaf_value",
        "ensure_valid_runtime_type",
        "build_resolve_info",
        "settle_in_background",
        "build_response",
        "finish",
    ):
        assert callable(getattr(PlanExecutor, name)), name


def test_the_metrics_say_how_many_operations_each_executor_ran() -> None:
    run(planned(), "{ items { number } }")
    run(planned(), "mutation { bump }")
    exposition = Metrics().exposition().decode()
    planned_line = f'legacygraph_executions_total{{executor="planned"}} {PLAN_COUNTS["planned"]}.0'
    mutation_line = (
        f'legacygraph_executions_total{{executor="mutation"}} {PLAN_COUNTS["mutation"]}.0'
    )
    assert planned_line in exposition.splitlines()
    assert mutation_line in exposition.splitlines()
