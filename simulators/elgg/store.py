"""The site's tables, seeded from the shared world."""

from __future__ import annotations

import sqlite3

from ..database import Database
from ..world import DEMO_PASSWORD, World

__all__ = ["SCHEMA", "open_database", "user_guid"]

SCHEMA = """
CREATE TABLE users (guid INTEGER PRIMARY KEY, username TEXT UNIQUE, name TEXT, email TEXT,
    location TEXT, password TEXT, admin INTEGER);
CREATE TABLE groups (guid INTEGER PRIMARY KEY, name TEXT, description TEXT, open INTEGER,
    owner_guid INTEGER, time_created INTEGER);
CREATE TABLE members (group_guid INTEGER, user_guid INTEGER, PRIMARY KEY (group_guid, user_guid));
CREATE TABLE river (id INTEGER PRIMARY KEY, subject_guid INTEGER, action_type TEXT,
    group_guid INTEGER, object_title TEXT, posted INTEGER);
CREATE TABLE tokens (token TEXT PRIMARY KEY, user_guid INTEGER, expires INTEGER);
"""


def user_guid(person_id: int) -> int:
    """Elgg's guids are shared by every entity; the world's people are users 100 + id."""
    return 100 + person_id


def open_database(world: World, path: str) -> Database:
    def seed(db: sqlite3.Connection) -> None:
        db.executemany(
            "INSERT INTO users VALUES (?,?,?,?,?,?,?)",
            [
                (
                    user_guid(p.id),
                    p.username,
                    p.display_name,
                    p.email,
                    ("Leeds", "Bristol", "York")[p.id % 3],
                    DEMO_PASSWORD,
                    int(p.is_admin),
                )
                for p in world.people
                if p.has_account("elgg")
            ],
        )
        db.executemany(
            "INSERT INTO groups VALUES (?,?,?,?,?,?)",
            [
                (
                    g.guid,
                    g.name,
                    g.description,
                    int(g.is_open),
                    user_guid(g.owner_id),
                    int(g.created_at.timestamp()),
                )
                for g in world.social_groups
            ],
        )
        db.executemany(
            "INSERT INTO members VALUES (?,?)", [(g, user_guid(p)) for g, p in world.social_members]
        )
        db.executemany(
            "INSERT INTO river VALUES (?,?,?,?,?,?)",
            [
                (
                    a.id,
                    user_guid(a.person_id),
                    a.action,
                    a.group_guid,
                    a.object_title,
                    int(a.created_at.timestamp()),
                )
                for a in world.activities
            ],
        )

    return Database(path, SCHEMA, seed)
