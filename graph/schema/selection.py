"""Look-ahead: which fields a query selects below the current one, so one upstream call can
include exactly the related resources the query will need."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

__all__ = ["asks_for", "node_paths"]

Selection = SelectedField | FragmentSpread | InlineFragment


def _paths(selections: Iterable[Selection], prefix: str) -> Iterator[str]:
    for selection in selections:
        if isinstance(selection, SelectedField):
            path = prefix + selection.name
            yield path
            yield from _paths(selection.selections, path + ".")
        else:  # a fragment spread or inline fragment: its fields count as ours
            yield from _paths(selection.selections, prefix)


def node_paths(selected_fields: Iterable[Selection], *, connection: bool) -> set[str]:
    """Dotted paths selected on the items of the current field (through `nodes` or `edges.node`
    if it is a connection), e.g. {"title", "author", "author.username"}."""
    found = set()
    for path in _paths(selected_fields, ""):
        _, _, below = path.partition(".")  # drop the field's own name
        if not connection:
            found.add(below)
        for prefix in ("nodes.", "edges.node.") if connection else ():
            if below.startswith(prefix):
                found.add(below[len(prefix) :])
    found.discard("")
    return found


def asks_for(selected_fields: Iterable[Selection], name: str) -> bool:
    """Whether the current field selects `name` directly below it (a connection's
    `totalCount`, say), so that what only it needs is fetched only then."""
    return any(path.partition(".")[2] == name for path in _paths(selected_fields, ""))
