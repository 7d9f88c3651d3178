"""The web service functions the site has, each with its parameters as Moodle declares them."""

from __future__ import annotations

from . import assign, completion, courses, enrol, messages, mobile, users, webservice
from .params import Bool, Int, ListOf, Str, Struct
from .services import MULTICALL
from .site import Function

__all__ = ["FUNCTIONS"]


FUNCTIONS: dict[str, Function] = {
    "core_webservice_get_site_info": Function(
        Struct({"serviceshortnames": ListOf(Str(), default=[])}), webservice.site_info
    ),
    "core_course_get_courses_by_field": Function(
        Struct({"field": Str(default=""), "value": Str(default="")}), courses.courses_by_field
    ),
    "core_course_search_courses": Function(
        Struct(
            {
                "criterianame": Str(),
                "criteriavalue": Str(),
                "page": Int(default=0),
                "perpage": Int(default=0),
                "requiredcapabilities": ListOf(Str(), default=[]),
                "limittoenrolled": Bool(default=False),
                "onlywithcompletion": Bool(default=False),
            }
        ),
        courses.search_courses,
    ),
    "core_enrol_get_users_courses": Function(
        Struct({"userid": Int(), "returnusercount": Bool(default=True)}), enrol.users_courses
    ),
    "core_enrol_get_enrolled_users": Function(
        Struct(
            {
                "courseid": Int(),
                "options": ListOf(Struct({"name": Str(), "value": Str()}), default=[]),
            }
        ),
        enrol.enrolled_users,
    ),
    "core_user_get_users_by_field": Function(
        Struct({"field": Str(), "values": ListOf(Str())}), users.users_by_field
    ),
    "mod_assign_get_assignments": Function(
        Struct(
            {
                "courseids": ListOf(Int(), default=[]),
                "capabilities": ListOf(Str(), default=[]),
                "includenotenrolledcourses": Bool(default=False),
            }
        ),
        assign.assignments,
    ),
    "mod_assign_get_submissions": Function(
        Struct(
            {
                "assignmentids": ListOf(Int()),
                "status": Str(default=""),
                "since": Int(default=0),
                "before": Int(default=0),
            }
        ),
        assign.submissions,
    ),
    "mod_assign_get_grades": Function(
        Struct({"assignmentids": ListOf(Int()), "since": Int(default=0)}), assign.grades
    ),
    "mod_assign_get_submission_status": Function(
        Struct({"assignid": Int(), "userid": Int(default=0), "groupid": Int(default=0)}),
        assign.submission_status,
    ),
    "core_completion_get_course_completion_status": Function(
        Struct({"courseid": Int(), "userid": Int()}), completion.course_completion
    ),
    "core_course_get_contents": Function(
        Struct(
            {
                "courseid": Int(),
                "options": ListOf(Struct({"name": Str(), "value": Str()}), default=[]),
            }
        ),
        courses.course_contents,
    ),
    "core_completion_get_activities_completion_status": Function(
        Struct({"courseid": Int(), "userid": Int()}), completion.activities_completion
    ),
    "mod_assign_get_user_flags": Function(
        Struct({"assignmentids": ListOf(Int())}), assign.user_flags
    ),
    "core_message_send_instant_messages": Function(
        Struct(
            {
                "messages": ListOf(
                    Struct(
                        {
                            "touserid": Int(),
                            "text": Str(),
                            "textformat": Int(default=1),
                            "clientmsgid": Str(default=""),
                        }
                    ),
                    default=[],
                )
            }
        ),
        messages.send_messages,
    ),
    MULTICALL: Function(
        Struct(
            {
                "requests": ListOf(
                    Struct(
                        {
                            "function": Str(),
                            "arguments": Str(default="{}"),
                            "settingraw": Bool(default=False),
                            "settingfilter": Bool(default=False),
                            "settingfileurl": Bool(default=True),
                            "settinglang": Str(default=""),
                        }
                    )
                )
            }
        ),
        mobile.call_many,
    ),
}
