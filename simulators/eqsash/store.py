"""The site's tables, seeded from the shared world."""

from __future__ import annotations

import sqlite3

from ..database import Database
from ..world import DEMO_PASSWORD, World

__all__ = ["SCHEMA", "open_database"]

SCHEMA = """
CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT UNIQUE, name TEXT, email TEXT, role TEXT,
    password TEXT, registered INTEGER);
CREATE TABLE sections (id INTEGER PRIMARY KEY, name TEXT, slug TEXT);
CREATE TABLE articles (id INTEGER PRIMARY KEY, title TEXT, slug TEXT, summary TEXT, body TEXT,
    section_id INTEGER, author_id INTEGER, published INTEGER);
CREATE TABLE sessions (id TEXT PRIMARY KEY, user_id INTEGER, expires INTEGER, kind TEXT);
"""


def open_database(world: World, path: str) -> Database:
    def seed(db: sqlite3.Connection) -> None:
        db.executemany(
            "INSERT INTO users VALUES (?,?,?,?,?,?,?)",
            [
                (
                    p.id,
                    p.username,
                    p.display_name,
                    p.email,
                    "administrator" if p.is_admin else "editor" if p.id <= 6 else "member",
                    DEMO_PASSWORD,
                    int(p.joined_at.timestamp()),
                )
                for p in world.people
                if p.has_account("eqsash")
            ],
        )
        db.executemany(
            "INSERT INTO sections VALUES (?,?,?)", [(s.id, s.name, s.slug) for s in world.sections]
        )
        db.executemany(
            "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?)",
            [
                (
                    a.id,
                    a.title,
                    a.slug,
                    a.summary,
                    a.body,
                    a.section_id,
                    a.author_id,
                    int(a.published_at.timestamp()),
                )
                for a in world.articles
            ],
        )

    return Database(path, SCHEMA, seed)
