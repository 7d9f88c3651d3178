"""Moodle (courses): REST web services at `webservice/rest/server.php`, with a wstoken."""

from .auth import MoodleAuth
from .client import MULTICALL, Call, Moodle
from .models import (
    Activity,
    ActivityCompletion,
    Assignment,
    CompletionCriterion,
    Course,
    CourseCompletion,
    Grade,
    MessageSent,
    OwnStatus,
    SiteInfo,
    Submission,
    User,
    UserFlags,
)
from .params import encode

__all__ = [
    "MULTICALL",
    "Activity",
    "ActivityCompletion",
    "Assignment",
    "Call",
    "CompletionCriterion",
    "Course",
    "CourseCompletion",
    "Grade",
    "MessageSent",
    "Moodle",
    "MoodleAuth",
    "OwnStatus",
    "SiteInfo",
    "Submission",
    "User",
    "UserFlags",
    "encode",
]
