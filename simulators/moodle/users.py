"""`core_user_get_users_by_field`, and a user as others see them."""

from __future__ import annotations

import sqlite3
from typing import Any

from .access import is_contact, shared_courses
from .errors import INVALID_PARAMETER, MoodleError
from .site import SITE_URL, Caller, Site
from .store import GUEST

__all__ = ["named", "picture", "user_json", "users_by_field"]


def picture(userid: int) -> dict[str, str]:
    base = f"{SITE_URL}/theme/image.php/boost/core/1/u"
    return {"profileimageurlsmall": f"{base}/f2?u={userid}", "profileimageurl": f"{base}/f1"}


def user_json(site: Site, caller: Caller, row: sqlite3.Row) -> dict[str, Any] | None:
    """A user as `core_user_get_users_by_field` shows them to the caller (fact 15), or None
    where the caller may not see them."""
    own, shared = row["id"] == caller.id, bool(shared_courses(site, caller, row["id"]))
    if not (caller.is_admin or own or shared):
        if not is_contact(site, row["id"]):
            return None
        return {
            "id": row["id"],
            "firstname": row["firstname"],
            "lastname": row["lastname"],
            "fullname": f"{row['firstname']} {row['lastname']}",
            "firstaccess": row["firstaccess"],
            "lastaccess": row["lastaccess"],
            "suspended": bool(row["suspended"]),
            "timezone": "99",
            **picture(row["id"]),
        }
    found = named(caller, row)
    if caller.is_admin or own:
        found |= {"department": "", "auth": "manual", "confirmed": True, "lang": "en"}
    found |= {
        "firstaccess": row["firstaccess"],
        "lastaccess": row["lastaccess"],
        "suspended": bool(row["suspended"]),
        "theme": "",
        "timezone": "99",
        "description": "",
        "descriptionformat": 1,
        **picture(row["id"]),
    }
    return found


def named(caller: Caller, row: sqlite3.Row) -> dict[str, Any]:
    """A user's id, names and e-mail; the username only for administrators and the user."""
    found: dict[str, Any] = {"id": row["id"]}
    if caller.is_admin or row["id"] == caller.id:
        found["username"] = row["username"]
    return found | {
        "firstname": row["firstname"],
        "lastname": row["lastname"],
        "fullname": f"{row['firstname']} {row['lastname']}",
        "email": row["email"],
    }


def users_by_field(site: Site, caller: Caller, p: dict[str, Any]) -> Any:
    column = {"id": "id", "username": "username", "email": "email", "idnumber": None}.get(
        p["field"], ""
    )
    if column == "":
        raise MoodleError(
            "core\\exception\\coding_exception",
            "codingerror",
            "Coding error detected, it must be fixed by a programmer: invalid field parameter",
            "debug",
        )
    if column == "id" and not all(str(v).isdigit() for v in p["values"]):
        raise INVALID_PARAMETER
    if column is None or not p["values"]:
        return []
    rows = site.store.all(
        f"SELECT * FROM users WHERE {column} IN ({','.join('?' * len(p['values']))})"
        " AND id != ? ORDER BY id",
        (*p["values"], GUEST),
    )
    found = []
    # Users the caller may not see are left out silently, and so are those whose searched
    # field the caller may not see (fact 15).
    for row in rows:
        shown = user_json(site, caller, row)
        if shown is not None and (column == "id" or column in shown):
            found.append(shown)
    return found
