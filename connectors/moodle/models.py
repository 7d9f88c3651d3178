"""What the Moodle connector returns: dataclasses with Moodle's strings and seconds parsed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "Activity",
    "ActivityCompletion",
    "Assignment",
    "CompletionCriterion",
    "Course",
    "CourseCompletion",
    "Grade",
    "MessageSent",
    "OwnStatus",
    "SiteInfo",
    "Submission",
    "User",
    "UserFlags",
]


@dataclass(frozen=True)
class SiteInfo:
    site_name: str
    user_id: int
    username: str
    first_name: str
    last_name: str
    full_name: str
    release: str
    functions: frozenset[str]


@dataclass(frozen=True)
class User:
    id: int
    username: str | None
    first_name: str
    last_name: str
    full_name: str
    email: str | None
    """Only where the caller may see it."""
    last_access: datetime | None
    roles: tuple[str, ...] = ()
    """Role short names in a course, from the enrolled-users list only."""


@dataclass(frozen=True)
class Course:
    """Moodle sends a caller only the fields their role may read: a caller not enrolled gets no
    dates and no `visible`, and the enrolled-courses list names the category by id only."""

    id: int
    short_name: str
    full_name: str
    summary: str | None
    category: str | None
    start_date: datetime | None
    end_date: datetime | None
    visible: bool | None
    category_id: int | None = None


@dataclass(frozen=True)
class Assignment:
    id: int
    course_id: int
    name: str
    intro: str | None
    due_date: datetime | None
    cutoff_date: datetime | None
    max_grade: float | None
    """None where the assignment is graded on a scale (Moodle sends a negative scale id)."""


@dataclass(frozen=True)
class Submission:
    id: int
    assignment_id: int
    user_id: int
    status: str
    time_modified: datetime | None


@dataclass(frozen=True)
class Grade:
    id: int
    assignment_id: int
    user_id: int
    grade: float | None
    """None for Moodle's -1, "not graded"."""
    grader_id: int | None
    graded_at: datetime | None


@dataclass(frozen=True)
class OwnStatus:
    """The caller's own submission and grade in one assignment."""

    submission: Submission | None
    grade: Grade | None
    extension_due_date: datetime | None = None


@dataclass(frozen=True)
class CompletionCriterion:
    title: str
    status: str
    complete: bool
    time_completed: datetime | None


@dataclass(frozen=True)
class CourseCompletion:
    completed: bool
    time_completed: datetime | None
    criteria: tuple[CompletionCriterion, ...]


@dataclass(frozen=True)
class Activity:
    """An activity (course module) of a course, as `core_course_get_contents` lists it."""

    id: int
    """The course module id (`cmid`)."""
    course_id: int
    name: str
    kind: str
    """Moodle's module name: assign, page, quiz, forum…"""
    instance: int
    """The id of the activity in its module's own table (an assignment's id)."""
    section: str
    visible: bool
    tracking: int
    """Completion tracking: 0 none, 1 manual, 2 automatic."""
    url: str | None = None


@dataclass(frozen=True)
class ActivityCompletion:
    """One learner's completion of one activity."""

    course_id: int
    user_id: int
    activity_id: int
    kind: str
    instance: int
    state: int
    """0 incomplete, 1 complete, 2 complete with a pass grade, 3 complete with a fail grade."""
    time_completed: datetime | None
    tracking: int
    tracked: bool | None
    """Whether the course tracks this user's completion (False: a teacher, someone not
    enrolled; the states are then all 0)."""


@dataclass(frozen=True)
class UserFlags:
    """A learner's flags in one assignment: their extension and marking workflow."""

    assignment_id: int
    user_id: int
    extension_due_date: datetime | None
    workflow_state: str | None
    allocated_marker_id: int | None
    locked: bool


@dataclass(frozen=True)
class MessageSent:
    """A message Moodle sent to one user."""

    user_id: int
    message_id: int
    conversation_id: int | None
    time_sent: datetime | None
