"""The Moodle simulator's state: users, courses, enrolments, assignments, grades, tokens,
activity completion, assignment user flags and messages."""

from __future__ import annotations

import secrets
import sqlite3
from typing import Any

from ..database import Database
from ..world import DEMO_PASSWORD, World

__all__ = ["EXTENSION_S", "GUEST", "PAGE_CMID", "SITE_COURSE", "MoodleStore", "moodle_user_id"]

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
CREATE TABLE pages (id INTEGER PRIMARY KEY, cmid INTEGER, course INTEGER, name TEXT);
CREATE TABLE activity_completions (cmid INTEGER, userid INTEGER, state INTEGER,
    timecompleted INTEGER, PRIMARY KEY (cmid, userid));
CREATE TABLE user_flags (id INTEGER PRIMARY KEY, assignment INTEGER, userid INTEGER,
    extensionduedate INTEGER NOT NULL DEFAULT 0, workflowstate TEXT NOT NULL DEFAULT '',
    allocatedmarker INTEGER NOT NULL DEFAULT 0, locked INTEGER NOT NULL DEFAULT 0,
    UNIQUE (assignment, userid));
CREATE TABLE messages (id INTEGER PRIMARY KEY, useridfrom INTEGER, useridto INTEGER, text TEXT,
    timecreated INTEGER, conversationid INTEGER);
CREATE TABLE conversations (id INTEGER PRIMARY KEY, lowid INTEGER, highid INTEGER,
    UNIQUE (lowid, highid));
CREATE TABLE blocks (userid INTEGER, blockeduserid INTEGER, PRIMARY KEY (userid, blockeduserid));
CREATE TABLE contacts_only (userid INTEGER PRIMARY KEY);
CREATE INDEX enrolments_by_user ON enrolments (userid);
"""
CATEGORIES = {"Sciences": 1, "Humanities": 2, "Community": 3}
SITE_COURSE = 1
"""Every Moodle site is course 1 (format `site`, category 0), and lists it as a course."""
GUEST = 1
"""Moodle's user 1 is the guest account (password `guest`), which may not log in to services."""
PAGE_CMID = 1000
"""Each course has one page, "Course guide", whose course module id is 1000 + the course id
(assignments' are 100 + their id)."""
EXTENSION_S = 7 * 86400
"""The extension the first learner not yet graded in each assignment has, past its due date."""


def moodle_user_id(person_id: int) -> int:
    """Moodle's user 1 is the guest account, so the world's person N is Moodle user N + 1."""
    return person_id + 1


class MoodleStore(Database):
    def __init__(self, world: World, path: str = ":memory:") -> None:
        super().__init__(path, SCHEMA, lambda db: self._seed(db, world))
        self.messaging = True
        """The site's `messaging` setting: off, every message is refused as `disabled`."""

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
        self._seed_activities(db)
        db.executemany(
            "INSERT INTO completions VALUES (?,?,?)",
            [
                (c.course_id, moodle_user_id(c.person_id), ts(c.completed_at) or None)
                for c in world.completions
            ],
        )

    def _seed_activities(self, db: sqlite3.Connection) -> None:
        """What issue 27's functions read, from the world's grades and hand-ins: a manual
        "Course guide" page per course, read by the learners with a hand-in; assignments
        complete on a grade (as Essay 1 on the real site); user flags where Moodle makes them
        (a grade), and an extension for the first learner not yet graded."""
        db.execute(
            "INSERT INTO pages SELECT id, ? + id, id, 'Course guide' FROM courses WHERE id != ?",
            (PAGE_CMID, SITE_COURSE),
        )
        db.execute(
            "INSERT OR IGNORE INTO activity_completions SELECT a.cmid, g.userid, 1, g.timemodified"
            " FROM grades g JOIN assignments a ON a.id = g.assignment"
        )
        db.execute(
            "INSERT OR IGNORE INTO activity_completions SELECT p.cmid, s.userid, 1, s.timemodified"
            " FROM submissions s JOIN assignments a ON a.id = s.assignment"
            " JOIN pages p ON p.course = a.course"
        )
        db.execute(
            "INSERT OR IGNORE INTO user_flags (assignment, userid) SELECT assignment, userid"
            " FROM grades ORDER BY assignment, id"
        )
        for assignment in db.execute("SELECT id, course, duedate FROM assignments ORDER BY id"):
            first = db.execute(
                "SELECT e.userid FROM enrolments e WHERE e.courseid = ? AND e.role = 'student'"
                " AND NOT EXISTS (SELECT 1 FROM grades g"
                " WHERE g.assignment = ? AND g.userid = e.userid) ORDER BY e.userid LIMIT 1",
                (assignment[1], assignment[0]),
            ).fetchone()
            if first is not None and assignment[2]:
                db.execute(
                    "INSERT INTO user_flags (assignment, userid, extensionduedate)"
                    " VALUES (?, ?, ?)",
                    (assignment[0], first[0], assignment[2] + EXTENSION_S),
                )

    def conversation(self, one: int, other: int) -> int:
        """The id of the two users' conversation, made on their first message."""
        low, high = sorted((one, other))
        with self.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO conversations (lowid, highid) VALUES (?, ?)", (low, high)
            )
            row = db.execute(
                "SELECT id FROM conversations WHERE lowid = ? AND highid = ?", (low, high)
            ).fetchone()
            return int(row[0])

    def block(self, userid: int, blocked: int) -> None:
        """`userid` blocks `blocked` (`core_message\\api::block_user`)."""
        self.execute("INSERT OR IGNORE INTO blocks VALUES (?, ?)", (userid, blocked))

    def take_messages_from_contacts_only(self, userid: int) -> None:
        """The user's `message_blocknoncontacts` preference: contacts only."""
        self.execute("INSERT OR IGNORE INTO contacts_only VALUES (?)", (userid,))

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
