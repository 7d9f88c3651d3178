"""What Moodle's web service functions answer, as the connector reads them.

Required and optional as a real Moodle 4.5.6 sends them (`tests/recordings/moodle-4.5.6`,
`functions.json`): a caller not enrolled gets a course without dates or `visible`; grade items
have no `assignment` (the parent says); fields a role does not get are absent, not null.
"""

from __future__ import annotations

from ..answers import Answer

__all__ = [
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
    "MultiCall",
    "MultiCallResponse",
    "Role",
    "SearchedCourses",
    "SiteInfo",
    "Status",
    "SubmissionItem",
    "Submissions",
    "SubmissionsOf",
    "User",
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
