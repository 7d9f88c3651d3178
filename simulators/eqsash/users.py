"""The `users` module: the current user, users by id or e-mail, and logging in."""

from __future__ import annotations

import secrets
import sqlite3
import time
from typing import Any

from .site import ApiError, Site, ids_of, one_id

__all__ = ["current", "get", "get_by_email", "get_many", "login", "user_id", "user_json"]

TOKEN_LIFETIME_S = 14 * 24 * 3600


def user_json(row: sqlite3.Row, viewer: sqlite3.Row | None) -> dict[str, Any]:
    found = {
        "id": row["id"],
        "login": row["login"],
        "name": row["name"],
        "roles": [row["role"]],
        "registered": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(row["registered"])),
    }
    if viewer is not None and (viewer["id"] == row["id"] or viewer["role"] == "administrator"):
        found["email"] = row["email"]
    return found


def current(site: Site, viewer: sqlite3.Row | None, data: dict[str, Any]) -> Any:
    assert viewer is not None
    return user_json(viewer, viewer)


def get(site: Site, viewer: sqlite3.Row | None, data: dict[str, Any]) -> Any:
    found = site.rows("SELECT * FROM users WHERE id = ?", (one_id(data),))
    if not found:
        raise ApiError(404, "not_found", "no such user")
    return user_json(found[0], viewer)


def get_many(site: Site, viewer: sqlite3.Row | None, data: dict[str, Any]) -> Any:
    ids = ids_of(data)
    found = site.rows(
        f"SELECT * FROM users WHERE id IN ({','.join('?' * len(ids)) or 'NULL'}) ORDER BY id",
        tuple(ids),
    )
    return [user_json(r, viewer) for r in found]


def get_by_email(site: Site, viewer: sqlite3.Row | None, data: dict[str, Any]) -> Any:
    emails = data.get("emails")
    if not isinstance(emails, list) or not all(isinstance(e, str) for e in emails):
        raise ApiError(400, "bad_data", "data.emails must be a list of e-mail addresses")
    wanted = [e.lower() for e in emails]
    found = site.rows(
        f"SELECT * FROM users WHERE lower(email) IN ({','.join('?' * len(wanted)) or 'NULL'}) ORDER BY id",
        tuple(wanted),
    )
    return [user_json(r, viewer) | {"email": r["email"]} for r in found]


def login(site: Site, viewer: sqlite3.Row | None, data: dict[str, Any]) -> Any:
    found = site.rows("SELECT * FROM users WHERE login = ?", (str(data.get("login", "")),))
    if not found or found[0]["password"] != data.get("password"):
        raise ApiError(401, "bad_credentials", "wrong login or password")
    token = secrets.token_hex(20)
    expires = int(time.time()) + TOKEN_LIFETIME_S
    with site.database.transaction() as db:
        db.execute(
            "INSERT INTO sessions VALUES (?,?,?,?)", (token, found[0]["id"], expires, "token")
        )
    return {"token": token, "user_id": found[0]["id"], "expires": expires}


def user_id(site: Site, viewer: sqlite3.Row | None, data: dict[str, Any]) -> Any:
    assert viewer is not None
    return viewer["id"]
