"""Look-ahead: which fields a query selects below the current one, so one upstream call can
include exactly the related resources the query will need."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from strawberry.types.nodes import SelectedField

__all__ = ["node_paths"]


def _paths(selections: Iterable[Any], prefix: str) -> Iterator[str]:
    for selection in selections:
        if isinstance(selection, SelectedField):
            path = prefix + selection.name
            yield path
            yield from _paths(selection.selections, path + ".")
        else:  # a fragment spread or inline fragment: its fields count as ours
            yield from _paths(selection.selections, prefix)


def node_paths(selected_fields: Iterable[SelectedField], *, connection: bool) -> set[str]:
    """Dotted paths selected on the items of a field (through `nodes`/`edges.node` if a
    connection), e.g. {"title", "author", "author.username"}."""
    paths = set()
    for field in selected_fields:
        for path in _paths(field.selections, ""):
            if not connection:
                paths.add(path)
            elif path.startswith("nodes."):
                paths.add(path[len("nodes.") :])
            elif path.startswith("edges.node."):
                paths.add(path[len("edges.node.") :])
    return paths
