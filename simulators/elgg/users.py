"""The `user.*` methods of this project's own method set: profiles and users by e-mail."""

from __future__ import annotations

import sqlite3
from typing import Any

from .site import ApiError, Site

__all__ = ["by_email", "get_profile", "profile_of", "user_json"]


def user_json(row: sqlite3.Row, viewer: sqlite3.Row | None) -> dict[str, Any]:
    found = {
        "guid": row["guid"],
        "username": row["username"],
        "name": row["name"],
        "avatar_url": f"https://elgg.invalid/avatar/view/{row['username']}/medium",
        "location": row["location"],
    }
    if viewer is not None and (viewer["guid"] == row["guid"] or viewer["admin"]):
        found["email"] = row["email"]
    return found


def profile_of(site: Site, viewer: sqlite3.Row | None, username: str) -> sqlite3.Row:
    row = site.one("SELECT * FROM users WHERE username = ?", (username,)) if username else viewer
    if row is None:
        raise ApiError(f"User {username} not found")
    return row


def get_profile(site: Site, viewer: sqlite3.Row | None, p: dict[str, str]) -> Any:
    return user_json(profile_of(site, viewer, p.get("username", "")), viewer)


def by_email(site: Site, viewer: sqlite3.Row | None, p: dict[str, str]) -> Any:
    found = site.rows(
        "SELECT * FROM users WHERE lower(email) = lower(?) ORDER BY guid", (p["email"],)
    )
    return [user_json(u, viewer) for u in found]
