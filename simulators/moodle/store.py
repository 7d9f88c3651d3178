"""The Moodle simulator's state: users, courses, enrolments, assignments, grades, tokens."""

from __future__ import annotations

import secrets
import sqlite3
from typing import Any

from ..database import Database
from ..world import DEMO_PASSWORD, World

__all__ = ["GUEST", "SITE_COURSE", "MoodleStore", "moodle_user_id"]

SCHEMA = """
CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT UNIQUE COLLATE NOCASE, email TEXT,
    firstname TEXT, lastname TEXT, password TEXT, firstaccess INTEGER, lastaccess INTEGER,
    is_admin INTEGER, suspended INTEGER NOT NULL DEFAULT 0);
CREATE TABLE courses (id INTEGER PRIMARY KEY, shortname TEXT, fullname TEXT, categoryid INTEGER,
    categoryname TEXT, summary TEXT, startdate INTEGER, enddate INTEGER, visible INTEGER,
    enablecompletion INTEGER NOT NULL DEFAULT 1, criteria INTEGER NOT NULL DEFAULT 1);
CREATE TABLE enrolments (courseid INTEGER, userid INTEGER, role TEXT, PRIMARY KEY (courseid, userid));
CREATE TABLE assignments (id INTEGER PRIMARY KEY, cmid INTEGER, course INTEGER, name TEXT,
    intro TEXT, duedate INTEGER, cutoffdate INTEGER, grade INTEGER);
CREATE TABLE submissions (id INTEGER PRIMARY KEY, assignment INTEGER, userid INTEGER, status TEXT,
    timemodified INTEGER, UNIQUE (assignment, userid));
CREATE TABLE grades (id INTEGER PRIMARY KEY, assignment INTEGER, userid INTEGER, grade REAL,
    grader INTEGER, timemodified INTEGER);
CREATE TABLE completions (courseid INTEGER, userid INTEGER, timecompleted INTEGER);
CREATE TABLE tokens (token TEXT PRIMARY KEY, userid INTEGER, service TEXT, UNIQUE (userid, service));
CREATE INDEX enrolments_by_user ON enrolments (userid);
"""
CATEGORIES = {"Sciences": 1, "Humanities": 2, "Community": 3}
SITE_COURSE = 1
"""Every Moodle site is course 1 (format `site`, category 0), and lists it as a course."""
GUEST = 1
"""Moodle's user 1 is the guest account (password `guest`), which may not log in to services."""


def moodle_user_id(person_id: int) -> int:
    """Moodle's user 1 is the guest account, so the world's person N is Moodle user N + 1."""
    return person_id + 1


class MoodleStore(Database):
    def __init__(self, world: World, path: str = ":memory:") -> None:
        super().__init__(path, SCHEMA, lambda db: self._seed(db, world))

    def _seed(self, db: sqlite3.Connection, world: World) -> None:
        def ts(moment: Any) -> int:
            return 0 if moment is None else int(moment.timestamp())

        db.execute(
            "INSERT INTO users (id, username, email, firstname, lastname, password, firstaccess,"
            " lastaccess, is_admin) VALUES (?, 'guest', 'root@localhost', 'Guest user', ' ',"
            " 'guest', 0, 0, 0)",
            (GUEST,),
        )
        db.execute(
            "INSERT INTO courses VALUES (?, 'community', 'Legacygraph Community School', 0, '',"
            " '', 0, 0, 1, 0, 0)",
            (SITE_COURSE,),
        )
        db.executemany(
            "INSERT INTO users (id, username, email, firstname, lastname, password, firstaccess,"
            " lastaccess, is_admin) VALUES (?,?,?,?,?,?,?,?,?)",
            [
                (
                    moodle_user_id(p.id),
                    p.username,
                    p.email,
                    p.first_name,
                    p.last_name,
                    DEMO_PASSWORD,
                    ts(p.joined_at),
                    ts(p.joined_at) + 86400 * p.id,
                    int(p.is_admin),
                )
                for p in world.people
                if p.has_account("moodle")
            ],
        )
        db.executemany(
            "INSERT INTO courses (id, shortname, fullname, categoryid, categoryname, summary,"
            " startdate, enddate, visible) VALUES (?,?,?,?,?,?,?,?,?)",
            [
                (
                    c.id,
                    c.shortname,
                    c.fullname,
                    CATEGORIES[c.category],
                    c.category,
                    c.summary,
                    ts(c.start),
                    ts(c.end),
                    int(c.visible),
                )
                for c in world.courses
            ],
        )
        db.executemany(
            "INSERT INTO enrolments VALUES (?,?,?)",
            [(e.course_id, moodle_user_id(e.person_id), e.role) for e in world.enrolments],
        )
        db.executemany(
            "INSERT INTO assignments VALUES (?,?,?,?,?,?,?,?)",
            [
                (
                    a.id,
                    100 + a.id,
                    a.course_id,
                    a.name,
                    a.intro,
                    ts(a.due),
                    ts(a.cutoff),
                    a.max_grade,
                )
                for a in world.assignments
            ],
        )
        db.executemany(
            "INSERT INTO submissions (assignment, userid, status, timemodified) VALUES (?,?,?,?)",
            [
                (s.assignment_id, moodle_user_id(s.person_id), s.status, ts(s.modified))
                for s in world.submissions
            ],
        )
        db.executemany(
            "INSERT INTO grades (assignment, userid, grade, grader, timemodified) VALUES (?,?,?,?,?)",
            [
                (
                    g.assignment_id,
                    moodle_user_id(g.person_id),
                    g.grade,
                    moodle_user_id(g.grader_id),
                    ts(g.graded_at),
                )
                for g in world.grades
            ],
        )
        db.executemany(
            "INSERT INTO completions VALUES (?,?,?)",
            [
                (c.course_id, moodle_user_id(c.person_id), ts(c.completed_at) or None)
                for c in world.completions
            ],
        )

    def token_for(self, userid: int, service: str) -> str:
        """The user's token for the service, the same one on every login (as Moodle reuses it)."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT token FROM tokens WHERE userid = ? AND service = ?", (userid, service)
            ).fetchone()
            if row is not None:
                return str(row[0])
            token = secrets.token_hex(16)
            db.execute("INSERT INTO tokens VALUES (?,?,?)", (token, userid, service))
            return token

    def user_of_token(self, token: str) -> tuple[sqlite3.Row, str] | None:
        row = self.one("SELECT userid, service FROM tokens WHERE token = ?", (token,))
        if row is None:
            return None
        user = self.one("SELECT * FROM users WHERE id = ?", (row["userid"],))
        return (user, row["service"]) if user is not None else None

    def add_new_submission(self, assignment: int, userid: int, now: int) -> None:
        """What `mod_assign_get_submission_status` leaves behind: a `new` submission for the
        user it reported on, where they had none."""
        self.execute(
            "INSERT OR IGNORE INTO submissions (assignment, userid, status, timemodified)"
            " VALUES (?, ?, 'new', ?)",
            (assignment, userid, now),
        )

    def role(self, courseid: int, userid: int) -> str | None:
        row = self.one(
            "SELECT role FROM enrolments WHERE courseid = ? AND userid = ?", (courseid, userid)
        )
        return None if row is None else str(row["role"])
