"""The methods of the "Web Services REST API" plugin (the manlui/elgg_with_rest_api repository,
lib/group.php and lib/user.php): its method names, parameters and answers."""

from __future__ import annotations

import sqlite3
from typing import Any

from .groups import group_row, is_member, join
from .site import ApiError, Site
from .users import profile_of

__all__ = ["by_email", "group_activity", "group_list", "join_group", "profile"]


def caller_named(site: Site, viewer: sqlite3.Row | None, p: dict[str, str]) -> sqlite3.Row:
    """Its group methods insist on a `username`, then act as the logged-in user."""
    if not p.get("username"):
        raise ApiError("registration:usernamenotvalid")
    named = site.one("SELECT * FROM users WHERE username = ?", (p["username"],))
    if named is None:
        raise ApiError("registration:usernamenotvalid")
    assert viewer is not None
    return named


def time_ago(site: Site, seconds: int) -> str:
    days = max(int((site.clock() - seconds) // 86400), 0)
    return f"{days} days ago" if days else "just now"


def profile(site: Site, viewer: sqlite3.Row | None, p: dict[str, str]) -> Any:
    user = profile_of(site, viewer, p.get("username", ""))
    fields = {"location": {"label": "Location", "type": "location", "value": user["location"]}}
    return {
        "core": {"name": user["name"], "username": user["username"]},
        "profile_fields": fields if user["location"] else [],
        "avatar_url": f"https://elgg.invalid/avatar/view/{user['username']}/medium",
    }


def by_email(site: Site, viewer: sqlite3.Row | None, p: dict[str, str]) -> Any:
    found = site.rows(
        "SELECT * FROM users WHERE lower(email) = lower(?) ORDER BY guid", (p["email"],)
    )
    if not found:
        raise ApiError("registration:emailnotvalid")
    return {str(i): u["username"] for i, u in enumerate(found)}


def group_json(site: Site, row: sqlite3.Row, user: sqlite3.Row) -> dict[str, Any]:
    count = site.one("SELECT COUNT(*) FROM members WHERE group_guid = ?", (row["guid"],))
    owner = site.one("SELECT * FROM users WHERE guid = ?", (row["owner_guid"],))
    return {
        "guid": row["guid"],
        "title": row["name"],
        "time_create": time_ago(site, row["time_created"]),
        "description": row["description"] or "",
        "access_id": 2,
        "members": count[0] if count else 0,
        "is_member": is_member(site, row["guid"], user),
        "permission_public": bool(row["open"]),
        "content_access_mode": "unrestricted",
        "icon": f"https://elgg.invalid/groups/icon/{row['guid']}/medium",
        "tags": "",
        "owner": {
            "guid": row["owner_guid"],
            "name": owner["name"] if owner else "",
            "username": owner["username"] if owner else "",
            "avatar_url": "",
        },
    }


def group_list(site: Site, viewer: sqlite3.Row | None, p: dict[str, str]) -> Any:
    user = caller_named(site, viewer, p)
    assert viewer is not None
    limit, offset = int(p.get("limit", 20)), int(p.get("offset", 0))
    if p.get("context") == "member":  # the logged-in user's, whatever `username` says
        found = site.rows(
            "SELECT g.* FROM groups g JOIN members m ON m.group_guid = g.guid"
            " WHERE m.user_guid = ? ORDER BY g.name LIMIT ? OFFSET ?",
            (viewer["guid"], limit, offset),
        )
    elif p.get("context") == "mine":
        found = site.rows(
            "SELECT * FROM groups WHERE owner_guid = ? ORDER BY guid DESC LIMIT ? OFFSET ?",
            (viewer["guid"], limit, offset),
        )
    else:
        found = site.rows(
            "SELECT * FROM groups ORDER BY guid DESC LIMIT ? OFFSET ?", (limit, offset)
        )
    if not found:
        raise ApiError("No groups")  # elgg_echo('groups:none'), thrown
    return [group_json(site, g, user) for g in found]


def group_activity(site: Site, viewer: sqlite3.Row | None, p: dict[str, str]) -> Any:
    caller_named(site, viewer, p)
    group = site.one("SELECT * FROM groups WHERE guid = ?", (int(p["guid"]),))
    if group is None:
        return {"message": "grups:error:group_not_found"}
    limit, offset = int(p.get("limit", 20)), int(p.get("offset", 0))
    found = site.rows(
        "SELECT r.*, u.username, u.name FROM river r JOIN users u ON u.guid = r.subject_guid"
        " WHERE r.group_guid = ? ORDER BY r.posted DESC, r.id DESC LIMIT ? OFFSET ?",
        (group["guid"], limit, offset),
    )
    said = {"join": "joined the group {group}", "create": "started {title} in {group}"}
    return [
        {
            "id": r["id"],
            "time": time_ago(site, r["posted"]),
            "type": "group" if r["action_type"] == "join" else "object",
            "sub_type": "" if r["action_type"] == "join" else "discussion",
            "action_type": r["action_type"],
            "object_guid": r["group_guid"],
            "subject_guid": r["subject_guid"],
            "view": "river/relationship/member/create"
            if r["action_type"] == "join"
            else "river/object/discussion/create",
            "string": group["description"] or "",
            "txt": said.get(r["action_type"], "{title}").format(
                group=group["name"], title=r["object_title"]
            ),
            "name": r["name"],
            "username": r["username"],
            "avatar_url": "",
            "icon_url": "",
            "img_url": "",
            "like_count": 0,
            "like": False,
            "comment_count": 0,
            "batch_images": [],
        }
        for r in found
    ]


def join_group(site: Site, viewer: sqlite3.Row | None, p: dict[str, str]) -> Any:
    assert viewer is not None
    group = group_row(site, p["guid"])
    if not group["open"] and not viewer["admin"]:
        return {"member": "cantjoin", "message": "joinrequestmade"}
    join(site, viewer, p)
    return {"member": "joined", "message": "joined"}
