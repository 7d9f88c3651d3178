"""What Moodle's web service functions answer, as the connector reads them.

Required and optional as a real Moodle 4.5.6 sends them (`tests/recordings/moodle-4.5.6`,
`functions.json`): a caller not enrolled gets a course without dates or `visible`; grade items
have no `assignment` (the parent says); fields a role does not get are absent, not null.
"""

from __future__ import annotations

from ..answers import Answer

__all__ = [
    "ActivityStatus",
    "ActivityStatuses",
    "Assignment",
    "AssignmentCourse",
    "Assignments",
    "Completion",
    "CompletionCriterion",
    "CompletionStatus",
    "Course",
    "Courses",
    "Feedback",
    "FunctionName",
    "GradeItem",
    "Grades",
    "GradesOf",
    "LastAttempt",
    "Module",
    "MultiCall",
    "MultiCallResponse",
    "Role",
    "SearchedCourses",
    "Section",
    "SentMessage",
    "SiteInfo",
    "Status",
    "SubmissionItem",
    "Submissions",
    "SubmissionsOf",
    "User",
    "UserFlag",
    "UserFlags",
    "UserFlagsOf",
    "Warning",
]


class Warning(Answer):
    item: str = ""
    itemid: int = 0
    warningcode: str = ""
    message: str = ""


class FunctionName(Answer):
    name: str


class SiteInfo(Answer):
    userid: int
    sitename: str = ""
    username: str = ""
    firstname: str = ""
    lastname: str = ""
    fullname: str = ""
    release: str = ""
    functions: list[FunctionName] = []


class Course(Answer):
    id: int
    shortname: str = ""
    fullname: str = ""
    summary: str | None = None
    categoryname: str | None = None
    categoryid: int | None = None
    category: int | None = None
    """`core_enrol_get_users_courses` names the category by this id only."""
    startdate: int | None = None
    enddate: int | None = None
    visible: int | None = None
    format: str | None = None


class Courses(Answer):
    courses: list[Course] = []
    warnings: list[Warning] = []


class SearchedCourses(Answer):
    total: int = 0
    courses: list[Course] = []


class Role(Answer):
    shortname: str


class User(Answer):
    id: int
    username: str | None = None
    firstname: str = ""
    lastname: str = ""
    fullname: str = ""
    email: str | None = None
    lastaccess: int | None = None
    roles: list[Role] = []


class Assignment(Answer):
    id: int
    course: int
    name: str = ""
    intro: str | None = None
    duedate: int | None = None
    cutoffdate: int | None = None
    grade: float = 0


class AssignmentCourse(Answer):
    id: int
    assignments: list[Assignment] = []


class Assignments(Answer):
    courses: list[AssignmentCourse] = []
    warnings: list[Warning] = []


class SubmissionItem(Answer):
    id: int
    userid: int
    status: str = "new"
    timemodified: int | None = None


class SubmissionsOf(Answer):
    assignmentid: int
    submissions: list[SubmissionItem] = []


class Submissions(Answer):
    assignments: list[SubmissionsOf] = []
    warnings: list[Warning] = []


class GradeItem(Answer):
    id: int
    userid: int
    grade: str | None = None
    """As text ("85.00000"); -1 is "not graded"."""
    grader: int | None = None
    timemodified: int | None = None


class GradesOf(Answer):
    assignmentid: int
    grades: list[GradeItem] = []


class Grades(Answer):
    assignments: list[GradesOf] = []
    warnings: list[Warning] = []


class LastAttempt(Answer):
    submission: SubmissionItem | None = None
    extensionduedate: int | None = None
    """The caller's own extension (0 or null: none)."""


class Feedback(Answer):
    grade: GradeItem | None = None


class Status(Answer):
    lastattempt: LastAttempt | None = None
    feedback: Feedback | None = None


class CompletionCriterion(Answer):
    title: str = ""
    status: str = ""
    complete: bool = False
    timecompleted: int | None = None


class CompletionStatus(Answer):
    completed: bool = False
    completions: list[CompletionCriterion] = []


class Completion(Answer):
    completionstatus: CompletionStatus


class MultiCallResponse(Answer):
    error: bool = False
    data: str | None = None
    exception: str | None = None


class MultiCall(Answer):
    responses: list[MultiCallResponse]


class ActivityStatus(Answer):
    """One activity in `core_completion_get_activities_completion_status`: no name (4.5.6
    sends none; `core_course_get_contents` names it)."""

    cmid: int
    modname: str = ""
    instance: int = 0
    state: int = 0
    timecompleted: int | None = None
    tracking: int = 0
    istrackeduser: bool | None = None
    """False for a user whose completion the course does not track (a teacher, someone not
    enrolled): every state is then 0."""


class ActivityStatuses(Answer):
    statuses: list[ActivityStatus] = []
    warnings: list[Warning] = []


class Module(Answer):
    """An activity in `core_course_get_contents`."""

    id: int
    name: str = ""
    modname: str = ""
    instance: int = 0
    visible: int = 1
    uservisible: bool | None = None
    url: str | None = None
    completion: int = 0
    """0 none, 1 manual, 2 automatic."""


class Section(Answer):
    id: int
    name: str = ""
    section: int = 0
    visible: int = 1
    modules: list[Module] = []


class UserFlag(Answer):
    userid: int
    locked: int = 0
    extensionduedate: int = 0
    workflowstate: str | None = None
    allocatedmarker: int = 0


class UserFlagsOf(Answer):
    assignmentid: int
    userflags: list[UserFlag] = []


class UserFlags(Answer):
    assignments: list[UserFlagsOf] = []
    warnings: list[Warning] = []


class SentMessage(Answer):
    """One message of `core_message_send_instant_messages`: `msgid` -1 and an
    `errormessage` where Moodle did not send it."""

    msgid: int
    errormessage: str | None = None
    timecreated: int | None = None
    conversationid: int | None = None
