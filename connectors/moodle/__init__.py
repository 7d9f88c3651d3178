"""Moodle (courses): REST web services at `webservice/rest/server.php`, with a wstoken."""

from .auth import MoodleAuth
from .client import MULTICALL, Call, Moodle
from .models import (
    Assignment,
    CompletionCriterion,
    Course,
    CourseCompletion,
    Grade,
    OwnStatus,
    SiteInfo,
    Submission,
    User,
)
from .params import encode

__all__ = [
    "MULTICALL",
    "Assignment",
    "Call",
    "CompletionCriterion",
    "Course",
    "CourseCompletion",
    "Grade",
    "Moodle",
    "MoodleAuth",
    "OwnStatus",
    "SiteInfo",
    "Submission",
    "User",
    "encode",
]
