"""The `group.*` methods of this project's own method set, and `user.get_groups` (a page of one
user's groups)."""

from __future__ import annotations

import sqlite3
from typing import Any

from .site import ApiError, Site
from .users import profile_of, user_json

__all__ = [
    "get_group",
    "get_members",
    "group_json",
    "group_row",
    "is_member",
    "join",
    "list_groups",
    "user_groups",
]


def group_json(site: Site, row: sqlite3.Row) -> dict[str, Any]:
    count = site.one("SELECT COUNT(*) FROM members WHERE group_guid = ?", (row["guid"],))
    return {
        "guid": row["guid"],
        "name": row["name"],
        "description": row["description"],
        "membership": "open" if row["open"] else "closed",
        "members_count": count[0] if count else 0,
        "owner_guid": row["owner_guid"],
        "time_created": row["time_created"],
    }


def is_member(site: Site, group: int, viewer: sqlite3.Row | None) -> bool:
    return viewer is not None and (
        bool(viewer["admin"])
        or site.one(
            "SELECT 1 FROM members WHERE group_guid = ? AND user_guid = ?",
            (group, viewer["guid"]),
        )
        is not None
    )


def group_row(site: Site, guid: str) -> sqlite3.Row:
    row = site.one("SELECT * FROM groups WHERE guid = ?", (int(guid),))
    if row is None:
        raise ApiError(f"Group {guid} not found")
    return row


def user_groups(site: Site, viewer: sqlite3.Row | None, p: dict[str, str]) -> Any:
    """A page of a user's groups: 10 unless `limit` says, as Elgg's web services answer."""
    user = profile_of(site, viewer, p.get("username", ""))
    found = site.rows(
        "SELECT g.* FROM groups g JOIN members m ON m.group_guid = g.guid WHERE m.user_guid = ? ORDER BY g.guid",
        (user["guid"],),
    )
    # Someone else's closed groups stay hidden unless the viewer is in them too.
    shown = [group_json(site, g) for g in found if g["open"] or is_member(site, g["guid"], viewer)]
    offset = int(p.get("offset", 0))
    return shown[offset : offset + int(p.get("limit", 10))]


def list_groups(site: Site, viewer: sqlite3.Row | None, p: dict[str, str]) -> Any:
    found = site.rows(
        "SELECT * FROM groups ORDER BY guid LIMIT ? OFFSET ?",
        (int(p.get("limit", 10)), int(p.get("offset", 0))),
    )
    return [group_json(site, g) for g in found]


def get_group(site: Site, viewer: sqlite3.Row | None, p: dict[str, str]) -> Any:
    return group_json(site, group_row(site, p["guid"]))


def get_members(site: Site, viewer: sqlite3.Row | None, p: dict[str, str]) -> Any:
    group = group_row(site, p["guid"])
    if not group["open"] and not is_member(site, group["guid"], viewer):
        raise ApiError("The members of this group are visible to its members only.")
    found = site.rows(
        "SELECT u.* FROM users u JOIN members m ON m.user_guid = u.guid WHERE m.group_guid = ? ORDER BY u.guid LIMIT ? OFFSET ?",
        (group["guid"], int(p.get("limit", 10)), int(p.get("offset", 0))),
    )
    return [user_json(u, viewer) for u in found]


def join(site: Site, viewer: sqlite3.Row | None, p: dict[str, str]) -> Any:
    assert viewer is not None
    group = group_row(site, p["guid"])
    if not group["open"] and not viewer["admin"]:
        raise ApiError("This is a closed group. You need an invitation to join.")
    with site.database.transaction() as db:
        db.execute("INSERT OR IGNORE INTO members VALUES (?,?)", (group["guid"], viewer["guid"]))
        db.execute(
            "INSERT INTO river (subject_guid, action_type, group_guid, object_title, posted) VALUES (?,?,?,?,?)",
            (viewer["guid"], "join", group["guid"], "", int(site.clock())),
        )
    return {"success": True}
