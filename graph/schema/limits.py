"""Query limits, checked while the document is validated: before anything reaches a legacy server.

Depth counts nested fields; aliases count every aliased field as the query would run, so a
fragment spread ten times counts ten times; fields count every field the same way. Cost
estimates the work: each field with fields below it (an object, a list, a connection: what may
need an upstream call) costs 1, and what is below a field taking `first` counts `first` times
(the page cap when `first` is a variable, the default page size for a connection without
`first`).
Each fragment is measured once (memoised), so a document of nested fragments cannot make the
measuring itself explode.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.validation import ASTValidationRule

__all__ = ["query_limits"]

Measure = tuple[int, int, int, int]
"""(depth, aliases, fields, cost)"""


def query_limits(
    *,
    max_depth: int,
    max_aliases: int,
    max_fields: int,
    max_cost: int,
    page_size: int,
    default_page_size: int,
) -> type[ASTValidationRule]:
    """A validation rule refusing documents deeper, with more aliases or fields, or costlier
    than allowed.
    `page_size` is the most a `first` given by a variable can be (the page cap), and
    `default_page_size` what a connection (a field selecting `nodes` or `edges`) without
    `first` returns."""

    class QueryLimits(ASTValidationRule):
        def enter_document(self, node: DocumentNode, *_: Any) -> None:
            fragments = {
                d.name.value: d for d in node.definitions if isinstance(d, FragmentDefinitionNode)
            }
            measure = _measurer(fragments, page_size, default_page_size)
            for definition in node.definitions:
                if not isinstance(definition, OperationDefinitionNode):
                    continue
                depth, aliases, fields, cost = measure(definition.selection_set)
                for limit, found, most in (
                    ("depth", depth, max_depth),
                    ("aliases", aliases, max_aliases),
                    ("fields", fields, max_fields),
                    ("cost", cost, max_cost),
                ):
                    if found > most:
                        self.report_error(
                            GraphQLError(
                                f"The query is too complex: {limit} {found}, at most {most}",
                                definition,
                                extensions={
                                    "code": "QUERY_TOO_COMPLEX",
                                    "limit": limit,
                                    "found": found,
                                    "max": most,
                                },
                            )
                        )

    return QueryLimits


def _measurer(
    fragments: dict[str, FragmentDefinitionNode], page_size: int, default_page_size: int
) -> Callable[[SelectionSetNode | None], Measure]:
    visiting: set[str] = set()

    @cache
    def fragment(name: str) -> Measure:
        if name in visiting or name not in fragments:  # a cycle is the validator's to report
            return 0, 0, 0, 0
        visiting.add(name)
        try:
            return selections(fragments[name].selection_set)
        finally:
            visiting.discard(name)

    def times(field: FieldNode) -> int:
        """How many times what is below `field` runs: its `first`, if it takes one."""
        for argument in field.arguments or ():
            if argument.name.value == "first":
                if isinstance(argument.value, IntValueNode):
                    return max(0, min(int(argument.value.value), page_size))
                return page_size
        below = field.selection_set.selections if field.selection_set else ()
        if any(isinstance(s, FieldNode) and s.name.value in ("nodes", "edges") for s in below):
            return default_page_size
        return 1

    def selections(selection_set: SelectionSetNode | None) -> Measure:
        """(depth, aliases, fields, cost) of a selection set."""
        if selection_set is None:
            return 0, 0, 0, 0
        depth = aliases = fields = cost = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                below = selections(selection.selection_set)
                depth = max(depth, 1 + below[0])
                aliases += below[1] + (1 if selection.alias else 0)
                fields += 1 + below[2]
                if selection.selection_set is not None:
                    cost += 1 + times(selection) * below[3]
                continue
            if isinstance(selection, InlineFragmentNode):
                below = selections(selection.selection_set)
            else:
                assert isinstance(selection, FragmentSpreadNode)
                below = fragment(selection.name.value)
            depth = max(depth, below[0])
            aliases += below[1]
            fields += below[2]
            cost += below[3]
        return depth, aliases, fields, cost

    return selections
