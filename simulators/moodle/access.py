"""Who may do what: a caller's role in a course, who grades, who sees hidden courses, who may
enter a course, who shares a course with whom."""

from __future__ import annotations

import sqlite3

from .errors import missing_record
from .site import Caller, Site

__all__ = [
    "GRADERS",
    "course_row",
    "grades_in",
    "is_contact",
    "may_enter",
    "may_see",
    "role",
    "sees_hidden",
    "shared_courses",
]


GRADERS = ("editingteacher", "teacher")
"""Roles with `mod/assign:grade` and `report/completion:view` in a course."""


def role(site: Site, caller: Caller, courseid: int) -> str | None:
    """The caller's enrolment in the course (an administrator is enrolled nowhere)."""
    return site.store.role(courseid, caller.id)


def grades_in(site: Site, caller: Caller, courseid: int) -> bool:
    return caller.is_admin or role(site, caller, courseid) in GRADERS


def sees_hidden(site: Site, caller: Caller, courseid: int) -> bool:
    return caller.is_admin or role(site, caller, courseid) == "editingteacher"


def may_see(site: Site, caller: Caller, course: sqlite3.Row) -> bool:
    return bool(course["visible"]) or sees_hidden(site, caller, course["id"])


def may_enter(site: Site, caller: Caller, course: sqlite3.Row) -> bool:
    """`validate_context` on the course: participants (of a course they may see) and
    administrators."""
    if caller.is_admin:
        return True
    return role(site, caller, course["id"]) is not None and may_see(site, caller, course)


def shared_courses(site: Site, caller: Caller, userid: int) -> list[sqlite3.Row]:
    return site.store.all(
        "SELECT c.* FROM courses c JOIN enrolments mine ON mine.courseid = c.id"
        " JOIN enrolments theirs ON theirs.courseid = c.id"
        " WHERE mine.userid = ? AND theirs.userid = ? ORDER BY c.fullname",
        (caller.id, userid),
    )


def is_contact(site: Site, userid: int) -> bool:
    return (
        site.store.one(
            "SELECT 1 FROM enrolments e JOIN courses c ON c.id = e.courseid"
            " WHERE e.userid = ? AND e.role = 'editingteacher' AND c.visible = 1",
            (userid,),
        )
        is not None
    )


def course_row(site: Site, courseid: int) -> sqlite3.Row:
    """A course, or Moodle's answer for a missing one (`MUST_EXIST` in its code)."""
    row = site.store.one("SELECT * FROM courses WHERE id = ?", (courseid,))
    if row is None:
        raise missing_record("course")
    return row
