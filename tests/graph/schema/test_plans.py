"""Execution plans answer what graphql-core answers, resolve each field once, and stand aside
where they do not apply (`graph/schema/plans.py`). The whole gateway schema is held to graphql-core in
`test_plan_equivalence.py`; here, a small schema with every shape of error."""

from __future__ import annotations

import asyncio
import hashlib
import inspect
from collections import Counter
from collections.abc import AsyncIterator, Callable
from enum import Enum
from typing import Annotated, Any

import pytest
import strawberry
from graphql import DocumentNode, Executor, parse
from graphql.execution.collect_fields import collect_fields, collect_subfields
from strawberry.extensions import SchemaExtension

from graph.internals import graphql_schema
from graph.schema.execution import use_lean_resolvers
from graph.schema.plans import PLAN_COUNTS, Plan, PlanExecutor, _Plans
from graph.server.metrics import Metrics
from tests.graph.test_internals import ProblemHandler
from tests.graph.test_internals import Query as ProbeQuery

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
    code: strawberry.ID
    """A `str`, but an `int` (which an ID answers as a string) in odd items."""

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
    def pet(self) -> Cat | None:
        """An object of a type with an interface: none in item 0, a stone where a cat belongs in
        item 1, a cat with a null name in item 2, a cat in item 3."""
        if self.number == 1:
            return Stone(weight=1)  # type: ignore[return-value]
        if self.number == 0:
            return None
        return Cat(name=None if self.number == 2 else f"cat {self.number}", lives=self.number)  # type: ignore[arg-type]

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
            code=i if i % 2 else strawberry.ID(f"c{i}"),  # type: ignore[arg-type]
        )
        for i in range(4)
    ]


def odd_cats() -> list[Cat | None]:
    """Items of an object type with an interface (the plan's quick way through a list): a null,
    a cat with a null name, and a stone where a cat belongs."""
    return [
        Cat(name="tom", lives=9),
        None,
        Cat(name=None, lives=1),  # type: ignore[arg-type]
        Stone(weight=2),  # type: ignore[list-item]
        Cat(name="kit", lives=7),
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
    def cats(self) -> list[Cat | None]:
        return odd_cats()

    @strawberry.field
    def strict_cats(self) -> list[Cat] | None:
        """The same, in a list whose items may not be null."""
        return odd_cats()  # type: ignore[return-value]

    @strawberry.field
    def good_cats(self) -> list[Cat]:
        return [Cat(name="tom", lives=9), Cat(name="kit", lives=7)]

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
    "{ cats { name lives __typename } }",
    "{ items { number code pet { lives } } strictItems { pet { name lives } } }",
    "{ cats { lives } strictCats { lives } }",
    "{ strictCats { name } }",
    "{ goodCats { n: name ... on Thing { name } lives } }",
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
    from graph.schema.plans import PLANS

    keys = [k for k in PLANS.plans if k[0] is graphql_schema(schema)]
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


MIRRORED = {
    "Executor.execute_operation": "030f6fe38d23736926fd9ad6696db259bfa9d92da404710a27e43225e102435b",
    "Executor.execute_fields": "797f54fbd779b4e381b688bce8e249abffa2e057974676e5f5ef3cefc0ff654c",
    "Executor.execute_field": "5281dc836ecc24a07af71f0174a0deeec566966af66df08a8c929b7b68491602",
    "Executor.complete_value": "06c34f7681a131208e6ca8ffec66578cf11ad0a51f8a9dc631cc7cc5bf06dbc9",
    "Executor.complete_awaitable_value": (
        "9a67e9f91f0aac5ca3f186e44d1467d82a6ed1abb2b832b54eff9ec192cf3acd"
    ),
    "Executor.complete_iterable_value": (
        "bdb49d2d91f1e31265faafd19688f0e68b9b4c92ee8e69431cc67d75c793e431"
    ),
    "Executor.complete_list_item_value": (
        "8883b4d65a1ae09935ff6f982cf6dfc235500681929ea58a7dabb121fae691d1"
    ),
    "Executor.complete_awaitable_list_item_value": (
        "57bbf50e7e49cfc8dfc411b366e15f2d893d3c86959ff01b54499b204cacf30b"
    ),
    "Executor.complete_object_value": (
        "55e77f58eca1ddc437115408e708ce769b2cb195d9923fa7cecb49abd894da6e"
    ),
    "Executor.handle_field_error": "d33a6ee408cd1695b017debbaaa542be2ce9c2760c7a350aac8cc59634843d1d",
    "collect_fields": "d41c7aeb4cad40fcf7944b690062873c15069a02ffab83d20c3b541f560ce617",
    "collect_subfields": "1657a3c68d28339100c74cee9b3afc827065c27033d4a2047ede6b62e06d6f70",
}
"""graphql-core 3.3.2's functions that `PlanExecutor` follows step for step (or calls, for
`handle_field_error` and the field collection): when graphql-core changes one, read the change
and carry it into `graph/schema/plans.py` (the differential test checks the outcome), then the hash."""


def test_graphql_cores_executor_is_still_the_one_the_plans_follow() -> None:
    functions = {
        f.__qualname__: f
        for f in (
            *(getattr(Executor, name.split(".")[1]) for name in MIRRORED if "." in name),
            collect_fields,
            collect_subfields,
        )
    }
    for name, digest in MIRRORED.items():
        source = inspect.getsource(functions[name])
        assert hashlib.sha256(source.encode()).hexdigest() == digest, (name, source)
    for name in (
        "complete_list_value",
        "complete_abstract_value",
        "complete_leaf_value",
        "ensure_valid_runtime_type",
        "build_resolve_info",
        "settle_in_background",
        "build_response",
        "finish",
    ):
        assert callable(getattr(PlanExecutor, name)), name


def test_exception_handlers_are_honoured_by_the_plans() -> None:
    schema = strawberry.Schema(
        query=ProbeQuery,
        execution_context_class=PlanExecutor,
        exception_handlers=[ProblemHandler()],
    )
    use_lean_resolvers(schema)
    before = PLAN_COUNTS["planned"]
    result = schema.execute_sync("{ risky { ... on Problem { message } } thing { name shout } }")
    assert PLAN_COUNTS["planned"] == before + 1
    assert result.errors is None
    assert result.data == {
        "risky": {"message": "handled: no thing"},
        "thing": {"name": "ada", "shout": "ADA"},
    }


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


def test_a_plan_belongs_to_its_schema() -> None:
    query = "{ risky { ... on Problem { message } } }"
    for _ in range(3):  # schemas made and dropped in turn: none uses another's plan
        plain = strawberry.Schema(query=ProbeQuery, execution_context_class=PlanExecutor)
        use_lean_resolvers(plain)
        failed = plain.execute_sync(query)
        assert failed.errors is not None and failed.errors[0].message == "no thing"
        del plain
        handled = strawberry.Schema(
            query=ProbeQuery,
            execution_context_class=PlanExecutor,
            exception_handlers=[ProblemHandler()],
        )
        use_lean_resolvers(handled)
        assert handled.execute_sync(query).data == {"risky": {"message": "handled: no thing"}}
        del handled
