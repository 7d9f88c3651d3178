"""Execution plans: each document's fields collected and bound once, then executed without
graphql-core's per-field bookkeeping.

graphql-core executes a field by building a `Path` and a `GraphQLResolveInfo`, asking the schema
for the field, checking for arguments, calling the resolver, and completing the value through a
chain of type checks; and for every object of a list it collects the sub-selection again (from
a memo). For a page of 100 discussions with their authors that is most of the gateway's own
CPU. A plan does that work once per (document, operation): the fields of each selection set
(as graphql-core's own `collect_fields` collects them), and for each field how it is resolved:

- a plain attribute (Strawberry's basic field) is read, and a scalar serialized, inline;
- a resolver that takes only its object is called without an `Info`;
- any other resolver gets graphql-core's `Info` (Strawberry's), built as graphql-core builds it.

A `Path` is made only where a value has children (an object, a list's items), and an `Info`
only where something reads it: a resolver that takes one, an abstract type's `resolve_type`, an
error's message. Everything else is graphql-core's own behaviour, kept step for step: errors are
located and collected through the executor's `handle_field_error` (null propagation, the error's
path, the order errors arrive in), awaitables are gathered in the same order, and what the plan
does not take itself (an async iterable for a list, an error's exact message) is handed to
graphql-core's own completion for that one value. The differential test
(`tests/graph/schema/test_plan_equivalence.py`) holds the two to the same answers.

An operation is planned or not before anything runs, never both: mutations (run in order),
subscriptions, requests with an abort signal, and extensions that see every field (`resolve`
hooks, as middleware) go to graphql-core's executor from the start; `PLAN_COUNTS` says how
many went each way.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLField,
    GraphQLID,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLString,
    GraphQLUnionType,
    OperationType,
    Undefined,
    is_leaf_type,
    visit,
)
from graphql.execution import ExecutionResult, get_argument_values
from graphql.execution.collect_fields import FieldDetails, collect_fields, collect_subfields
from graphql.language import DirectiveNode, Visitor
from graphql.pyutils import Path, gather_with_cancel, is_iterable

from graph.schema.execution import GatewayExecutor

__all__ = ["PLAN_COUNTS", "PlanExecutor", "plan_cache_size"]

PLAN_COUNTS: Counter[str] = Counter()
"""Operations executed by a plan (`planned`) and those sent to graphql-core's executor, by
reason (`mutation`, `middleware`, ...)."""

PLANS_KEPT = 256
"""Plans kept, least recently used dropped first: as many as the documents parsed and validated
(`graph/schema/documents.py`)."""

READ_LEAF, READ, CALL_BARE, CALL_LAZY, CALL, TYPENAME = range(6)


class FieldPlan:
    """One response key of one selection set, bound to how it is resolved."""

    __slots__ = (
        "args",
        "attribute",
        "coerce",
        "details",
        "field_def",
        "field_name",
        "keeps_str",
        "mode",
        "name",
        "nodes",
        "object_type",
        "parent_type",
        "read",
        "resolve",
        "return_type",
        "subplans",
    )

    def __init__(
        self,
        name: str,
        parent_type: GraphQLObjectType,
        field_def: GraphQLField,
        details: list[FieldDetails],
        resolve: Callable[..., Any],
    ) -> None:
        self.name = name
        self.parent_type = parent_type
        self.field_def = field_def
        self.details = details
        self.nodes: list[FieldNode] = [d.node for d in details]
        self.field_name = self.nodes[0].name.value
        self.return_type: GraphQLOutputType = field_def.type
        self.args = bool(field_def.args or self.nodes[0].arguments)
        self.subplans: dict[GraphQLObjectType, Subplan] = {}
        self.resolve = resolve
        self.attribute = ""
        self.keeps_str = False
        """Whether the leaf's type answers a `str` as it is (String, ID): no call to coerce it."""
        self.read: Callable[[Any, str], Any] = getattr
        self.coerce: Callable[[Any], Any] | None = None
        self.object_type = _object_type_of(self.return_type)
        """The object type of the value, null or not; None for any other type."""
        self.mode = self._mode()

    def _mode(self) -> int:
        if self.field_name == "__typename":
            return TYPENAME
        field = self.field_def
        definition = field.extensions.get("strawberry-definition")
        named = self.return_type
        if isinstance(named, GraphQLNonNull):
            named = named.of_type
        if (
            definition is not None
            and getattr(field.resolve, "_is_default", False)
            and definition.is_basic_field
            and not self.args
        ):
            # Strawberry's own attribute read: `default_resolver(source, python_name)`.
            self.attribute = definition.python_name
            self.read = definition.default_resolver
            if is_leaf_type(named):
                self.coerce = named.coerce_output_value
                self.keeps_str = self.coerce in STR_AS_IS
                return READ_LEAF
            return READ
        parameters = _lean_parameters(field, definition)
        if parameters in (["self"], ["root"]):
            return CALL_BARE
        if parameters in (["self", "info"], ["root", "info"]):
            return CALL_LAZY
        return CALL


def _lean_parameters(field: GraphQLField, definition: Any) -> list[str] | None:
    """The parameters of a resolver `execution.py` made lean (called with its object and
    an `info`, nothing else); None for any other resolver."""
    resolve = field.resolve
    if definition is None or resolve is None:
        return None
    if not resolve.__qualname__.startswith("_lean_resolver"):
        return None
    resolver = definition.base_resolver
    return None if resolver is None else list(resolver.signature.parameters)


class LazyInfo:
    """The `info` a plan gives a lean resolver: the context at once (what resolvers read),
    anything else from graphql-core's `GraphQLResolveInfo`, built on first use."""

    __slots__ = ("_built", "_executor", "_field", "_path", "context")

    def __init__(self, executor: PlanExecutor, field: FieldPlan, path: Path) -> None:
        self.context = executor.context_value
        self._executor = executor
        self._field = field
        self._path = path
        self._built: GraphQLResolveInfo | None = None

    def __getattr__(self, name: str) -> Any:
        built = self._built
        if built is None:
            built = self._built = self._executor._info(self._field, self._path)
        return getattr(built, name)


def _ignores_info(object_type: GraphQLObjectType) -> bool:
    """Whether `object_type.is_type_of` is the check Strawberry writes itself, which reads only
    the value (an `isinstance`), not the `info` it is given."""
    check = object_type.is_type_of
    definition = object_type.extensions.get("strawberry-definition")
    return (
        check is not None
        and definition is not None
        and definition.is_type_of is None
        and check.__qualname__.endswith("_get_is_type_of.<locals>.is_type_of")
    )


STR_AS_IS = (GraphQLString.coerce_output_value, GraphQLID.coerce_output_value)
"""The coercions of graphql-core's own String and ID, which return a `str` as it is."""


def _object_type_of(item_type: GraphQLOutputType) -> GraphQLObjectType | None:
    """The object type of a value (a list's item, a field's value), null or not; None for any
    other type."""
    if isinstance(item_type, GraphQLNonNull):
        item_type = item_type.of_type
    return item_type if isinstance(item_type, GraphQLObjectType) else None


class Subplan(NamedTuple):
    """The fields of one selection set for one object type, and the type's `is_type_of`."""

    fields: list[FieldPlan]
    is_type_of: Callable[[Any, Any], Any] | None
    ignores_info: bool


class Plan:
    """The plan of one operation of one document: its root fields, and (filled as values of
    each type arrive) the fields of every selection set below."""

    __slots__ = ("document", "root")

    def __init__(self, document: DocumentNode, root: list[FieldPlan]) -> None:
        self.document = document  # kept alive: the cache is keyed by its identity
        self.root = root


class _Plans:
    """The plans kept, by (schema, document, operation, values of the `@skip`/`@include`
    variables). Shared by every app of the process, whose event loops may run in threads."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self.plans: OrderedDict[tuple[Any, ...], Plan] = OrderedDict()
        self.conditions: dict[int, tuple[DocumentNode, tuple[str, ...]]] = {}
        self.lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> Plan | None:
        with self.lock:
            plan = self.plans.get(key)
            if plan is not None:
                self.plans.move_to_end(key)
            return plan

    def put(self, key: tuple[Any, ...], plan: Plan) -> None:
        with self.lock:
            self.plans[key] = plan
            if len(self.plans) > self.maxsize:
                self.plans.popitem(last=False)
            live = {id(p.document) for p in self.plans.values()}
            for gone in [k for k in self.conditions if k not in live]:
                del self.conditions[gone]

    def condition_variables(self, document: DocumentNode) -> tuple[str, ...]:
        """The variables the document's `@skip`/`@include` read: the fields collected depend
        on their values, so a plan is kept per those values."""
        known = self.conditions.get(id(document))
        if known is not None and known[0] is document:
            return known[1]
        names: set[str] = set()

        class Conditions(Visitor):
            def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
                for argument in node.arguments or ():
                    visit(argument, Variables())

        class Variables(Visitor):
            def enter_variable(self, node: Any, *_: Any) -> None:
                names.add(node.name.value)

        visit(document, Conditions())
        found = tuple(sorted(names))
        with self.lock:
            self.conditions[id(document)] = (document, found)
        return found


PLANS = _Plans(PLANS_KEPT)


def plan_cache_size() -> int:
    """How many plans are kept now."""
    return len(PLANS.plans)


class PlanExecutor(GatewayExecutor):
    """`GatewayExecutor`, executing each query by its plan."""

    _plan_document: DocumentNode | None = None

    def execute_operation(self, serially: bool | None = None) -> Any:
        reason = self._stands_aside(serially)
        if reason:
            PLAN_COUNTS[reason] += 1
            return super().execute_operation(serially)
        PLAN_COUNTS["planned"] += 1
        try:
            plan = self._plan()
            result = self._execute_object(plan.root, self.root_value, None)
            if self.is_awaitable(result):

                async def await_result() -> ExecutionResult:
                    try:
                        data = await result
                    except GraphQLError as error:
                        self.collected_errors.add(error, None)
                        return self.build_response(None)  # type: ignore[return-value]
                    return self.build_response(data)  # type: ignore[return-value]

                return await_result()
            data: dict[str, Any] = result
        except GraphQLError as error:
            self.collected_errors.add(error, None)
            return self.finish(self.build_response(None))
        return self.finish(self.build_response(data))

    def _stands_aside(self, serially: bool | None) -> str:
        """Why graphql-core executes this operation instead of a plan ("" when a plan does)."""
        if self.operation.operation is not OperationType.QUERY:
            return self.operation.operation.value
        if serially is not None:
            return "serially"
        middleware = self.middleware_manager
        if middleware is not None and middleware.middlewares:
            return "middleware"
        if self.abort_signal is not None:
            return "abort signal"
        return ""

    def _plan(self) -> Plan:
        document = self._document()
        coerced = self.variable_values.coerced
        conditions = PLANS.condition_variables(document)
        key = (
            self.schema,  # the schema itself: an id could be reused by a later schema
            id(document),  # the plan keeps the document alive, and with it this id
            self.operation.name.value if self.operation.name else None,
            tuple(coerced.get(name) for name in conditions),
        )
        plan = PLANS.get(key)
        if plan is None:
            root_type = self.schema.get_root_type(self.operation.operation)
            if root_type is None:
                kind = self.operation.operation.value
                msg = f"Schema is not configured to execute {kind} operation."
                raise GraphQLError(msg, self.operation)
            collected = collect_fields(
                self.schema,
                self.fragments,
                self.variable_values,
                root_type,
                self.operation,
                self.hide_suggestions,
            )
            plan = Plan(document, self._field_plans(root_type, collected.grouped_field_set))
            PLANS.put(key, plan)
        return plan

    def _document(self) -> DocumentNode:
        """The document the operation is part of (graphql-core keeps its fragments, not it)."""
        document = self._plan_document
        if document is None:
            raise GraphQLError("No document to plan.")
        return document

    @classmethod
    def build(cls, schema: Any, document: DocumentNode, *args: Any, **kwargs: Any) -> Any:
        built = super().build(schema, document, *args, **kwargs)
        if isinstance(built, PlanExecutor):
            built._plan_document = document
        return built

    def _field_plans(
        self, parent_type: GraphQLObjectType, grouped: dict[str, list[FieldDetails]]
    ) -> list[FieldPlan]:
        plans = []
        for name, details in grouped.items():
            field_def = self.schema.get_field(parent_type, details[0].node.name.value)
            if field_def is None:
                continue  # graphql-core leaves it out of the answer
            resolve = field_def.resolve or self.field_resolver
            plans.append(FieldPlan(name, parent_type, field_def, details, resolve))
        return plans

    def _subplan(self, field: FieldPlan, object_type: GraphQLObjectType) -> Subplan:
        found = field.subplans.get(object_type)
        if found is None:
            collected = collect_subfields(
                self.schema,
                self.fragments,
                self.variable_values,
                self.operation,
                object_type,
                field.details,
                self.hide_suggestions,
            )
            found = Subplan(
                self._field_plans(object_type, collected.grouped_field_set),
                object_type.is_type_of,
                _ignores_info(object_type),
            )
            field.subplans[object_type] = found
        return found

    def _info(self, field: FieldPlan, field_path: Path) -> GraphQLResolveInfo:
        return self.build_resolve_info(field.field_def, field.nodes, field.parent_type, field_path)

    # Execution: graphql-core's `execute_fields`, `execute_field`, `complete_value` and
    # `complete_iterable_value`, step for step, over the plan.

    def _execute_object(self, fields: list[FieldPlan], source: Any, path: Path | None) -> Any:
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for field in fields:
                mode = field.mode
                if mode == READ_LEAF:
                    try:
                        value = field.read(source, field.attribute)
                    except Exception as raw_error:
                        field_path = Path(path, field.name, field.parent_type.name)
                        self.handle_field_error(
                            raw_error, field.return_type, field.details, field_path
                        )
                        results[field.name] = None
                        continue
                    if value is not None:
                        if field.keeps_str and type(value) is str:
                            results[field.name] = value
                            continue
                        try:
                            coerced = field.coerce(value)  # type: ignore[misc]
                        except Exception:
                            coerced = None
                        if coerced is not None and coerced is not Undefined:
                            results[field.name] = coerced
                            continue
                    # A null, or a value its type refuses: graphql-core's completion, for its
                    # exact error (the value is not read again).
                    results[field.name] = self._complete_leaf_slowly(field, value, path)
                    continue
                if mode == TYPENAME:
                    results[field.name] = field.parent_type.name
                    continue
                result = self._execute_field(field, source, path)
                results[field.name] = result
                if is_awaitable(result):
                    awaitable_fields.append(field.name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[name] for name in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        return self._gather_fields(results, awaitable_fields)

    async def _gather_fields(self, results: dict[str, Any], awaitable_fields: list[str]) -> Any:
        if len(awaitable_fields) == 1:
            name = awaitable_fields[0]
            results[name] = await results[name]
        else:
            awaited = await gather_with_cancel(*(results[name] for name in awaitable_fields))
            results.update(zip(awaitable_fields, awaited, strict=True))
        return results

    def _complete_leaf_slowly(self, field: FieldPlan, value: Any, path: Path | None) -> Any:
        field_path = Path(path, field.name, field.parent_type.name)
        try:
            return self.complete_value(
                field.return_type,
                field.details,
                self._info(field, field_path),
                field_path,
                value,
                None,
            )
        except Exception as raw_error:
            self.handle_field_error(raw_error, field.return_type, field.details, field_path)
            return None

    def _execute_field(self, field: FieldPlan, source: Any, path: Path | None) -> Any:
        field_path = Path(path, field.name, field.parent_type.name)
        mode = field.mode
        info: Any = None
        if mode == CALL:
            info = self._info(field, field_path)
        elif mode == CALL_LAZY:
            info = LazyInfo(self, field, field_path)
        return_type = field.return_type
        try:
            if mode == READ:
                result = field.read(source, field.attribute)
            elif mode == CALL_BARE:
                result = field.resolve(source, None)
            elif mode == CALL_LAZY:
                result = field.resolve(source, info)
            else:
                first = field.details[0]
                args = (
                    get_argument_values(
                        field.field_def,
                        first.node,
                        self.variable_values,
                        first.fragment_variable_values,
                        self.hide_suggestions,
                    )
                    if field.args
                    else {}
                )
                result = field.resolve(source, info, **args)
            if self.is_awaitable(result):
                return self._complete_awaitable(field, return_type, field_path, info, result)
            object_type = field.object_type
            subplan = (
                field.subplans.get(object_type)
                if object_type is not None and result is not None
                else None
            )
            if (
                subplan is not None
                and subplan.ignores_info
                and subplan.is_type_of is not None
                and subplan.is_type_of(result, None) is True
            ):
                # An object its type's check accepts (an author that came along): executed at
                # once, as `_complete_object` would.
                completed = self._execute_object(subplan.fields, result, field_path)
            else:
                completed = self._complete(field, return_type, field_path, field_path, info, result)
            if self.is_awaitable(completed):
                return self._await_completed(field, completed, field_path)
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field.details, field_path)
            return None
        return completed

    async def _await_completed(self, field: FieldPlan, completed: Any, field_path: Path) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, field.return_type, field.details, field_path)
            return None

    async def _complete_awaitable(
        self,
        field: FieldPlan,
        return_type: GraphQLOutputType,
        field_path: Path,
        info: GraphQLResolveInfo | None,
        result: Awaitable[Any],
    ) -> Any:
        try:
            resolved = await result
            completed = self._complete(field, return_type, field_path, field_path, info, resolved)
            if self.is_awaitable(completed):
                completed = await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field.details, field_path)
            completed = None
        return completed

    def _complete(
        self,
        field: FieldPlan,
        return_type: GraphQLOutputType,
        path: Path,
        field_path: Path,
        info: GraphQLResolveInfo | None,
        result: Any,
    ) -> Any:
        if isinstance(result, Exception):
            raise result
        if isinstance(return_type, GraphQLNonNull):
            completed = self._complete(field, return_type.of_type, path, field_path, info, result)
            if completed is None:
                msg = (
                    "Cannot return null for non-nullable field"
                    f" {field.parent_type}.{field.field_name}."
                )
                raise TypeError(msg)
            return completed
        if result is None or result is Undefined:
            return None
        if isinstance(return_type, GraphQLList):
            if self.is_async_iterable(result) or not is_iterable(result):
                return self.complete_list_value(
                    return_type,
                    field.details,
                    info or self._info(field, field_path),
                    path,
                    result,
                    None,
                )
            return self._complete_list(field, return_type.of_type, path, field_path, info, result)
        if isinstance(return_type, GraphQLObjectType):
            return self._complete_object(field, return_type, path, field_path, info, result)
        if isinstance(return_type, GraphQLInterfaceType | GraphQLUnionType):
            info = info or self._info(field, field_path)
            resolve_type = return_type.resolve_type or self.type_resolver
            runtime_type = resolve_type(result, info, return_type)
            if self.is_awaitable(runtime_type):
                return self.complete_abstract_value(
                    return_type, field.details, info, path, result, None
                )
            object_type = self.ensure_valid_runtime_type(
                runtime_type, return_type, field.details, info, result
            )
            return self._complete_object(field, object_type, path, field_path, info, result)
        return self.complete_leaf_value(return_type, result)

    def _complete_object(
        self,
        field: FieldPlan,
        object_type: GraphQLObjectType,
        path: Path,
        field_path: Path,
        info: GraphQLResolveInfo | None,
        result: Any,
    ) -> Any:
        subplan = field.subplans.get(object_type) or self._subplan(field, object_type)
        check = subplan.is_type_of
        if check is not None:
            if subplan.ignores_info:
                fits = check(result, None)
            else:
                info = info or self._info(field, field_path)
                fits = check(result, info)
            if not fits or self.is_awaitable(fits):
                # graphql-core's own completion: its error, or an awaited check.
                return self.complete_object_value(
                    object_type,
                    field.details,
                    info or self._info(field, field_path),
                    path,
                    result,
                    None,
                )
        return self._execute_object(subplan.fields, result, path)

    def _complete_list(
        self,
        field: FieldPlan,
        item_type: GraphQLOutputType,
        path: Path,
        field_path: Path,
        info: GraphQLResolveInfo | None,
        items: Any,
    ) -> Any:
        is_awaitable = self.is_awaitable
        completed_results: list[Any] = []
        append = completed_results.append
        awaitable_indices: list[int] = []
        index = 0
        # Items of one object type (a page's nodes): its subplan found once for the list, and
        # each item its check accepts executed at once; anything else goes the whole way.
        object_type = _object_type_of(item_type)
        subplan: Subplan | None = None
        try:
            for item in items:
                item_path = path.add_key(index, None)
                if object_type is not None and item is not None:
                    if subplan is None:
                        subplan = field.subplans.get(object_type) or self._subplan(
                            field, object_type
                        )
                    check = subplan.is_type_of
                    if check is not None and subplan.ignores_info and check(item, None) is True:
                        try:
                            completed = self._execute_object(subplan.fields, item, item_path)
                            if is_awaitable(completed):
                                append(self._await_item(field, item_type, item_path, completed))
                                awaitable_indices.append(index)
                            else:
                                append(completed)
                        except Exception as raw_error:
                            self.handle_field_error(raw_error, item_type, field.details, item_path)
                            append(None)
                        index += 1
                        continue
                if is_awaitable(item):
                    append(
                        self._complete_awaitable_item(
                            field, item_type, item_path, field_path, info, item
                        )
                    )
                    awaitable_indices.append(index)
                else:
                    try:
                        completed = self._complete(
                            field, item_type, item_path, field_path, info, item
                        )
                        if is_awaitable(completed):
                            append(self._await_item(field, item_type, item_path, completed))
                            awaitable_indices.append(index)
                        else:
                            append(completed)
                    except Exception as raw_error:
                        self.handle_field_error(raw_error, item_type, field.details, item_path)
                        append(None)
                index += 1
        except Exception:
            if awaitable_indices:
                self.settle_in_background([completed_results[i] for i in awaitable_indices])
            raise
        if not awaitable_indices:
            return completed_results
        return self._gather_items(completed_results, awaitable_indices)

    async def _gather_items(self, completed_results: list[Any], indices: list[int]) -> Any:
        if len(indices) == 1:
            index = indices[0]
            completed_results[index] = await completed_results[index]
        else:
            awaited = await gather_with_cancel(*(completed_results[i] for i in indices))
            for index, value in zip(indices, awaited, strict=True):
                completed_results[index] = value
        return completed_results

    async def _await_item(
        self, field: FieldPlan, item_type: GraphQLOutputType, item_path: Path, completed: Any
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, item_type, field.details, item_path)
            return None

    async def _complete_awaitable_item(
        self,
        field: FieldPlan,
        item_type: GraphQLOutputType,
        item_path: Path,
        field_path: Path,
        info: GraphQLResolveInfo | None,
        item: Awaitable[Any],
    ) -> Any:
        try:
            resolved = await item
            completed = self._complete(field, item_type, item_path, field_path, info, resolved)
            if self.is_awaitable(completed):
                completed = await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, item_type, field.details, item_path)
            return None
        return completed
