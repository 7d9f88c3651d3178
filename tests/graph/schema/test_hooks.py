"""`HookRunner` (graph/schema/hooks.py) enters the schema extensions' hooks as Strawberry's own
runner does: the same hooks, in the same order, with the same exceptions thrown into them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext

from graph.schema.hooks import HookRunner

LOG: list[str] = []


class Generators(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        LOG.append("operation in")
        try:
            yield
        except Exception as error:
            LOG.append(f"operation saw {type(error).__name__}")
            raise
        finally:
            LOG.append("operation out")

    def on_parse(self) -> Iterator[None]:
        LOG.append("parse in")
        yield
        LOG.append("parse out")

    def on_validate(self) -> Iterator[None]:
        LOG.append("validate in")
        yield
        LOG.append("validate out")


class Others(SchemaExtension):
    async def on_operation(self) -> AsyncIterator[None]:
        LOG.append("async operation in")
        yield
        LOG.append("async operation out")

    def on_execute(self) -> None:  # type: ignore[override]
        LOG.append("callable execute")

    def get_results(self) -> dict[str, Any]:
        return {"seen": len(LOG)}


@strawberry.type
class Query:
    @strawberry.field
    def hello(self, fail: bool = False) -> str:
        if fail:
            raise ValueError("no")
        return "hi"


class Stock(strawberry.Schema):
    pass


class Ours(strawberry.Schema):
    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return HookRunner(execution_context=execution_context, extensions=extensions)


async def run(schema_class: type[strawberry.Schema], query: str | None) -> tuple[Any, list[str]]:
    LOG.clear()
    schema = schema_class(query=Query, extensions=[Generators, Others])
    try:
        result = await schema.execute(query)
    except Exception as error:
        return type(error).__name__, list(LOG)
    errors = [e.message for e in result.errors or ()]
    return (result.data, errors, result.extensions), list(LOG)


@pytest.mark.parametrize(
    "query",
    ["{ hello }", "{ hello(fail: true) }", "{ hello(", "{ nope }", None],
    ids=["answer", "field error", "syntax error", "validation error", "no query"],
)
async def test_the_hooks_run_as_strawberry_runs_them(query: str | None) -> None:
    stock = await run(Stock, query)
    ours = await run(Ours, query)
    assert ours == stock
    assert "operation in" in stock[1]  # the hooks ran at all


async def test_each_extension_class_is_looked_up_once_per_stage() -> None:
    await run(Ours, "{ hello }")
    from graph.schema import hooks

    kinds = {key: hooks._GENERATORS[key] for key in hooks._GENERATORS if key[0] is Generators}
    assert {name for _, name in kinds} == {"on_operation", "on_parse", "on_validate", "on_execute"}
    assert hooks._ABSENT[(Generators, "on_execute")] is True  # not defined: skipped
    assert kinds[(Generators, "on_parse")] is Generators.on_parse
    assert hooks._GENERATORS[(Others, "on_operation")] is None  # async: Strawberry's own way
    assert hooks._ABSENT[(Others, "on_operation")] is False
