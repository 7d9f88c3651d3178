"""`site.river`: the activity river, without the closed groups the viewer is not in."""

from __future__ import annotations

import sqlite3
from typing import Any

from .groups import is_member
from .site import Site

__all__ = ["river"]


def river(site: Site, viewer: sqlite3.Row | None, p: dict[str, str]) -> Any:
    where, args = "1", []
    if p.get("group_guid"):
        where, args = "r.group_guid = ?", [int(p["group_guid"])]
    found = site.rows(
        f"SELECT r.*, u.username, u.name, g.open, g.name AS group_name FROM river r JOIN users u ON u.guid = r.subject_guid"
        f" LEFT JOIN groups g ON g.guid = r.group_guid WHERE {where} ORDER BY r.posted DESC, r.id DESC",
        tuple(args),
    )
    visible = [
        r
        for r in found
        if r["group_guid"] is None or r["open"] or is_member(site, r["group_guid"], viewer)
    ]
    window = visible[int(p.get("offset", 0)) : int(p.get("offset", 0)) + int(p.get("limit", 10))]
    summaries = {
        "join": "{name} joined the group {group}",
        "create": "{name} started the discussion {title} in {group}",
    }
    return [
        {
            "id": r["id"],
            "action_type": r["action_type"],
            "subject_guid": r["subject_guid"],
            "subject_username": r["username"],
            "object_guid": r["group_guid"],
            "object_title": r["object_title"] or r["group_name"],
            "subject_name": r["name"],
            "summary": summaries.get(r["action_type"], "{name}").format(
                name=r["name"], group=r["group_name"], title=r["object_title"]
            ),
            "posted": r["posted"],
        }
        for r in window
    ]
