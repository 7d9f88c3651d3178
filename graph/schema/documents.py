"""Each distinct document is parsed and validated once.

Apps send the same few documents again and again. One extension does what Strawberry's
`MaxTokensLimiter`, `ParserCache`, `AddValidationRules` and `ValidationCache` do together
(parsing within a token limit, the gateway's own rules, both steps remembered), for the cost
of one extension's hooks per request instead of four.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
)
from graphql.language.parser import parse
from strawberry.extensions import SchemaExtension

from graph.internals import graphql_schema, validate_document

__all__ = [
    "PreparedDocuments",
    "check_operation_chosen",
    "fresh",
    "operation_type",
    "parse_cached",
    "validate_cached",
]

parse_cached = lru_cache(maxsize=256)(parse)


class Same:
    """A document as a cache key, by identity: graphql-core 3.3's nodes are frozen dataclasses,
    hashed field by field through the whole tree at every look-up (about 25,000 instructions
    for one small query), and `parse_cached` hands each request the same document anyway."""

    __slots__ = ("document",)

    def __init__(self, document: DocumentNode) -> None:
        self.document = document

    def __hash__(self) -> int:
        return id(self.document)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Same) and other.document is self.document


def validate_cached(
    schema: GraphQLSchema, document: DocumentNode, rules: tuple[type[ASTValidationRule], ...]
) -> tuple[GraphQLError, ...]:
    """A document's validation errors, shared by every request that sends it: never handed out
    as they are (`fresh`), since each request's errors get their codes in place.

    Module-level: the extension is made per request, the caches are shared. The cache is keyed
    by the rules too: the rule classes are made once per schema, so every request hits."""
    return _validated(schema, Same(document), rules)


@lru_cache(maxsize=256)
def _validated(
    schema: GraphQLSchema, document: Same, rules: tuple[type[ASTValidationRule], ...]
) -> tuple[GraphQLError, ...]:
    return tuple(validate_document(schema, document.document, rules))


validate_cached.cache_info = _validated.cache_info  # type: ignore[attr-defined]


def fresh(errors: Iterable[GraphQLError]) -> list[GraphQLError]:
    """A request's own copies of shared errors, which it may code and reword as it likes."""
    return [
        GraphQLError(
            error.message,
            error.nodes,
            error.source,
            error.positions,
            error.path,
            error.original_error,
            copy.deepcopy(error.extensions),
        )
        for error in errors
    ]


class PreparedDocuments(SchemaExtension):
    def __init__(self, *, max_tokens: int, rules: Sequence[type[ASTValidationRule]]) -> None:
        super().__init__()
        self.max_tokens = max_tokens
        self.rules = tuple(rules)
        self.requested_operation: str | None = None

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        # Before parsing, Strawberry's `operation_name` is the client's `operationName` alone;
        # after, it falls back to the document's first operation.
        self.requested_operation = context.operation_name
        context.parse_options["max_tokens"] = self.max_tokens
        context.validation_rules = (*context.validation_rules, *self.rules)
        yield

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        context.graphql_document = parse_cached(context.query, **context.parse_options)
        check_operation_chosen(context.graphql_document, self.requested_operation)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document: Any = context.graphql_document
        errors = validate_cached(
            graphql_schema(context.schema), document, tuple(context.validation_rules)
        )
        context.pre_execution_errors = fresh(errors) if errors else []
        yield


def check_operation_chosen(document: DocumentNode, name: str | None) -> None:
    """Refuse a request that does not say which of its operations to run (GraphQL spec,
    "GetOperation"), before anything runs: Strawberry would otherwise run the first one."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if not operations:
        raise GraphQLError("Must provide an operation.")
    if name is None:
        if len(operations) > 1:
            raise GraphQLError("Must provide operation name if query contains multiple operations.")
    elif not any(operation.name and operation.name.value == name for operation in operations):
        raise GraphQLError(f"Unknown operation named '{name}'.")


def operation_type(query: str | None, name: str | None, *, max_tokens: int) -> str | None:
    """`query`, `mutation` or `subscription`: what the request would run, read before it runs
    (the parse is the one execution reuses); None where it does not parse or choose one, which
    execution reports as the request error it is."""
    if not query:
        return None
    try:
        document = parse_cached(query, max_tokens=max_tokens)
        check_operation_chosen(document, name)
    except GraphQLError:
        return None
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
            name is None or (definition.name is not None and definition.name.value == name)
        ):
            return definition.operation.value
    return None
