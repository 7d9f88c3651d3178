"""`core_enrol_*`: a user's courses and a course's participants."""

from __future__ import annotations

import sqlite3
from typing import Any

from .access import course_row, grades_in, may_enter, may_see, role, shared_courses
from .courses import full_course
from .errors import INVALID_PARAMETER, moodle_exception, no_permission
from .site import Caller, Site
from .store import SITE_COURSE
from .users import named, picture

__all__ = [
    "ENROLLED_USERS_OPTIONS",
    "ROLE_IDS",
    "SORTABLE",
    "enrolled_users",
    "participant_json",
    "users_courses",
]


ENROLLED_USERS_OPTIONS = {
    "withcapability",
    "groupid",
    "onlyactive",
    "onlysuspended",
    "userfields",
    "limitfrom",
    "limitnumber",
    "sortby",
    "sortdirection",
}
SORTABLE = {"id": "u.id", "firstname": "u.firstname", "lastname": "u.lastname", "siteorder": "u.id"}
ROLE_IDS = {"editingteacher": 3, "teacher": 4, "student": 5}


def participant_json(site: Site, caller: Caller, row: sqlite3.Row, courseid: int) -> dict[str, Any]:
    """A user as `core_enrol_get_enrolled_users` lists them (fact 13): classmates see each
    other's e-mail; usernames are the administrator's and the user's own."""
    own = row["id"] == caller.id
    found = named(caller, row)
    if caller.is_admin or own:
        found["department"] = ""
    found |= {
        "firstaccess": row["firstaccess"],
        "lastaccess": row["lastaccess"],
        "lastcourseaccess": row["lastaccess"],
        **picture(row["id"]),
    }
    enrolment = site.store.role(courseid, row["id"])
    if enrolment is not None:
        found["roles"] = [
            {"roleid": ROLE_IDS[enrolment], "name": "", "shortname": enrolment, "sortorder": 0}
        ]
    if own:
        found["preferences"] = []
    found["enrolledcourses"] = [
        {"id": c["id"], "fullname": c["fullname"], "shortname": c["shortname"]}
        for c in shared_courses(site, caller, row["id"])
        if may_see(site, caller, c)
    ]
    return found


def users_courses(site: Site, caller: Caller, p: dict[str, Any]) -> Any:
    """Never an error: the user's courses the caller can see and view participants in,
    hidden courses left out even for an administrator (fact 12)."""
    rows = site.store.all(
        "SELECT c.*, (SELECT COUNT(*) FROM enrolments x WHERE x.courseid = c.id) AS users,"
        " (SELECT timecompleted FROM completions m WHERE m.courseid = c.id AND m.userid = e.userid) AS done"
        " FROM courses c JOIN enrolments e ON e.courseid = c.id WHERE e.userid = ? AND c.visible = 1"
        " ORDER BY c.fullname",
        (p["userid"],),
    )
    result = []
    for row in rows:
        if not (caller.is_admin or role(site, caller, row["id"]) is not None):
            continue
        tracked = bool(row["enablecompletion"])
        course = full_course(site, row)
        listed = {
            k: course[k]
            for k in [
                "id",
                "shortname",
                "fullname",
                "displayname",
                "idnumber",
                "visible",
                "summary",
                "summaryformat",
                "format",
                "courseimage",
                "showgrades",
                "lang",
                "enablecompletion",
            ]
        }
        if p["returnusercount"]:
            listed["enrolledusercount"] = row["users"]
        listed |= {
            "completionhascriteria": bool(row["criteria"]) and tracked,
            "completionusertracked": tracked,
            "category": row["categoryid"],
            "progress": (100 if row["done"] else 0) if tracked else None,
            "completed": bool(row["done"]) if tracked else None,
            "startdate": row["startdate"],
            "enddate": row["enddate"],
            "marker": 0,
            "lastaccess": None,
            "isfavourite": False,
            "hidden": False,
            "overviewfiles": [],
            "showactivitydates": False,
            "showcompletionconditions": True,
            "timemodified": course["timemodified"],
        }
        result.append(listed)
    return result


def enrolled_users(site: Site, caller: Caller, p: dict[str, Any]) -> Any:
    course = course_row(site, p["courseid"])
    if course["id"] == SITE_COURSE:
        if not caller.is_admin:
            raise no_permission("View participants")
    elif not may_enter(site, caller, course):
        raise moodle_exception(
            "errorcoursecontextnotvalid",
            f"You cannot execute functions in the course context (course id:{course['id']})."
            " The context error message was: Course or activity not accessible.",
            "webservice",
        )
    # Unknown option names are ignored (fact 14).
    options = {o["name"]: o["value"] for o in p["options"] if o["name"] in ENROLLED_USERS_OPTIONS}
    sort = SORTABLE.get(options.get("sortby", "id"))
    if sort is None:
        raise INVALID_PARAMETER
    direction = "DESC" if options.get("sortdirection", "ASC").upper() == "DESC" else "ASC"
    if options.get("withcapability") and not grades_in(site, caller, course["id"]):
        raise no_permission("Review permissions for others")
    if options.get("onlysuspended") in ("1", "true"):
        return []
    limit = int(options.get("limitnumber", 0) or 0)
    if course["id"] == SITE_COURSE:
        query, args = "SELECT u.* FROM users u", []
    else:
        query = "SELECT u.* FROM users u JOIN enrolments e ON e.userid = u.id WHERE e.courseid = ?"
        args = [course["id"]]
        if options.get("withcapability"):
            query += " AND e.role IN ('editingteacher', 'teacher')"
    rows = site.store.all(
        f"{query} ORDER BY {sort} {direction} LIMIT ? OFFSET ?",
        (*args, limit or -1, int(options.get("limitfrom", 0) or 0)),
    )
    users = [participant_json(site, caller, row, course["id"]) for row in rows]
    if options.get("userfields"):
        wanted = {f.strip() for f in options["userfields"].split(",")} | {"id"}
        users = [{k: v for k, v in u.items() if k in wanted} for u in users]
    return users
