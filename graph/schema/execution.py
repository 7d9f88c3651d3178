"""graphql-core's executor with one shortcut, for the fields that only read an attribute.

Most fields of a page are plain values of the objects above them (a title, an id, a name): in a
list of 100 discussions with their authors, 400 of 500 fields. graphql-core gives each the whole
treatment (a `Path`, a `GraphQLResolveInfo`, Strawberry's resolver wrapper, `complete_value`),
which is most of the gateway's own time for such a page. Here a field that Strawberry resolves
by reading an attribute (no resolver, no extensions), that takes no arguments and whose type is a
scalar or an enum is read and serialized inline. Anything the shortcut cannot take as it is (a
null, a value its scalar does not serialize, any exception) goes the usual way, which produces
the same value or the same error it always did; so does every other field.

Its `build` also marks what graphql-core refuses before executing (variables that do not fit
their types, no operation to run) as the client's mistake, never the gateway's.

Both shortcuts stand aside for what Strawberry does in its wrapper: a field with an
`exception_handlers` handler that may apply to it (`Schema(exception_handlers=...)`: fields that
return a union) keeps Strawberry's resolver, and Strawberry marks no such field as an attribute
read. `execute_fields` is graphql-core 3.3's own, with the inline read added;
`tests/graph/test_internals.py` fails when graphql-core's changes.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Hashable
from typing import Any

import strawberry
from graphql import (
    GraphQLBoolean,
    GraphQLError,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLString,
    GraphQLUnionType,
    Undefined,
    VariableDefinitionNode,
    is_leaf_type,
)
from graphql.pyutils import Path, gather_with_cancel
from strawberry.schema.name_converter import NameConverter
from strawberry.types.base import StrawberryMaybe, StrawberryOptional
from strawberry.types.field import StrawberryField
from strawberry.types.info import Info

from graph.internals import StrawberryExecutionContext, graphql_schema, info_of, reads_attribute

__all__ = ["GatewayExecutor", "attribute_reader", "use_lean_resolvers"]

Reader = tuple[str, Any]
"""The attribute a field reads, and its scalar's `serialize`."""

_NOT_READABLE: Reader = ("", None)
READERS = "legacygraph-readers"
"""Where each object type keeps its fields' readers: in its own `extensions`, so they live and
go with the schema that made them."""


def attribute_reader(parent_type: GraphQLObjectType, field_name: str) -> Reader:
    """How to read `parent_type.field_name` inline, or `_NOT_READABLE` when it needs the full
    path: a resolver of its own, arguments, an extension, or an object or list type. Decided once
    per field (schemas are built at start-up)."""
    readers: dict[str, Reader] = parent_type.extensions.setdefault(READERS, {})
    found = readers.get(field_name)
    if found is not None:
        return found
    field: GraphQLField | None = parent_type.fields.get(field_name)
    reader: Reader = _NOT_READABLE
    if field is not None and not field.args and reads_attribute(field):
        definition = field.extensions.get("strawberry-definition")
        named = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
        if definition is not None and definition.is_basic_field and is_leaf_type(named):
            reader = (definition.python_name, named.serialize)
    readers[field_name] = reader
    return reader


def use_lean_resolvers(schema: strawberry.Schema) -> int:
    """Call the resolvers that take only their object (and `info`) directly.

    Strawberry wraps every resolver for what it may need: arguments to convert, field
    extensions, permission classes, exception handlers. A resolver with none of those
    (`Discussion.author`, `Connection.nodes`, ...) gets its object and an `Info` and nothing
    else, so here it is called with just that, without the wrapper's per-call work; so is one
    whose arguments are all plain scalars (`node(id:)`, `discussions(first:, after:)`), which
    the wrapper would hand over unconverted. The others keep Strawberry's wrapper. Returns how
    many resolvers were replaced (done once, when the schema is built).
    """
    info_class = schema.config.info_class
    names = schema.config.name_converter
    handles_exceptions = bool(schema.exception_handlers)
    replaced = 0
    for named in graphql_schema(schema).type_map.values():
        if isinstance(named, GraphQLObjectType) and not named.name.startswith("__"):
            for field in named.fields.values():
                if handles_exceptions and _returns_union(field):
                    continue  # a handler may turn its exception into a member of the union
                lean = _lean_resolver(field, info_class, names)
                if lean is not None:
                    field.resolve = lean
                    replaced += 1
    return replaced


def _returns_union(field: GraphQLField) -> bool:
    named = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    return isinstance(named, GraphQLUnionType)


def _lean_resolver(
    field: GraphQLField, info_class: type[Info[Any, Any]], names: NameConverter
) -> Callable[..., Any] | None:
    definition = field.extensions.get("strawberry-definition")
    if not isinstance(definition, StrawberryField) or definition.base_resolver is None:
        return None
    if definition.extensions:
        return None
    resolver = definition.base_resolver
    function = typing.cast(Callable[..., Any], resolver.wrapped_func)
    parameters = list(resolver.signature.parameters)
    if definition.arguments or field.args:
        return _lean_resolver_with_arguments(field, definition, info_class, names)
    if parameters in (["self"], ["root"]):
        return lambda source, _: function(source)
    if parameters in (["self", "info"], ["root", "info"]):
        return lambda source, info: function(source, info_of(info_class, info, definition))
    return None


PLAIN_ARGUMENTS: dict[object, GraphQLScalarType] = {
    str: GraphQLString,
    int: GraphQLInt,
    float: GraphQLFloat,
    bool: GraphQLBoolean,
    strawberry.ID: GraphQLID,
}
"""The argument types Strawberry hands a resolver as graphql-core coerced them (its
`convert_argument` returns a leaf value as it is), with the scalar each is in the schema."""


def _lean_resolver_with_arguments(
    field: GraphQLField,
    definition: StrawberryField,
    info_class: type[Info[Any, Any]],
    names: NameConverter,
) -> Callable[..., Any] | None:
    """A resolver `(self, [info,] <arguments>)` whose arguments are all plain scalars (String,
    Int, Float, Boolean, ID, nullable or not): called with its object, Strawberry's `Info` and
    the arguments by their Python names, as Strawberry's wrapper calls it (after converting
    arguments that need no converting). Any other kind of argument keeps the wrapper."""
    resolver = definition.base_resolver
    if resolver is None:
        return None
    python_names: dict[str, str] = {}
    for argument in definition.arguments:
        kind = argument.type
        if isinstance(kind, StrawberryOptional) and not isinstance(kind, StrawberryMaybe):
            kind = kind.of_type
        scalar = PLAIN_ARGUMENTS.get(kind) if isinstance(kind, Hashable) else None
        name = names.from_argument(argument)
        in_schema = field.args.get(name)
        if scalar is None or in_schema is None or argument.python_name is None:
            return None
        declared = in_schema.type
        if isinstance(declared, GraphQLNonNull):
            declared = declared.of_type
        if declared is not scalar:
            return None
        python_names[name] = argument.python_name
    if set(python_names) != set(field.args):
        return None
    parameters = list(resolver.signature.parameters)
    if parameters[:1] not in (["self"], ["root"]):
        return None
    takes_info = parameters[1:2] == ["info"]
    if sorted(parameters[2 if takes_info else 1 :]) != sorted(python_names.values()):
        return None
    function = typing.cast(Callable[..., Any], resolver.wrapped_func)

    def lean(source: Any, info: Any, **arguments: Any) -> Any:
        given = {python_names[name]: value for name, value in arguments.items()}
        if takes_info:
            return function(source, info_of(info_class, info, definition), **given)
        return function(source, **given)

    return lean


class GatewayExecutor(StrawberryExecutionContext):
    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        """graphql-core's `build`, whose errors (no operation to run, variables that do not fit
        their types) are the client's: each gets `BAD_USER_INPUT` and the variable it names."""
        built = super().build(*args, **kwargs)
        if isinstance(built, list):
            for error in built:
                _mark_as_request_error(error)
        return built

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        """`Executor.execute_fields` (graphql-core 3.3), with plain attributes read inline."""
        middleware = self.middleware_manager
        if middleware is not None and middleware.middlewares:  # an extension sees every field
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, field_details_list in grouped_field_set.items():
                node = field_details_list[0].node
                attribute, serialize = attribute_reader(parent_type, node.name.value)
                if serialize is not None and not node.arguments:
                    try:
                        value = serialize(getattr(source_value, attribute))
                    except Exception:
                        value = None
                    if value is not None and value is not Undefined:
                        results[response_name] = value
                        continue
                result = self.execute_field(
                    parent_type,
                    source_value,
                    field_details_list,
                    Path(path, response_name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        return self._gathered(results, awaitable_fields)

    async def _gathered(self, results: dict[str, Any], awaitable_fields: list[str]) -> Any:
        if len(awaitable_fields) == 1:
            field = awaitable_fields[0]
            results[field] = await results[field]
            return results
        awaited = await gather_with_cancel(*(results[field] for field in awaitable_fields))
        results.update(zip(awaitable_fields, awaited, strict=True))
        return results


def _mark_as_request_error(error: GraphQLError) -> None:
    extensions: dict[str, Any] = {"code": "BAD_USER_INPUT"}
    for node in error.nodes or ():
        if isinstance(node, VariableDefinitionNode):
            extensions["variable"] = node.variable.name.value
    error.extensions = {**extensions, **(error.extensions or {})}
