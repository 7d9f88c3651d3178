"""Query limits, checked while the document is validated: before anything reaches a legacy server.

Depth counts nested fields; aliases count every aliased field as the query would run, so a
fragment spread ten times counts ten times. Each fragment is measured once (memoised), so a
document of nested fragments cannot make the measuring itself explode.
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
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.validation import ASTValidationRule

__all__ = ["query_limits"]


def query_limits(*, max_depth: int, max_aliases: int) -> type[ASTValidationRule]:
    """A validation rule refusing documents deeper or with more aliases than allowed."""

    class QueryLimits(ASTValidationRule):
        def enter_document(self, node: DocumentNode, *_: Any) -> None:
            fragments = {
                d.name.value: d for d in node.definitions if isinstance(d, FragmentDefinitionNode)
            }
            measure = _measurer(fragments)
            for definition in node.definitions:
                if not isinstance(definition, OperationDefinitionNode):
                    continue
                depth, aliases = measure(definition.selection_set)
                for limit, found, most in (
                    ("depth", depth, max_depth),
                    ("aliases", aliases, max_aliases),
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
    fragments: dict[str, FragmentDefinitionNode],
) -> Callable[[SelectionSetNode | None], tuple[int, int]]:
    visiting: set[str] = set()

    @cache
    def fragment(name: str) -> tuple[int, int]:
        if name in visiting or name not in fragments:  # a cycle is the validator's to report
            return 0, 0
        visiting.add(name)
        try:
            return selections(fragments[name].selection_set)
        finally:
            visiting.discard(name)

    def selections(selection_set: SelectionSetNode | None) -> tuple[int, int]:
        """(depth, aliases) of a selection set."""
        if selection_set is None:
            return 0, 0
        depth = aliases = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                below_depth, below_aliases = selections(selection.selection_set)
                depth = max(depth, 1 + below_depth)
                aliases += below_aliases + (1 if selection.alias else 0)
            else:
                if isinstance(selection, InlineFragmentNode):
                    below_depth, below_aliases = selections(selection.selection_set)
                else:
                    assert isinstance(selection, FragmentSpreadNode)
                    below_depth, below_aliases = fragment(selection.name.value)
                depth = max(depth, below_depth)
                aliases += below_aliases
        return depth, aliases

    return selections
