"""The Flarum simulator's state: SQLite tables shaped like Flarum's own, seeded from the world."""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from ..database import Database
from ..world import World

__all__ = ["PRIMARY_TAGS", "SERVICE_API_KEY", "SESSION_LIFETIME", "FlarumStore"]

PRIMARY_TAGS = 4
"""The tags at the first four positions are primary (a discussion has exactly one); the others
are secondary, as a forum sets them up in its tag settings."""

SERVICE_API_KEY = "sim-flarum-api-key"
"""A seeded API key with no user bound: it may act as any user named by `userId=`."""

SESSION_LIFETIME = timedelta(hours=1)
REMEMBER_LIFETIME = timedelta(days=5 * 365)

SCHEMA = """
CREATE TABLE users (
    id INTEGER PRIMARY KEY, username TEXT UNIQUE NOT NULL, email TEXT UNIQUE NOT NULL,
    display_name TEXT NOT NULL, password_hash TEXT NOT NULL, joined_at TEXT NOT NULL,
    is_admin INTEGER NOT NULL DEFAULT 0, can_search_users INTEGER NOT NULL DEFAULT 0,
    is_moderator INTEGER NOT NULL DEFAULT 0, is_email_confirmed INTEGER NOT NULL DEFAULT 1,
    post_without_throttle INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE access_tokens (
    token TEXT PRIMARY KEY, user_id INTEGER NOT NULL, type TEXT NOT NULL,
    last_activity_at TEXT NOT NULL
);
CREATE TABLE api_keys (key TEXT PRIMARY KEY, user_id INTEGER);
CREATE TABLE tags (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, slug TEXT UNIQUE NOT NULL, color TEXT,
    description TEXT, position INTEGER, is_restricted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE discussions (
    id INTEGER PRIMARY KEY, title TEXT NOT NULL, user_id INTEGER NOT NULL, created_at TEXT NOT NULL,
    is_sticky INTEGER NOT NULL DEFAULT 0, is_locked INTEGER NOT NULL DEFAULT 0,
    is_hidden INTEGER NOT NULL DEFAULT 0, is_private INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE discussion_tag (discussion_id INTEGER NOT NULL, tag_id INTEGER NOT NULL,
    PRIMARY KEY (discussion_id, tag_id));
CREATE TABLE posts (
    id INTEGER PRIMARY KEY, discussion_id INTEGER NOT NULL, number INTEGER NOT NULL,
    user_id INTEGER NOT NULL, content TEXT NOT NULL, created_at TEXT NOT NULL, edited_at TEXT,
    type TEXT NOT NULL DEFAULT 'comment',
    UNIQUE (discussion_id, number)
);
CREATE INDEX posts_by_discussion ON posts (discussion_id, number);
CREATE INDEX posts_by_user ON posts (user_id);
"""


def hash_password(password: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{password}".encode()).hexdigest()


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class FlarumStore(Database):
    """A Flarum database."""

    def __init__(
        self,
        world: World,
        path: str = ":memory:",
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.clock = clock
        super().__init__(path, SCHEMA, lambda db: self._seed(db, world))

    def _seed(self, db: sqlite3.Connection, world: World) -> None:
        db.executemany(
            "INSERT INTO users (id, username, email, display_name, password_hash, joined_at,"
            " is_admin, can_search_users) VALUES (?,?,?,?,?,?,?,?)",
            [
                (
                    p.id,
                    p.username,
                    p.email,
                    p.display_name,
                    hash_password("demo-password", p.username),
                    iso(p.joined_at),
                    int(p.is_admin),
                    int(p.is_admin),
                )
                for p in world.people
            ],
        )
        db.execute("INSERT INTO api_keys VALUES (?, NULL)", (SERVICE_API_KEY,))
        db.executemany(
            "INSERT INTO tags (id, name, slug, color, description, position) VALUES (?,?,?,?,?,?)",
            [
                (
                    t.id,
                    t.name,
                    t.slug,
                    t.color,
                    t.description,
                    t.position if i < PRIMARY_TAGS else None,
                )
                for i, t in enumerate(sorted(world.tags, key=lambda t: t.position))
            ],
        )
        db.executemany(
            "INSERT INTO discussions VALUES (?,?,?,?,?,?,?,?)",
            [
                (
                    d.id,
                    d.title,
                    d.author_id,
                    iso(d.created_at),
                    int(d.is_sticky),
                    int(d.is_locked),
                    int(d.is_hidden),
                    int(d.is_private),
                )
                for d in world.discussions
            ],
        )
        db.executemany(
            "INSERT INTO discussion_tag VALUES (?,?)",
            [(d.id, tag) for d in world.discussions for tag in d.tag_ids],
        )
        db.executemany(
            "INSERT INTO posts (id, discussion_id, number, user_id, content, created_at, edited_at)"
            " VALUES (?,?,?,?,?,?,?)",
            [
                (
                    p.id,
                    p.discussion_id,
                    p.number,
                    p.author_id,
                    p.content,
                    iso(p.created_at),
                    None,
                )
                for p in world.posts
            ],
        )
        # A sticky or locked discussion holds the event posts that made it so, by an admin.
        admin = next(p.id for p in world.people if p.is_admin)
        for d in world.discussions:
            for flag, kind, content in (
                (d.is_sticky, "discussionStickied", '{"sticky":true}'),
                (d.is_locked, "discussionLocked", '{"locked":true}'),
            ):
                if flag:
                    db.execute(
                        "INSERT INTO posts (discussion_id, number, user_id, content, created_at,"
                        " type) SELECT ?, MAX(number) + 1, ?, ?, MAX(created_at), ? FROM posts"
                        " WHERE discussion_id = ?",
                        (d.id, admin, content, kind, d.id),
                    )

    # Authentication -----------------------------------------------------------------------------

    def check_password(self, identification: str, password: str) -> sqlite3.Row | None:
        """By username in any case, or by e-mail address."""
        user = self.one(
            "SELECT * FROM users WHERE username = ? COLLATE NOCASE OR email = ? COLLATE NOCASE",
            (identification, identification),
        )
        if user is None:
            return None
        expected = hash_password(password, user["username"])
        return user if secrets.compare_digest(expected, user["password_hash"]) else None

    def issue_token(self, user_id: int, *, remember: bool) -> str:
        token = secrets.token_hex(20)  # 40 characters, like Flarum's
        with self.transaction() as db:
            db.execute(
                "INSERT INTO access_tokens VALUES (?,?,?,?)",
                (token, user_id, "session_remember" if remember else "session", iso(self.clock())),
            )
        return token

    def user_for_token(self, token: str) -> sqlite3.Row | None:
        """The token's user if the token is valid (touching it), else None."""
        row = self.one("SELECT * FROM access_tokens WHERE token = ?", (token,))
        if row is None:
            return None
        lifetime = REMEMBER_LIFETIME if row["type"] == "session_remember" else SESSION_LIFETIME
        now = self.clock()
        if datetime.fromisoformat(row["last_activity_at"]) + lifetime < now:
            return None
        with self.transaction() as db:
            db.execute(
                "UPDATE access_tokens SET last_activity_at = ? WHERE token = ?", (iso(now), token)
            )
        return self.one("SELECT * FROM users WHERE id = ?", (row["user_id"],))

    def api_key(self, key: str) -> sqlite3.Row | None:
        return self.one("SELECT * FROM api_keys WHERE key = ?", (key,))

    def user(self, user_id: int | str) -> sqlite3.Row | None:
        return self.one("SELECT * FROM users WHERE id = ?", (user_id,))
