"""Moodle in the graph: MoodleUser, Course, Assignment, Submission, Grade, CourseCompletion,
Activity and its completion, assignment user flags, and instant messages."""

from __future__ import annotations

import asyncio
from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from connectors import moodle
from connectors.errors import BadRequest, NotFound, Unauthenticated, UpstreamError
from graph.schema.ids import GlobalId, InvalidId
from graph.schema.pagination import Connection, sliced
from graph.schema.types.common import (
    Account,
    Info,
    Node,
    PersonRoot,
    SourceTypes,
    by_loader,
    global_id,
    number,
    own_account_field,
    page_window,
    person_account_field,
)
from graph.schema.types.source import Source
from graph.sources import MOODLE

__all__ = [
    "TYPES",
    "Activity",
    "ActivityCompletion",
    "ActivityCompletionState",
    "ActivityLearnerCompletion",
    "Assignment",
    "AssignmentUserFlags",
    "CompletionTracking",
    "Course",
    "CourseCompletion",
    "CourseRole",
    "Grade",
    "LearnerCompletion",
    "MessageDelivery",
    "MessageRefusal",
    "MoodleMutation",
    "MoodlePersonAccount",
    "MoodlePersonFields",
    "MoodleQuery",
    "MoodleUser",
    "MoodleViewer",
    "SendMessagePayload",
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

    @strawberry.field(
        description="The learner's flags in the assignment (extension, marking workflow); null "
        "where Moodle keeps none for them, or the caller may not read them."
    )
    async def flags(self, info: Info) -> AssignmentUserFlags | None:
        loaders = info.context.loaders(MOODLE)
        found = await loaders.flags_of(self.data.assignment_id, self.data.user_id)
        return AssignmentUserFlags.of(found) if found else None


@strawberry.type(
    description="A learner's flags in one assignment: their extension and where their "
    "submission is in the marking workflow."
)
class AssignmentUserFlags:
    extension_due_date: datetime | None = strawberry.field(
        description="The due date of the learner's extension; null where they have none."
    )
    workflow_state: str | None = strawberry.field(
        description="notmarked, inmarking, readyforreview, inreview, readyforrelease or "
        "released, where the assignment has a marking workflow; null for the learner's own "
        "(Moodle does not tell them)."
    )
    locked: bool = strawberry.field(description="Whether the learner may no longer submit.")
    data: strawberry.Private[moodle.UserFlags]

    @classmethod
    def of(cls, flags: moodle.UserFlags) -> AssignmentUserFlags:
        return cls(
            extension_due_date=flags.extension_due_date,
            workflow_state=flags.workflow_state,
            locked=flags.locked,
            data=flags,
        )

    @strawberry.field(description="The learner.")
    async def user(self, info: Info) -> MoodleUser | None:
        return await load_user(info, self.data.user_id)

    @strawberry.field(description="The marker allocated to the learner, where there is one.")
    async def allocated_marker(self, info: Info) -> MoodleUser | None:
        return await load_user(info, self.data.allocated_marker_id)


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

    @strawberry.field(
        description="Learners' extensions and marking workflow (one user's with `userId`), "
        "where the caller grades: Moodle lists a learner once they have a submission, a grade "
        "or an extension, so one not listed has no extension. A learner gets their own "
        "extension only, from the status function (which adds an empty `new` submission "
        "the first time, as `submissions` says)."
    )
    async def user_flags(
        self, info: Info, user_id: strawberry.ID | None = None
    ) -> list[AssignmentUserFlags] | None:
        loaders = info.context.loaders(MOODLE)
        if user_id is not None:
            user = GlobalId.expect_int(user_id, "moodle", "MoodleUser")
            found = await loaders.flags_of(self.data.id, user)
            return [AssignmentUserFlags.of(found)] if found else []
        return [AssignmentUserFlags.of(f) for f in await loaders.user_flags(self.data.id)]


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


@strawberry.enum(description="How Moodle tracks the completion of an activity.")
class CompletionTracking(Enum):
    NONE = 0
    MANUAL = 1
    """The learner marks it done."""
    AUTOMATIC = 2
    """Moodle marks it done on the activity's conditions (a view, a submission, a grade)."""


@strawberry.enum(description="A learner's completion of one activity, as Moodle states it.")
class ActivityCompletionState(Enum):
    INCOMPLETE = 0
    COMPLETE = 1
    COMPLETE_PASS = 2
    """Complete with a passing grade."""
    COMPLETE_FAIL = 3
    """Graded below the pass grade: not complete where a pass is required."""


def _tracking(value: int) -> CompletionTracking:
    return CompletionTracking(value) if value in (0, 1, 2) else CompletionTracking.AUTOMATIC


@strawberry.type(description="An activity of a Moodle course (an assignment, a page, a quiz…).")
class Activity(Node):
    source: Source
    upstream_id: str = strawberry.field(description="Moodle's course module id (cmid).")
    name: str
    kind: str = strawberry.field(description="Moodle's module name: assign, page, quiz, forum…")
    section: str = strawberry.field(description="The name of the course section it is in.")
    visible: bool = strawberry.field(
        description="False for an activity hidden from learners (only teachers see it)."
    )
    completion_tracking: CompletionTracking
    url: str | None
    data: strawberry.Private[moodle.Activity]

    @classmethod
    def of(cls, activity: moodle.Activity) -> Activity:
        return cls(
            # Moodle lists activities by course: the id says which, and which activity.
            id=global_id(SOURCE, "Activity", f"{activity.course_id}:{activity.id}"),
            source=SOURCE,
            upstream_id=str(activity.id),
            name=activity.name,
            kind=activity.kind,
            section=activity.section,
            visible=activity.visible,
            completion_tracking=_tracking(activity.tracking),
            url=activity.url,
            data=activity,
        )

    @strawberry.field(description="The assignment, where the activity is one.")
    async def assignment(self, info: Info) -> Assignment | None:
        if self.data.kind != "assign":
            return None
        found = await info.context.loaders(MOODLE).assignments.load(self.data.course_id)
        return next((Assignment.of(a) for a in found if a.id == self.data.instance), None)

    @strawberry.field(
        description="Each participant's completion of this activity (students by default): "
        "`completed: false` keeps those who have not completed it (incomplete, or graded "
        "below the pass grade), `hasExtension: false` those without an extension (asked of "
        "the assignment's user flags; an activity that is no assignment has none). A learner "
        "whose completion Moodle cannot tell has not completed it: kept (except with "
        "`completed: true`), with a null `completion` and an error saying why."
    )
    async def completions(
        self,
        info: Info,
        role: CourseRole | None = CourseRole.STUDENT,
        completed: bool | None = None,
        has_extension: bool | None = None,
    ) -> list[ActivityLearnerCompletion] | None:
        loaders = info.context.loaders(MOODLE)
        users = await loaders.participants.load(self.data.course_id)
        users = users if role is None else [u for u in users if role.matches(u.roles)]
        found = await asyncio.gather(
            *(loaders.activity_completions.load((self.data.course_id, u.id)) for u in users),
            return_exceptions=True,
        )
        rows = [
            ActivityLearnerCompletion(
                learner=MoodleUser.of(user), outcome=outcome, activity=self.data
            )
            for user, outcome in zip(users, found, strict=True)
        ]
        if completed is not None:
            rows = [r for r in rows if r.is_completed() == completed]
        if has_extension is not None:
            extended = await asyncio.gather(*(r.extension(info) for r in rows))
            rows = [
                r
                for r, due in zip(rows, extended, strict=True)
                if (due is not None) == has_extension
            ]
        return rows


@strawberry.type(description="One learner's completion of one activity.")
class ActivityCompletion:
    state: ActivityCompletionState
    completed: bool = strawberry.field(
        description="Complete, or complete with a passing grade (Moodle's `isoverallcomplete`)."
    )
    time_completed: datetime | None
    tracking: CompletionTracking
    tracked: bool | None = strawberry.field(
        description="False where the course does not track this user's completion (a teacher, "
        "someone not enrolled): every state is then INCOMPLETE."
    )
    data: strawberry.Private[moodle.ActivityCompletion]

    @classmethod
    def of(cls, completion: moodle.ActivityCompletion) -> ActivityCompletion:
        return cls(
            state=ActivityCompletionState(completion.state)
            if completion.state in (0, 1, 2, 3)
            else ActivityCompletionState.INCOMPLETE,
            completed=completion.state in (1, 2),
            time_completed=completion.time_completed,
            tracking=_tracking(completion.tracking),
            tracked=completion.tracked,
            data=completion,
        )

    @strawberry.field(
        description="The activity, named by the course's contents (Moodle's completion answer "
        "has no names); null where the caller's list of activities does not hold it."
    )
    async def activity(self, info: Info) -> Activity | None:
        listed = await info.context.loaders(MOODLE).activities.load(self.data.course_id)
        return next((Activity.of(a) for a in listed if a.id == self.data.activity_id), None)


@strawberry.type(description="One learner's completion of one activity, in a class list.")
class ActivityLearnerCompletion:
    learner: MoodleUser
    outcome: strawberry.Private[list[moodle.ActivityCompletion] | BaseException]
    # The activity's record, not its GraphQL type: federation would list a private field's type
    # among the entities a second time.
    activity: strawberry.Private[moodle.Activity]

    def _found(self) -> moodle.ActivityCompletion | None:
        if isinstance(self.outcome, BaseException):
            return None
        return next((c for c in self.outcome if c.activity_id == self.activity.id), None)

    def is_completed(self) -> bool:
        found = self._found()
        return found is not None and found.state in (1, 2)

    @strawberry.field(
        description="Null, with an error saying why, where Moodle cannot tell for this learner "
        "(a classmate's, for a learner; a course the caller may not enter)."
    )
    def completion(self) -> ActivityCompletion | None:
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        found = self._found()
        return ActivityCompletion.of(found) if found else None

    @strawberry.field(
        description="The learner's flags in the activity's assignment; null for other "
        "activities, and where Moodle keeps none for them."
    )
    async def flags(self, info: Info) -> AssignmentUserFlags | None:
        found = await self._flags(info)
        return AssignmentUserFlags.of(found) if found else None

    @strawberry.field(description="The due date of the learner's extension, where they have one.")
    async def extension_due_date(self, info: Info) -> datetime | None:
        return await self.extension(info)

    async def extension(self, info: Info) -> datetime | None:
        found = await self._flags(info)
        return found.extension_due_date if found else None

    async def _flags(self, info: Info) -> moodle.UserFlags | None:
        if self.activity.kind != "assign":
            return None
        loaders = info.context.loaders(MOODLE)
        return await loaders.flags_of(self.activity.instance, self.learner.data.id)


@strawberry.type(description="One learner's completion of one course.")
class LearnerCompletion:
    learner: MoodleUser
    outcome: strawberry.Private[moodle.CourseCompletion | BaseException]
    course_id: strawberry.Private[int] = 0

    @strawberry.field(
        description="The learner's completion of each activity the caller sees in the course "
        "(one multi-call for the whole class)."
    )
    async def activities(self, info: Info) -> list[ActivityCompletion] | None:
        return await _activity_completions(info, self.course_id, self.learner.data.id)

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
            LearnerCompletion(learner=MoodleUser.of(user), outcome=outcome, course_id=self.data.id)
            for user, outcome in zip(users, found, strict=True)
            if completed is None
            # Unknown is not completed: kept with `completed: false`, never with `true`.
            or (
                not completed
                if isinstance(outcome, BaseException)
                else outcome.completed == completed
            )
        ]

    @strawberry.field(
        description="The course's activities, section by section, as the caller sees them "
        "(teachers see hidden ones too)."
    )
    async def activities(self, info: Info) -> list[Activity] | None:
        found = await info.context.loaders(MOODLE).activities.load(self.data.id)
        return [Activity.of(a) for a in found]

    @strawberry.field(description="One activity of the course, by its id.")
    async def activity(self, info: Info, id: strawberry.ID) -> Activity | None:
        course, cmid = _which_activity(GlobalId.expect(id, "moodle", "Activity"))
        if course != self.data.id:
            raise BadRequest("moodle", f"activity {cmid} is not one of course {self.data.id}")
        return await _find_activity(info, course, cmid)

    @strawberry.field(
        description="The user's (a MoodleUser id) completion of each activity the caller sees "
        "in the course: a learner their own, a teacher anyone's."
    )
    async def activity_completions(
        self, info: Info, user_id: strawberry.ID
    ) -> list[ActivityCompletion] | None:
        user = GlobalId.expect_int(user_id, "moodle", "MoodleUser")
        return await _activity_completions(info, self.data.id, user)

    async def _participants(self, info: Info, role: CourseRole | None) -> list[moodle.User]:
        users = await info.context.loaders(MOODLE).participants.load(self.data.id)
        return users if role is None else [u for u in users if role.matches(u.roles)]


async def _activity_completions(info: Info, course: int, user: int) -> list[ActivityCompletion]:
    found = await info.context.loaders(MOODLE).activity_completions.load((course, user))
    return [ActivityCompletion.of(c) for c in found]


def _which_activity(upstream_id: str) -> tuple[int, int]:
    """`course:cmid`, the id of an activity."""
    course, colon, cmid = upstream_id.partition(":")
    if not (colon and course.isdigit() and cmid.isdigit()):
        raise InvalidId(
            f"{upstream_id!r} is not an Activity id: it names the course and the activity, "
            "as in '2:7'"
        )
    return int(course), int(cmid)


async def _find_activity(info: Info, course: int, cmid: int) -> Activity:
    listed = await info.context.loaders(MOODLE).activities.load(course)
    found = next((a for a in listed if a.id == cmid), None)
    if found is None:
        raise NotFound("moodle", f"Moodle shows no activity {cmid} in course {course}")
    return Activity.of(found)


async def _activity(info: Info, upstream_id: str) -> Node:
    return await _find_activity(info, *_which_activity(upstream_id))


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


@strawberry.type
class MoodleViewer:
    """`Viewer.moodle`."""

    moodle: MoodleUser | None = own_account_field(
        "moodle", MoodleUser, "Null when the request carries no Moodle token."
    )


@strawberry.type
class MoodlePersonAccount:
    """`Person.moodleUser`."""

    moodle_user: MoodleUser | None = person_account_field(
        "moodle", MoodleUser, "The Moodle account, where the caller may see it."
    )


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


@strawberry.enum(description="Why Moodle did not send a message to one recipient.")
class MessageRefusal(Enum):
    MESSAGING_DISABLED = "disabled"
    """The site has messaging switched off."""
    RECIPIENT_PREFERENCES = "usercantbemessaged"
    """The recipient blocks the caller, or takes messages from contacts (or course members)
    only: Moodle gives both the same answer."""
    NO_SUCH_USER = "touserdoesntexist"
    TOO_LONG = "errormessagetoolong"
    NOT_SENT = "messageundelivered"
    """Any other refusal; `reason` says Moodle's words."""


@strawberry.type(description="What became of the message to one recipient.")
class MessageDelivery:
    recipient_id: strawberry.ID = strawberry.field(description="The MoodleUser id it was for.")
    sent: bool
    message_id: strawberry.ID | None = strawberry.field(description="Moodle's message id.")
    conversation_id: strawberry.ID | None
    sent_at: datetime | None
    refusal: MessageRefusal | None = strawberry.field(description="Why it was not sent.")
    reason: str | None = strawberry.field(description="Moodle's own words, where not sent.")

    @classmethod
    def of(cls, recipient: int, outcome: moodle.MessageSent | UpstreamError) -> MessageDelivery:
        recipient_id = global_id(SOURCE, "MoodleUser", str(recipient))
        if isinstance(outcome, UpstreamError):
            codes = {r.value for r in MessageRefusal}
            code = outcome.upstream_code if outcome.upstream_code in codes else "messageundelivered"
            return cls(
                recipient_id=recipient_id,
                sent=False,
                message_id=None,
                conversation_id=None,
                sent_at=None,
                refusal=MessageRefusal(code),
                reason=outcome.message,
            )
        return cls(
            recipient_id=recipient_id,
            sent=True,
            message_id=strawberry.ID(str(outcome.message_id)),
            conversation_id=strawberry.ID(str(outcome.conversation_id))
            if outcome.conversation_id
            else None,
            sent_at=outcome.time_sent,
            refusal=None,
            reason=None,
        )


@strawberry.type(description="The messages `sendMessage` sent, one delivery per recipient.")
class SendMessagePayload:
    deliveries: list[MessageDelivery]
    sent_count: int


@strawberry.type
class MoodleMutation:
    @strawberry.mutation(
        description="Send a Moodle instant message to one or more users (MoodleUser ids) as the "
        "caller, each recipient once. Each delivery says whether Moodle sent it or why not "
        "(messaging switched off, the recipient's preferences, no such user). A write: never "
        "retried by the gateway; send an Idempotency-Key for an app's own retries."
    )
    async def send_message(
        self, info: Info, to: list[strawberry.ID], text: str
    ) -> SendMessagePayload:
        recipients = list(
            dict.fromkeys(GlobalId.expect_int(user, "moodle", "MoodleUser") for user in to)
        )
        if not recipients:
            raise BadRequest("moodle", "sendMessage needs at least one recipient")
        if not text.strip():
            raise BadRequest("moodle", "sendMessage needs a text")
        outcomes = await info.context.site(MOODLE).send_messages(recipients, text)
        refused = [o for o in outcomes if isinstance(o, Unauthenticated)]
        if refused:
            raise refused[0]
        deliveries = [MessageDelivery.of(u, o) for u, o in zip(recipients, outcomes, strict=True)]
        return SendMessagePayload(
            deliveries=deliveries, sent_count=sum(1 for d in deliveries if d.sent)
        )


async def _courses_of_person(
    root: PersonRoot, info: Info, first: int | None = None, after: str | None = None
) -> Connection[Course] | None:
    user = await info.context.people_loaders.of("moodle").load(root.email)
    found = await info.context.loaders(MOODLE).users_courses.load(user.id) if user else []
    return courses_connection(info, found, first, after)


@strawberry.type
class MoodlePersonFields:
    """This source's other fields of `Person`."""

    courses: Connection[Course] | None = strawberry.field(
        resolver=_courses_of_person, description="Moodle courses this person is enrolled in."
    )


TYPES = SourceTypes(
    account=MoodleUser,
    nodes={
        Course: by_loader(lambda c: c.loaders(MOODLE).courses, Course.of, number),
        MoodleUser: by_loader(lambda c: c.loaders(MOODLE).users, MoodleUser.of, number),
        Assignment: _assignment,
        Submission: _submission,
        Grade: _grade,
        Activity: _activity,
    },
)
"""The type of a person's account here, and how `Query.node` finds each type by its id (there
are no groups)."""
