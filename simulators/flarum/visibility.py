"""Who may see which discussions (facts 12, 13)."""

from __future__ import annotations

import sqlite3
from typing import Any

from .auth import Actor
from .errors import ApiError
from .store import FlarumStore

__all__ = ["visibility", "visible_discussion"]


def visibility(actor: Actor) -> tuple[str, list[Any]]:
    """SQL visibility of discussions `d` (facts 12, 13): hidden ones to their author and
    moderators, unapproved ones to their author, restricted tags' to administrators."""
    if actor.is_admin:
        return "1", []
    restricted = (
        "NOT EXISTS (SELECT 1 FROM discussion_tag rt JOIN tags t ON t.id = rt.tag_id"
        " WHERE rt.discussion_id = d.id AND t.is_restricted = 1)"
    )
    hidden = "(d.is_hidden = 0 OR d.user_id = ? OR ?)"
    private = "(d.is_private = 0 OR d.user_id = ?)"
    me = actor.id or -1
    return f"{restricted} AND {hidden} AND {private}", [me, int(actor.moderates), me]


def visible_discussion(store: FlarumStore, actor: Actor, discussion_id: Any) -> sqlite3.Row:
    visible, params = visibility(actor)
    row = store.one(
        f"SELECT * FROM discussions d WHERE d.id = ? AND {visible}", [discussion_id, *params]
    )
    if row is None:
        raise ApiError(404, "not_found")
    return row
