"""Each distinct document is parsed and validated once.

Apps send the same few documents again and again. One extension does what Strawberry's
`MaxTokensLimiter`, `ParserCache`, `AddValidationRules` and `ValidationCache` do together
(parsing within a token limit, the gateway's own rules, both steps remembered), for the cost
of one extension's hooks per request instead of four.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

from graphql import ASTValidationRule
from graphql.language.parser import parse
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

__all__ = ["PreparedDocuments", "parse_cached", "validate_cached"]

parse_cached = lru_cache(maxsize=256)(parse)
validate_cached = lru_cache(maxsize=256)(validate_document)
"""Module-level: the extension is made per request, the caches are shared. The validation cache
is keyed by the rules too: the rule classes are made once per schema, so every request hits."""


class PreparedDocuments(SchemaExtension):
    def __init__(self, *, max_tokens: int, rules: Sequence[type[ASTValidationRule]]) -> None:
        super().__init__()
        self.max_tokens = max_tokens
        self.rules = tuple(rules)

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self.max_tokens
        context.validation_rules = (*context.validation_rules, *self.rules)
        yield

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        context.graphql_document = parse_cached(context.query, **context.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document: Any = context.graphql_document
        context.pre_execution_errors = validate_cached(
            context.schema._schema, document, context.validation_rules
        )
        yield
