"""Moodle in the graph: MoodleUser, Course, Assignment, Submission, Grade, CourseCompletion."""

from __future__ import annotations

import asyncio
from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from connectors import moodle
from connectors.errors import NotFound

from ..ids import GlobalId, InvalidId
from ..pagination import Connection, sliced
from ..sources import MOODLE
from .common import (
    Account,
    GroupSource,
    Info,
    Node,
    NodeLoader,
    PersonPart,
    PersonRoot,
    Source,
    by_loader,
    global_id,
    number,
    page_window,
)

__all__ = [
    "ACCOUNT",
    "GROUPS",
    "MUTATION",
    "NODES",
    "PERSON",
    "QUERY",
    "VIEWER_DESCRIPTION",
    "Assignment",
    "Course",
    "CourseCompletion",
    "CourseRole",
    "Grade",
    "LearnerCompletion",
    "MoodleUser",
    "Submission",
]

SOURCE = Source("moodle")


@strawberry.enum(description="What a participant does in a course.")
class CourseRole(Enum):
    STUDENT = "student"
    TEACHER = "teacher"

    def matches(self, roles: tuple[str, ...]) -> bool:
        wanted = {"student"} if self is CourseRole.STUDENT else {"editingteacher", "teacher"}
        return bool(wanted & set(roles))


def courses_connection(
    info: Info, courses: list[moodle.Course], first: int | None, after: str | None
) -> Connection[Course]:
    """A window of a list Moodle answers whole (it has no paging for these)."""
    return sliced(courses, page_window(info, first, after), node=Course.of)


@strawberry.type(description="A person's Moodle account.")
class MoodleUser(Account):
    upstream_id: str
    full_name: str
    first_name: str
    last_name: str
    last_access: datetime | None
    data: strawberry.Private[moodle.User]

    @classmethod
    def of(cls, user: moodle.User) -> MoodleUser:
        return cls(
            id=global_id(SOURCE, "MoodleUser", str(user.id)),
            source=SOURCE,
            upstream_id=str(user.id),
            username=user.username,
            display_name=user.full_name,
            full_name=user.full_name,
            first_name=user.first_name,
            last_name=user.last_name,
            last_access=user.last_access,
            data=user,
        )

    async def account_email(self, info: Info) -> str | None:
        return self.data.email

    @strawberry.field(description="The courses this user is enrolled in.")
    async def courses(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Course] | None:
        courses = await info.context.loaders(MOODLE).users_courses.load(self.data.id)
        return courses_connection(info, courses, first, after)


async def load_user(info: Info, user_id: int | None) -> MoodleUser | None:
    if user_id is None:
        return None
    return MoodleUser.of(await info.context.loaders(MOODLE).users.load(user_id))


@strawberry.type(description="A learner's hand-in for an assignment.")
class Submission(Node):
    source: Source
    upstream_id: str
    status: str = strawberry.field(description="new, draft, submitted or reopened, as Moodle says.")
    time_modified: datetime | None
    data: strawberry.Private[moodle.Submission]

    @classmethod
    def of(cls, submission: moodle.Submission) -> Submission:
        return cls(
            # Moodle lists submissions by assignment: the id says which, and whose.
            id=global_id(SOURCE, "Submission", f"{submission.assignment_id}:{submission.user_id}"),
            source=SOURCE,
            upstream_id=str(submission.id),
            status=submission.status,
            time_modified=submission.time_modified,
            data=submission,
        )

    @strawberry.field
    async def user(self, info: Info) -> MoodleUser | None:
        return await load_user(info, self.data.user_id)


@strawberry.type(description="A grade given for an assignment.")
class Grade(Node):
    source: Source
    upstream_id: str
    grade: float | None = strawberry.field(description="Null where it is not graded yet.")
    graded_at: datetime | None
    data: strawberry.Private[moodle.Grade]

    @classmethod
    def of(cls, grade: moodle.Grade) -> Grade:
        return cls(
            # Moodle lists grades by assignment: the id says which, and whose.
            id=global_id(SOURCE, "Grade", f"{grade.assignment_id}:{grade.user_id}"),
            source=SOURCE,
            upstream_id=str(grade.id),
            grade=grade.grade,
            graded_at=grade.graded_at,
            data=grade,
        )

    @strawberry.field(description="Who was graded.")
    async def user(self, info: Info) -> MoodleUser | None:
        return await load_user(info, self.data.user_id)

    @strawberry.field(description="Who graded.")
    async def grader(self, info: Info) -> MoodleUser | None:
        return await load_user(info, self.data.grader_id)


@strawberry.type(description="An assignment in a Moodle course.")
class Assignment(Node):
    source: Source
    upstream_id: str
    name: str
    intro: str | None
    due_date: datetime | None
    cutoff_date: datetime | None
    max_grade: float | None = strawberry.field(description="Null where graded on a scale.")
    data: strawberry.Private[moodle.Assignment]

    @classmethod
    def of(cls, assignment: moodle.Assignment) -> Assignment:
        return cls(
            id=global_id(SOURCE, "Assignment", str(assignment.id)),
            source=SOURCE,
            upstream_id=str(assignment.id),
            name=assignment.name,
            intro=assignment.intro,
            due_date=assignment.due_date,
            cutoff_date=assignment.cutoff_date,
            max_grade=assignment.max_grade,
            data=assignment,
        )

    @strawberry.field
    async def course(self, info: Info) -> Annotated[Course, strawberry.lazy(__name__)] | None:
        return Course.of(await info.context.loaders(MOODLE).courses.load(self.data.course_id))

    @strawberry.field(
        description="Everyone's where the caller grades; else the caller's own. Moodle adds an "
        "empty `new` submission for a learner the first time their own is read (its status "
        "function writes); this answer already shows it, and teachers then see it among the "
        "`new` submissions."
    )
    async def submissions(self, info: Info) -> list[Submission] | None:
        found = await info.context.loaders(MOODLE).submissions.load(self.data.id)
        return [Submission.of(s) for s in found]

    @strawberry.field(description="Everyone's where the caller grades; else the caller's own.")
    async def grades(self, info: Info) -> list[Grade] | None:
        return [Grade.of(g) for g in await info.context.loaders(MOODLE).grades.load(self.data.id)]


@strawberry.type
class CompletionCriterion:
    title: str
    status: str
    complete: bool
    time_completed: datetime | None


@strawberry.type(description="Whether one learner has completed one course.")
class CourseCompletion:
    completed: bool
    time_completed: datetime | None
    criteria: list[CompletionCriterion]

    @classmethod
    def of(cls, completion: moodle.CourseCompletion) -> CourseCompletion:
        return cls(
            completed=completion.completed,
            time_completed=completion.time_completed,
            criteria=[
                CompletionCriterion(
                    title=c.title,
                    status=c.status,
                    complete=c.complete,
                    time_completed=c.time_completed,
                )
                for c in completion.criteria
            ],
        )


@strawberry.type(description="One learner's completion of one course.")
class LearnerCompletion:
    learner: MoodleUser
    outcome: strawberry.Private[moodle.CourseCompletion | BaseException]

    @strawberry.field(
        description="Null, with an error saying why, where Moodle cannot tell for this learner "
        "(no completion criteria, completion switched off, not enrolled as a learner)."
    )
    def completion(self) -> CourseCompletion | None:
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return CourseCompletion.of(self.outcome)


@strawberry.type(description="A Moodle course.")
class Course(Node):
    source: Source
    upstream_id: str
    short_name: str
    full_name: str
    summary: str | None
    start_date: datetime | None = strawberry.field(
        description="Null where the caller's role does not get it (not enrolled)."
    )
    end_date: datetime | None = strawberry.field(
        description="Null where the caller's role does not get it (not enrolled)."
    )
    visible: bool | None = strawberry.field(
        description="Null where the caller's role does not get it (not enrolled)."
    )
    data: strawberry.Private[moodle.Course]

    @classmethod
    def of(cls, course: moodle.Course) -> Course:
        return cls(
            id=global_id(SOURCE, "Course", str(course.id)),
            source=SOURCE,
            upstream_id=str(course.id),
            short_name=course.short_name,
            full_name=course.full_name,
            summary=course.summary,
            start_date=course.start_date,
            end_date=course.end_date,
            visible=course.visible,
            data=course,
        )

    @strawberry.field(description="The name of the course's category.")
    async def category(self, info: Info) -> str | None:
        if self.data.category is not None or self.data.category_id is None:
            return self.data.category
        # The enrolled-courses list names the category by id only: a lookup names it.
        return (await info.context.loaders(MOODLE).courses.load(self.data.id)).category

    @strawberry.field(description="The people enrolled, optionally only students or teachers.")
    async def participants(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        role: CourseRole | None = None,
    ) -> Connection[MoodleUser] | None:
        users = await self._participants(info, role)
        at = page_window(info, first, after)
        return sliced(users, at, node=MoodleUser.of)

    @strawberry.field
    async def assignments(self, info: Info) -> list[Assignment] | None:
        found = await info.context.loaders(MOODLE).assignments.load(self.data.id)
        return [Assignment.of(a) for a in found]

    @strawberry.field(description="Whether the user (a MoodleUser id) completed this course.")
    async def completion(self, info: Info, user_id: strawberry.ID) -> CourseCompletion | None:
        user = GlobalId.expect_int(user_id, "moodle", "MoodleUser")
        completions = info.context.loaders(MOODLE).completions
        return CourseCompletion.of(await completions.load((self.data.id, user)))

    @strawberry.field(
        description="Each participant's completion (students by default); `completed: true` "
        "keeps those Moodle says completed it, `completed: false` the others. A learner whose "
        "completion Moodle cannot tell has not completed it: kept (except with "
        "`completed: true`), with a null `completion` and an error saying why."
    )
    async def completions(
        self,
        info: Info,
        role: CourseRole | None = CourseRole.STUDENT,
        completed: bool | None = None,
    ) -> list[LearnerCompletion] | None:
        users = await self._participants(info, role)
        completions = info.context.loaders(MOODLE).completions
        found = await asyncio.gather(
            *(completions.load((self.data.id, u.id)) for u in users), return_exceptions=True
        )
        return [
            LearnerCompletion(learner=MoodleUser.of(user), outcome=outcome)
            for user, outcome in zip(users, found, strict=True)
            if completed is None
            # Unknown is not completed: kept with `completed: false`, never with `true`.
            or (
                not completed
                if isinstance(outcome, BaseException)
                else outcome.completed == completed
            )
        ]

    async def _participants(self, info: Info, role: CourseRole | None) -> list[moodle.User]:
        users = await info.context.loaders(MOODLE).participants.load(self.data.id)
        return users if role is None else [u for u in users if role.matches(u.roles)]


async def _assignment(info: Info, upstream_id: str) -> Node:
    """Moodle lists assignments by course only: look in the caller's courses."""
    wanted = number(upstream_id)
    for assignments in (await info.context.site(MOODLE).assignments([])).values():
        for assignment in assignments:
            if assignment.id == wanted:
                return Assignment.of(assignment)
    raise NotFound("moodle", f"Moodle shows no assignment {wanted} in the caller's courses")


def _whose(upstream_id: str, type_name: str) -> tuple[int, int]:
    """`assignment:user`, the id of a submission or grade."""
    assignment, colon, user = upstream_id.partition(":")
    if not (colon and assignment.isdigit() and user.isdigit()):
        raise InvalidId(
            f"{upstream_id!r} is not a {type_name} id: it names the assignment and the user, "
            f"as in '12:34' (an id of the earlier form, Moodle's own row number, no longer "
            f"works; read the {type_name.lower()} again through its assignment)"
        )
    return int(assignment), int(user)


async def _submission(info: Info, upstream_id: str) -> Node:
    assignment, user = _whose(upstream_id, "Submission")
    found = await info.context.loaders(MOODLE).submission_of(assignment, user)
    if found is None:
        raise NotFound(
            "moodle", f"Moodle shows no submission of user {user} in assignment {assignment}"
        )
    return Submission.of(found)


async def _grade(info: Info, upstream_id: str) -> Node:
    assignment, user = _whose(upstream_id, "Grade")
    found = await info.context.loaders(MOODLE).grade_of(assignment, user)
    if found is None:
        raise NotFound("moodle", f"Moodle shows no grade of {user} in assignment {assignment}")
    return Grade.of(found)


VIEWER_DESCRIPTION = "Null when the request carries no Moodle token."
"""What `Viewer.moodle`, the caller's own account here, says of itself."""

ACCOUNT = MoodleUser
"""The type of a person's account on this source."""

NODES: dict[str, NodeLoader] = {
    "Course": by_loader(lambda c: c.loaders(MOODLE).courses, Course.of, number),
    "MoodleUser": by_loader(lambda c: c.loaders(MOODLE).users, MoodleUser.of, number),
    "Assignment": _assignment,
    "Submission": _submission,
    "Grade": _grade,
}
"""How `Query.node` finds each type of this source by its id."""


@strawberry.type
class MoodleQuery:
    @strawberry.field(description="Moodle courses the caller can see, by name when searching.")
    async def courses(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        search: str | None = None,
    ) -> Connection[Course] | None:
        site = info.context.site(MOODLE)

        async def listed() -> list[moodle.Course]:
            return (await site.search_courses(search))[1] if search else await site.courses()

        courses = await info.context.loaders(MOODLE).course_list(listed)
        return courses_connection(info, courses, first, after)

    @strawberry.field
    async def course(self, info: Info, id: strawberry.ID) -> Course | None:
        upstream_id = GlobalId.expect_int(id, "moodle", "Course")
        return Course.of(await info.context.loaders(MOODLE).courses.load(upstream_id))


QUERY: type | None = MoodleQuery
"""This source's root fields."""
MUTATION: type | None = None
"""This source's mutations."""
GROUPS: GroupSource | None = None
"""This source's part of `Query.groups`, where it has groups."""


async def _courses_of_person(
    root: PersonRoot, info: Info, first: int | None = None, after: str | None = None
) -> Connection[Course] | None:
    user = await info.context.people_loaders.of("moodle").load(root.email)
    found = await info.context.loaders(MOODLE).users_courses.load(user.id) if user else []
    return courses_connection(info, found, first, after)


PERSON = PersonPart(
    "moodle_user",
    "The Moodle account, where the caller may see it.",
    {
        "courses": strawberry.field(
            resolver=_courses_of_person, description="Moodle courses this person is enrolled in."
        )
    },
)
"""This source's fields on `Person`."""
