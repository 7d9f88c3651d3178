"""Strawberry's `Schema.execute`, step for step, with the extensions' hooks entered plainly.

For every request Strawberry's `execute` makes a runner and, for each of its four stages
(operation, parsing, validation, execution), an object that looks every extension's hook up
again, and enters the hooks through an `AsyncExitStack`: about a seventh of the gateway's own work
for one small query. Here each extension class's hooks are looked up once, and where every hook
of every extension is a plain generator (as the gateway's are: `PreparedDocuments`,
`RecordOperation`, `DisableIntrospection`), the stages enter them as the context managers
`contextlib.contextmanager` makes, in the same order, and leave them in reverse, as the exit
stack does. The steps between are Strawberry's own, in its order: the same `ExecutionContext`
filled in the same places, the same checks and exceptions, errors processed where Strawberry
processes them, the extensions' results gathered at the same moment.

An extension with an async hook, a hook that is a plain callable, a `resolve` hook (it sees
every field) or an async `get_results`, and incremental execution, send the request through
Strawberry's own `execute`. `tests/graph/schema/test_running.py` runs operations both ways and
compares the answers, and what the hooks saw, in order.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractContextManager, ExitStack
from types import TracebackType
from typing import Any, TypeGuard, cast

import strawberry
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError, execute, parse
from strawberry.exceptions import MissingQueryError
from strawberry.execution import optimized_is_awaitable
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from graph.internals import PreExecutionError, entered_by, graphql_schema, validate_document

__all__ = ["ALL_OPERATIONS", "execute_plainly", "plain_hooks"]

ALL_OPERATIONS = frozenset(OperationType)
"""What Strawberry allows when the caller names no operation types."""

IS_AWAITABLE = cast(Callable[[Any], TypeGuard[Awaitable[Any]]], optimized_is_awaitable)
"""Strawberry's quicker `is_awaitable`, which it hands graphql-core (typed as a bool)."""

STAGES = ("on_operation", "on_parse", "on_validate", "on_execute")

Hooks = tuple[tuple[Callable[[], AbstractContextManager[None]], ...], ...]
"""For each stage, what enters each hook, in the extensions' order."""

_CLASS_HOOKS: dict[type[SchemaExtension], tuple[Any, ...] | None] = {}
"""Extension class -> its generator hook per stage (None where absent), or None when some hook
or `get_results` is of a kind only Strawberry's runner takes."""


def _class_hooks(cls: type[SchemaExtension]) -> tuple[Any, ...] | None:
    if cls in _CLASS_HOOKS:
        return _CLASS_HOOKS[cls]
    found: tuple[Any, ...] | None = None
    sees_fields = cls.resolve is not SchemaExtension.resolve  # graphql-core's middleware
    if not sees_fields and not inspect.iscoroutinefunction(cls.get_results):
        hooks: list[Any] = []
        for stage in STAGES:
            hook = getattr(cls, stage)
            if hook is getattr(SchemaExtension, stage):
                hooks.append(None)
            elif inspect.isgeneratorfunction(hook):
                hooks.append(hook)
            else:
                break  # async, or a plain callable: Strawberry's runner
        else:
            found = tuple(hooks)
    _CLASS_HOOKS[cls] = found
    return found


def plain_hooks(extensions: Iterable[SchemaExtension]) -> Hooks | None:
    """How to enter each stage's hooks of these extensions, or None when one of them needs
    Strawberry's runner."""
    stages: list[list[Callable[[], AbstractContextManager[None]]]] = [[] for _ in STAGES]
    for extension in extensions:
        hooks = _class_hooks(type(extension))
        if hooks is None:
            return None
        for at, hook in enumerate(hooks):
            if hook is not None:
                stages[at].append(entered_by(hook, extension))  # as contextmanager would
    return tuple(tuple(stage) for stage in stages)


class Stage:
    """One stage's hooks, entered in order and left in reverse, as Strawberry's exit stack
    enters and leaves them (a hook that fails to enter leaves the ones before it entered, as
    there)."""

    __slots__ = ("entered", "makers")

    def __init__(self, makers: tuple[Callable[[], AbstractContextManager[None]], ...]) -> None:
        self.makers = makers
        self.entered: list[AbstractContextManager[None]] = []

    def __enter__(self) -> None:
        for make in self.makers:
            hook = make()
            hook.__enter__()
            self.entered.append(hook)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        entered = self.entered
        if kind is None:
            while entered:
                hook = entered.pop()
                try:
                    hook.__exit__(None, None, None)
                except BaseException as raised:
                    if not self._unwind(type(raised), raised, raised.__traceback__):
                        raise  # the exit stack would raise it past the hooks still entered
                    return False
            return False
        return self._unwind(kind, error, traceback)

    def _unwind(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        """The hooks still entered left with an exception, the exit stack's own way (in reverse,
        each seeing what the one after it raised or suppressed)."""
        stack = ExitStack()
        for hook in self.entered:
            stack.push(hook)
        self.entered = []
        return bool(stack.__exit__(kind, error, traceback))


async def execute_plainly(
    schema: strawberry.Schema,
    extensions: list[SchemaExtension],
    hooks: Hooks,
    query: str | None,
    variable_values: dict[str, Any] | None = None,
    context_value: Any | None = None,
    root_value: Any | None = None,
    operation_name: str | None = None,
    allowed_operation_types: Iterable[OperationType] | None = None,
    operation_extensions: dict[str, Any] | None = None,
) -> ExecutionResult:
    """`Schema.execute` (Strawberry 0.341), over extensions whose hooks `plain_hooks` took."""
    context = ExecutionContext(
        query=query,
        schema=schema,
        allowed_operations=ALL_OPERATIONS
        if allowed_operation_types is None
        else allowed_operation_types,
        context=context_value,
        root_value=root_value,
        variables=variable_values,
        provided_operation_name=operation_name,
        operation_extensions=operation_extensions,
    )
    for extension in extensions:
        extension.execution_context = context
    operation, parsing, validation, executing = hooks
    result: Any
    try:
        with Stage(operation):
            if not context.query and context.graphql_document is None:
                raise MissingQueryError
            refused: PreExecutionError | None = None
            with Stage(parsing):
                try:
                    if context.graphql_document is None:
                        if not context.query:
                            raise MissingQueryError
                        context.graphql_document = parse(context.query, **context.parse_options)
                except GraphQLError as error:
                    context.pre_execution_errors = [error]
                    refused = PreExecutionError(data=None, errors=[error])
                except Exception as error:
                    error = GraphQLError(str(error), original_error=error)
                    context.pre_execution_errors = [error]
                    refused = PreExecutionError(data=None, errors=[error])
            if refused is not None:
                return await _finish(schema, context, refused, extensions)
            try:
                operation_type = context.operation_type
            except RuntimeError as error:
                raise CannotGetOperationTypeError(context.operation_name) from error
            if operation_type not in context.allowed_operations:
                raise InvalidOperationTypeError(operation_type)
            with Stage(validation):
                if context.validation_rules and context.pre_execution_errors is None:
                    assert context.graphql_document  # as Strawberry asserts
                    context.pre_execution_errors = validate_document(
                        graphql_schema(schema), context.graphql_document, context.validation_rules
                    )
                if context.pre_execution_errors:
                    refused = PreExecutionError(data=None, errors=context.pre_execution_errors)
            if refused is not None:
                return await _finish(schema, context, refused, extensions)
            assert context.graphql_document  # as Strawberry asserts
            with Stage(executing):
                if not context.result:
                    result = execute(
                        graphql_schema(schema),
                        context.graphql_document,
                        root_value=context.root_value,
                        variable_values=context.variables,
                        operation_name=context.operation_name,
                        context_value=context.context,
                        is_awaitable=IS_AWAITABLE,
                        executor_class=schema.execution_context_class,
                        operation_extensions=operation_extensions,
                    )
                    if inspect.isawaitable(result):
                        result = await result
                    context.result = result
                else:
                    result = context.result
                if isinstance(result, GraphQLExecutionResult) and result.errors:
                    context.pre_execution_errors = result.errors
                    _process_errors(schema, result.errors, context)
    except (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError):
        raise
    except Exception as error:
        coerced = (
            error
            if isinstance(error, GraphQLError)
            else GraphQLError(str(error), original_error=error)
        )
        refused = PreExecutionError(data=None, errors=[coerced])
        return await _finish(schema, context, refused, extensions)
    return await _finish(schema, context, result, extensions, errors_processed=True)


def _process_errors(
    schema: strawberry.Schema, errors: list[GraphQLError], context: ExecutionContext
) -> None:
    """Strawberry's `_process_errors`: suggestions taken out if configured, then the schema's
    `process_errors`."""
    if schema.config.disable_field_suggestions:
        for error in errors:
            schema.remove_field_suggestion(error)
    schema.process_errors(errors, context)


async def _finish(
    schema: strawberry.Schema,
    context: ExecutionContext,
    result: Any,
    extensions: list[SchemaExtension],
    *,
    errors_processed: bool = False,
) -> ExecutionResult:
    """Strawberry's `_handle_execution_result`."""
    if result.errors:
        context.pre_execution_errors = result.errors
        if not errors_processed:
            _process_errors(schema, result.errors, context)
    if isinstance(result, GraphQLExecutionResult):
        result = ExecutionResult(data=result.data, errors=result.errors)
    gathered: dict[str, Any] = {}
    for extension in extensions:
        found = extension.get_results()
        gathered.update(await found if inspect.isawaitable(found) else found)
    gathered.update(context.extensions_results)
    result.extensions = gathered
    context.result = result
    return result
