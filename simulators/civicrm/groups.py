"""Groups: `Group.get`, `Group.create` (v3), `group/get`, `group/add` (v2)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .access import visible_groups
from .calls import Call
from .errors import ApiError, invalid_option, require
from .records import v3_values
from .site import Site, User

__all__ = [
    "VISIBILITIES",
    "add_v2",
    "create",
    "find_groups",
    "get",
    "get_v2",
    "group_record",
    "like",
]


VISIBILITIES = ("User and User Admin Only", "Public Pages")


def group_record(row: Any) -> dict[str, Any]:
    values = {
        "id": row["id"],
        "name": row["name"],
        "title": row["title"],
        "description": row["description"],
        "is_active": row["is_active"],
        "visibility": row["visibility"],
        "is_hidden": 0,
    }
    record: dict[str, Any] = {k: "" if v is None else str(v) for k, v in values.items()}
    if row["group_type"]:  # fact 14: a list of option values, absent when none
        record["group_type"] = row["group_type"].split(",")
    return record


def find_groups(site: Site, user: User, filters: Mapping[str, Any]) -> list[dict[str, Any]]:
    allowed = visible_groups(site, user)
    rows = site.store.all("SELECT * FROM groups ORDER BY id")
    ids = filters.get("id")
    wanted = (
        None
        if ids is None
        else {int(i) for i in (ids.get("IN", []) if isinstance(ids, dict) else [ids])}
    )
    title = filters.get("title")
    return [
        group_record(r)
        for r in rows
        if r["id"] in allowed
        and (wanted is None or r["id"] in wanted)
        and (
            title is None
            or (isinstance(title, dict) and like(str(title.get("LIKE", "")), r["title"]))
            or title == r["title"]
        )
    ]


def like(pattern: str, text: str) -> bool:
    """SQL's LIKE (case-insensitive, as MySQL's default collation), backslash escaping."""
    parts = re.findall(r"\\.|%|_|[^\\%_]+", pattern)
    regex = "".join(
        ".*" if p == "%" else "." if p == "_" else re.escape(p[-1] if p.startswith("\\") else p)
        for p in parts
    )
    return re.fullmatch(regex, text, re.IGNORECASE | re.DOTALL) is not None


def get(site: Site, user: User, call: Call) -> Any:
    """`Group.get`."""
    params, limit, offset, sequential = call.params, call.limit, call.offset, call.sequential
    return v3_values(
        find_groups(site, user, params)[offset : offset + limit if limit else None],
        sequential,
        "id",
    )


def create(site: Site, user: User, call: Call) -> Any:
    """`Group.create`."""
    params, sequential = call.params, call.sequential
    require(user, user.edit_all, "Group", "create", "edit groups")
    if not params.get("title"):
        raise ApiError(
            "Mandatory key(s) missing from params array: title",
            "mandatory_missing",
            "title",
        )
    visibility = str(params.get("visibility") or VISIBILITIES[0])
    if visibility not in VISIBILITIES:  # issue27.jsonl 285
        raise invalid_option(visibility, "visibility")
    if site.store.one("SELECT 1 FROM groups WHERE title = ?", (str(params["title"]),)):
        raise ApiError("DB Error: already exists", "-5")
    types = params.get("group_type")
    group_id = site.store.create_group(
        str(params["title"]),
        str(params.get("description", "")),
        visibility=visibility,
        **({} if types is None else {"group_type": ",".join(map(str, types))}),
    )
    return v3_values(find_groups(site, User(0, True, True), {"id": group_id}), sequential, "id")


def get_v2(site: Site, user: User, params: dict[str, Any]) -> Any:
    """`group/get`."""
    return find_groups(site, user, params)


def add_v2(site: Site, user: User, params: dict[str, Any]) -> Any:
    """`group/add`."""
    require(user, user.edit_all, "Group", "create", "edit groups")
    if not params.get("title"):
        raise ApiError("Required parameter missing: title", None, "title")
    return {
        "is_error": 0,
        "result": site.store.create_group(str(params["title"]), str(params.get("description", ""))),
    }
