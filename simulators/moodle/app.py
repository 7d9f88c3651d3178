"""A Moodle 4.x site's web services: `webservice/rest/server.php` and `login/token.php`.

Reproduced as a client sees them: dispatch on `wsfunction`, XML unless `moodlewsrestformat=json`,
failures as HTTP 200 exception documents, PHP-bracketed parameters validated strictly, tokens per
user and per external service, capability checks (students see their own grades only, teachers
their class), warnings for inaccessible items in batch functions, and the mobile service's
`tool_mobile_call_external_functions`, which stops at the first failing call. Activities,
their completion, assignment user flags and instant messages follow the real 4.5.6 of
`tests/recordings/moodle-4.5.6/issue27.jsonl`.
"""

from __future__ import annotations

import asyncio
import html
import json
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..counting import CountRequests, RequestCounter
from ..world import World, build_world
from .params import Bool, Int, InvalidParameter, ListOf, Str, Struct, parse_php_form
from .store import GUEST, SITE_COURSE, MoodleStore

__all__ = ["MOBILE_SERVICE", "create_app"]

MOBILE_SERVICE = "moodle_mobile_app"
CUSTOM_SERVICE = "legacygraph"
"""A custom external service with every function but the mobile multi-call."""
MULTICALL = "tool_mobile_call_external_functions"
RESERVED = {
    "wstoken",
    "wsfunction",
    "moodlewsrestformat",
    "moodlewssettingfilter",
    "moodlewssettingfileurl",
    "moodlewssettingraw",
    "moodlewssettinglang",
}


SITE_URL = "https://moodle.invalid"
OUTSIDE_THE_SERVICE = {
    "core_user_create_users",
    "core_user_delete_users",
    "core_course_create_courses",
    "core_role_assign_roles",
}
"""Functions every Moodle has that no token of the mobile service may call (fact 4)."""
RELEASE, VERSION = "4.5.6 (Build: 20250811)", "2024100706"
INSTALLED_LANGUAGES = {"en"}


class MoodleError(Exception):
    """A Moodle exception as the web service layer sends it. `exception` is the PHP class name:
    namespaced for the core exceptions of 4.x, plain for the `dml_*` and web service ones.
    `module` is the string component that `moreinfourl` names inside a multi-call."""

    def __init__(
        self, exception: str, errorcode: str, message: str, module: str = "moodle"
    ) -> None:
        self.exception = exception
        self.errorcode = errorcode
        self.message = message
        self.module = module


class PhpError(Exception):
    """A PHP `Error` (not an exception Moodle threw on purpose): no errorcode when alone."""


INVALID_PARAMETER = MoodleError(
    "core\\exception\\invalid_parameter_exception",
    "invalidparameter",
    "Invalid parameter value detected",
    "debug",
)
ACCESS_EXCEPTION = MoodleError(
    "webservice_access_exception", "accessexception", "Access control exception", "webservice"
)
NOT_ACCESSIBLE = MoodleError(
    "core\\exception\\require_login_exception",
    "requireloginerror",
    "Course or activity not accessible.",
)


def no_permission(what: str) -> MoodleError:
    return MoodleError(
        "core\\exception\\required_capability_exception",
        "nopermissions",
        f"Sorry, but you do not currently have permissions to do that ({what}).",
    )


def missing_record(table: str) -> MoodleError:
    return MoodleError(
        "dml_missing_record_exception",
        "invalidrecord",
        f"Can't find data record in database table {table}.",
    )


def moodle_exception(errorcode: str, message: str, module: str = "moodle") -> MoodleError:
    return MoodleError("core\\exception\\moodle_exception", errorcode, message, module)


def warning(item: str, itemid: int, code: str, message: str) -> dict[str, Any]:
    return {"item": item, "itemid": itemid, "warningcode": code, "message": message}


PUBLIC_COURSE_FIELDS = [
    "id",
    "fullname",
    "displayname",
    "shortname",
    "courseimage",
    "categoryid",
    "categoryname",
    "sortorder",
    "summary",
    "summaryformat",
    "summaryfiles",
    "overviewfiles",
    "showactivitydates",
    "showcompletionconditions",
    "contacts",
    "enrollmentmethods",
]
"""What anyone may read of a course, and all that `core_course_search_courses` sends."""
ENROLLED_COURSE_FIELDS = [
    "format",
    "showgrades",
    "newsitems",
    "startdate",
    "enddate",
    "maxbytes",
    "showreports",
    "visible",
    "groupmode",
    "groupmodeforce",
    "defaultgroupingid",
    "enablecompletion",
    "completionnotify",
    "lang",
    "theme",
    "marker",
    "courseformatoptions",
    "filters",
]
"""What participants (and administrators) read on top of the public fields."""
EDITOR_COURSE_FIELDS = [
    "idnumber",
    "timecreated",
    "timemodified",
    "cacherev",
    "calendartype",
    "legacyfiles",
    "requested",
]
"""What those who may update the course (editing teachers, administrators) read on top."""
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
GRADERS = ("editingteacher", "teacher")
"""Roles with `mod/assign:grade` and `report/completion:view` in a course."""


@dataclass(frozen=True)
class Caller:
    user: sqlite3.Row
    service: str

    @property
    def id(self) -> int:
        return int(self.user["id"])

    @property
    def is_admin(self) -> bool:
        return bool(self.user["is_admin"])


@dataclass(frozen=True)
class Function:
    params: Struct
    run: Callable[[Caller, dict[str, Any]], Any]


def create_app(
    world: World | None = None,
    *,
    database: str = ":memory:",
    multicall: bool = True,
    latency_s: float = 0.0,
) -> Starlette:
    """The simulator app. `multicall=False` plays a site older than Moodle 3.7, which has no
    `tool_mobile_call_external_functions`; `latency_s` delays every answer, like a distant site.
    `app.state.counter` counts HTTP requests, `app.state.calls` every function executed."""
    world = world or build_world()
    store = MoodleStore(world, database)
    calls = RequestCounter()

    # Who may do what -------------------------------------------------------------------------

    def role(caller: Caller, courseid: int) -> str | None:
        """The caller's enrolment in the course (an administrator is enrolled nowhere)."""
        return store.role(courseid, caller.id)

    def grades_in(caller: Caller, courseid: int) -> bool:
        return caller.is_admin or role(caller, courseid) in GRADERS

    def sees_hidden(caller: Caller, courseid: int) -> bool:
        return caller.is_admin or role(caller, courseid) == "editingteacher"

    def may_see(caller: Caller, course: sqlite3.Row) -> bool:
        return bool(course["visible"]) or sees_hidden(caller, course["id"])

    def may_enter(caller: Caller, course: sqlite3.Row) -> bool:
        """`validate_context` on the course: participants (of a course they may see) and
        administrators."""
        if caller.is_admin:
            return True
        return role(caller, course["id"]) is not None and may_see(caller, course)

    def shared_courses(caller: Caller, userid: int) -> list[sqlite3.Row]:
        return store.all(
            "SELECT c.* FROM courses c JOIN enrolments mine ON mine.courseid = c.id"
            " JOIN enrolments theirs ON theirs.courseid = c.id"
            " WHERE mine.userid = ? AND theirs.userid = ? ORDER BY c.fullname",
            (caller.id, userid),
        )

    def is_contact(userid: int) -> bool:
        return (
            store.one(
                "SELECT 1 FROM enrolments e JOIN courses c ON c.id = e.courseid"
                " WHERE e.userid = ? AND e.role = 'editingteacher' AND c.visible = 1",
                (userid,),
            )
            is not None
        )

    def course_row(courseid: int) -> sqlite3.Row:
        """A course, or Moodle's answer for a missing one (`MUST_EXIST` in its code)."""
        row = store.one("SELECT * FROM courses WHERE id = ?", (courseid,))
        if row is None:
            raise missing_record("course")
        return row

    # JSON shapes -------------------------------------------------------------------------------

    def full_course(row: sqlite3.Row) -> dict[str, Any]:
        site = row["id"] == SITE_COURSE
        teachers = store.all(
            "SELECT u.id, u.firstname, u.lastname FROM enrolments e JOIN users u ON u.id = e.userid"
            " WHERE e.courseid = ? AND e.role = 'editingteacher' ORDER BY u.id",
            (row["id"],),
        )
        return {
            "id": row["id"],
            "fullname": row["fullname"],
            "displayname": row["fullname"],
            "shortname": row["shortname"],
            "courseimage": f"{SITE_URL}/pluginfile.php/{row['id']}/course/generated/course.svg",
            "categoryid": row["categoryid"],
            "categoryname": row["categoryname"],
            "sortorder": 1 if site else 10000 + row["id"],
            "summary": row["summary"],
            "summaryformat": 1,
            "summaryfiles": [],
            "overviewfiles": [],
            "showactivitydates": False,
            "showcompletionconditions": None if site else True,
            "contacts": [
                {"id": t["id"], "fullname": f"{t['firstname']} {t['lastname']}"} for t in teachers
            ],
            "enrollmentmethods": [] if site else ["manual"],
            "idnumber": "",
            "format": "site" if site else "topics",
            "showgrades": 1,
            "newsitems": 3 if site else 5,
            "startdate": row["startdate"],
            "enddate": row["enddate"],
            "maxbytes": 0,
            "showreports": 0,
            "visible": row["visible"],
            "groupmode": 0,
            "groupmodeforce": 0,
            "defaultgroupingid": 0,
            "enablecompletion": row["enablecompletion"],
            "completionnotify": 0,
            "lang": "",
            "theme": "",
            "marker": 0,
            "courseformatoptions": [],
            "filters": [],
            "timecreated": max(row["startdate"] - 86400 * 30, 0),
            "timemodified": max(row["startdate"] - 86400, 0),
            "cacherev": max(row["startdate"] - 86400, 0),
            "calendartype": "",
            "legacyfiles": 0,
            "requested": 0,
        }

    def course_json(caller: Caller, row: sqlite3.Row) -> dict[str, Any]:
        """The fields of a course lookup, by what the caller is in the course (fact 9)."""
        fields = list(PUBLIC_COURSE_FIELDS)
        if caller.is_admin or role(caller, row["id"]) is not None or row["id"] == SITE_COURSE:
            fields += ENROLLED_COURSE_FIELDS
        if caller.is_admin or role(caller, row["id"]) == "editingteacher":
            fields += EDITOR_COURSE_FIELDS
        course = full_course(row)
        if row["id"] == SITE_COURSE:
            fields = [f for f in fields if f not in ("courseformatoptions",)]
        return {name: course[name] for name in fields if name in course}

    def picture(userid: int) -> dict[str, str]:
        base = f"{SITE_URL}/theme/image.php/boost/core/1/u"
        return {"profileimageurlsmall": f"{base}/f2?u={userid}", "profileimageurl": f"{base}/f1"}

    def user_json(caller: Caller, row: sqlite3.Row) -> dict[str, Any] | None:
        """A user as `core_user_get_users_by_field` shows them to the caller (fact 15), or None
        where the caller may not see them."""
        own, shared = row["id"] == caller.id, bool(shared_courses(caller, row["id"]))
        if not (caller.is_admin or own or shared):
            if not is_contact(row["id"]):
                return None
            return {
                "id": row["id"],
                "firstname": row["firstname"],
                "lastname": row["lastname"],
                "fullname": f"{row['firstname']} {row['lastname']}",
                "firstaccess": row["firstaccess"],
                "lastaccess": row["lastaccess"],
                "suspended": bool(row["suspended"]),
                "timezone": "99",
                **picture(row["id"]),
            }
        found = named(caller, row)
        if caller.is_admin or own:
            found |= {"department": "", "auth": "manual", "confirmed": True, "lang": "en"}
        found |= {
            "firstaccess": row["firstaccess"],
            "lastaccess": row["lastaccess"],
            "suspended": bool(row["suspended"]),
            "theme": "",
            "timezone": "99",
            "description": "",
            "descriptionformat": 1,
            **picture(row["id"]),
        }
        return found

    def named(caller: Caller, row: sqlite3.Row) -> dict[str, Any]:
        """A user's id, names and e-mail; the username only for administrators and the user."""
        found: dict[str, Any] = {"id": row["id"]}
        if caller.is_admin or row["id"] == caller.id:
            found["username"] = row["username"]
        return found | {
            "firstname": row["firstname"],
            "lastname": row["lastname"],
            "fullname": f"{row['firstname']} {row['lastname']}",
            "email": row["email"],
        }

    def participant_json(caller: Caller, row: sqlite3.Row, courseid: int) -> dict[str, Any]:
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
        enrolment = store.role(courseid, row["id"])
        if enrolment is not None:
            found["roles"] = [
                {"roleid": ROLE_IDS[enrolment], "name": "", "shortname": enrolment, "sortorder": 0}
            ]
        if own:
            found["preferences"] = []
        found["enrolledcourses"] = [
            {"id": c["id"], "fullname": c["fullname"], "shortname": c["shortname"]}
            for c in shared_courses(caller, row["id"])
            if may_see(caller, c)
        ]
        return found

    # Functions ---------------------------------------------------------------------------------

    def site_info(caller: Caller, _: dict[str, Any]) -> Any:
        user = caller.user
        return {
            "sitename": "Legacygraph Community School",
            "username": user["username"],
            "firstname": user["firstname"],
            "lastname": user["lastname"],
            "fullname": f"{user['firstname']} {user['lastname']}",
            "lang": "en",
            "userid": caller.id,
            "siteurl": SITE_URL,
            "userpictureurl": f"{SITE_URL}/theme/image.php/boost/core/1/u/f1",
            "functions": [
                {"name": name, "version": VERSION} for name in service_functions(caller.service)
            ],
            "downloadfiles": 1,
            "uploadfiles": 1,
            "release": RELEASE,
            "version": VERSION,
            "mobilecssurl": "",
            "advancedfeatures": [{"name": "enablecompletion", "value": 1}],
            "usercanmanageownfiles": True,
            "userquota": 104857600,
            "usermaxuploadfilesize": 2097152,
            "userhomepage": 1,
            "userprivateaccesskey": store.token_for(caller.id, "private")[:32],
            "siteid": SITE_COURSE,
            "sitecalendartype": "gregorian",
            "usercalendartype": "gregorian",
            "userissiteadmin": caller.is_admin,
            "theme": "boost",
            "limitconcurrentlogins": 0,
            "policyagreed": 0,
        }

    def courses_by_field(caller: Caller, p: dict[str, Any]) -> Any:
        field, value = p["field"], p["value"]
        if field not in ("", "id", "ids", "shortname", "idnumber", "category", "sectionid"):
            raise INVALID_PARAMETER
        warnings: list[dict[str, Any]] = []
        if field == "ids":
            parts = [v.strip() for v in value.split(",")]
            if not all(part.isdigit() for part in parts):
                raise MoodleError(
                    "dml_read_exception", "dmlreadexception", "Error reading from database"
                )
            rows = []
            for courseid in map(int, parts):  # in the order given (fact 10)
                row = store.one("SELECT * FROM courses WHERE id = ?", (courseid,))
                if row is None:  # 4.5.6 validates a context that is not there (fact 6)
                    raise PhpError('Attempt to assign property "contextvalidated" on null')
                if may_see(caller, row):
                    rows.append(row)
                else:
                    warnings.append(
                        warning("course", courseid, "1", "No access rights in course context")
                    )
        elif field == "":
            rows = store.all("SELECT * FROM courses ORDER BY id")
        else:
            column = {"id": "id", "shortname": "shortname", "category": "categoryid"}.get(field)
            if column is None or (field in ("id", "category") and not value.isdigit()):
                rows = []
            else:
                rows = store.all(f"SELECT * FROM courses WHERE {column} = ? ORDER BY id", (value,))
            # One course by id is not shown hidden, even to its students (fact 8).
            rows = [r for r in rows if r["visible"] or caller.is_admin]
        return {
            "courses": [course_json(caller, r) for r in rows if may_see(caller, r)],
            "warnings": warnings,
        }

    def search_courses(caller: Caller, p: dict[str, Any]) -> Any:
        if p["criterianame"] not in ("search", "modulelist", "blocklist", "tagid"):
            raise INVALID_PARAMETER
        if p["criterianame"] != "search":
            if not caller.is_admin:
                raise no_permission("Change site configuration")
            return {"total": 0, "courses": [], "warnings": []}
        needle = f"%{p['criteriavalue']}%"
        rows = [
            r
            for r in store.all(
                "SELECT * FROM courses WHERE id != ? AND (fullname LIKE ? OR shortname LIKE ?"
                " OR summary LIKE ?) ORDER BY fullname",
                (SITE_COURSE, needle, needle, needle),
            )
            if (r["visible"] or caller.is_admin)
            and (not p["limittoenrolled"] or role(caller, r["id"]) is not None)
            and (not p["onlywithcompletion"] or r["enablecompletion"])
            and (
                not p["requiredcapabilities"]
                or caller.is_admin
                or role(caller, r["id"]) == "editingteacher"
            )
        ]
        page, perpage = p["page"], p["perpage"]
        window = rows[page * perpage : (page + 1) * perpage] if perpage else rows
        public = [{k: full_course(r)[k] for k in PUBLIC_COURSE_FIELDS} for r in window]
        return {"total": len(rows), "courses": public, "warnings": []}

    def users_courses(caller: Caller, p: dict[str, Any]) -> Any:
        """Never an error: the user's courses the caller can see and view participants in,
        hidden courses left out even for an administrator (fact 12)."""
        rows = store.all(
            "SELECT c.*, (SELECT COUNT(*) FROM enrolments x WHERE x.courseid = c.id) AS users,"
            " (SELECT timecompleted FROM completions m WHERE m.courseid = c.id AND m.userid = e.userid) AS done"
            " FROM courses c JOIN enrolments e ON e.courseid = c.id WHERE e.userid = ? AND c.visible = 1"
            " ORDER BY c.fullname",
            (p["userid"],),
        )
        result = []
        for row in rows:
            if not (caller.is_admin or role(caller, row["id"]) is not None):
                continue
            tracked = bool(row["enablecompletion"])
            course = full_course(row)
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

    def enrolled_users(caller: Caller, p: dict[str, Any]) -> Any:
        course = course_row(p["courseid"])
        if course["id"] == SITE_COURSE:
            if not caller.is_admin:
                raise no_permission("View participants")
        elif not may_enter(caller, course):
            raise moodle_exception(
                "errorcoursecontextnotvalid",
                f"You cannot execute functions in the course context (course id:{course['id']})."
                " The context error message was: Course or activity not accessible.",
                "webservice",
            )
        # Unknown option names are ignored (fact 14).
        options = {
            o["name"]: o["value"] for o in p["options"] if o["name"] in ENROLLED_USERS_OPTIONS
        }
        sort = SORTABLE.get(options.get("sortby", "id"))
        if sort is None:
            raise INVALID_PARAMETER
        direction = "DESC" if options.get("sortdirection", "ASC").upper() == "DESC" else "ASC"
        if options.get("withcapability") and not grades_in(caller, course["id"]):
            raise no_permission("Review permissions for others")
        if options.get("onlysuspended") in ("1", "true"):
            return []
        limit = int(options.get("limitnumber", 0) or 0)
        if course["id"] == SITE_COURSE:
            query, args = "SELECT u.* FROM users u", []
        else:
            query = (
                "SELECT u.* FROM users u JOIN enrolments e ON e.userid = u.id WHERE e.courseid = ?"
            )
            args = [course["id"]]
            if options.get("withcapability"):
                query += " AND e.role IN ('editingteacher', 'teacher')"
        rows = store.all(
            f"{query} ORDER BY {sort} {direction} LIMIT ? OFFSET ?",
            (*args, limit or -1, int(options.get("limitfrom", 0) or 0)),
        )
        users = [participant_json(caller, row, course["id"]) for row in rows]
        if options.get("userfields"):
            wanted = {f.strip() for f in options["userfields"].split(",")} | {"id"}
            users = [{k: v for k, v in u.items() if k in wanted} for u in users]
        return users

    def users_by_field(caller: Caller, p: dict[str, Any]) -> Any:
        column = {"id": "id", "username": "username", "email": "email", "idnumber": None}.get(
            p["field"], ""
        )
        if column == "":
            raise MoodleError(
                "core\\exception\\coding_exception",
                "codingerror",
                "Coding error detected, it must be fixed by a programmer: invalid field parameter",
                "debug",
            )
        if column == "id" and not all(str(v).isdigit() for v in p["values"]):
            raise INVALID_PARAMETER
        if column is None or not p["values"]:
            return []
        rows = store.all(
            f"SELECT * FROM users WHERE {column} IN ({','.join('?' * len(p['values']))})"
            " AND id != ? ORDER BY id",
            (*p["values"], GUEST),
        )
        found = []
        # Users the caller may not see are left out silently, and so are those whose searched
        # field the caller may not see (fact 15).
        for row in rows:
            shown = user_json(caller, row)
            if shown is not None and (column == "id" or column in shown):
                found.append(shown)
        return found

    def assignment_json(row: sqlite3.Row) -> dict[str, Any]:
        return {
            "id": row["id"],
            "cmid": row["cmid"],
            "course": row["course"],
            "name": row["name"],
            "nosubmissions": 0,
            "submissiondrafts": 1,
            "sendnotifications": 0,
            "sendlatenotifications": 0,
            "sendstudentnotifications": 1,
            "duedate": row["duedate"],
            "allowsubmissionsfromdate": row["duedate"] - 86400 * 14,
            "grade": row["grade"],
            "timemodified": row["duedate"] - 86400 * 20,
            "completionsubmit": 0,
            "cutoffdate": row["cutoffdate"] or 0,
            "gradingduedate": row["duedate"] + 86400 * 7,
            "teamsubmission": 0,
            "requireallteammemberssubmit": 0,
            "teamsubmissiongroupingid": 0,
            "blindmarking": 0,
            "hidegrader": 0,
            "revealidentities": 0,
            "attemptreopenmethod": "untilpass",
            "maxattempts": -1,
            "markingworkflow": 0,
            "markingallocation": 0,
            "markinganonymous": 0,
            "requiresubmissionstatement": 0,
            "preventsubmissionnotingroup": 0,
            "configs": [],
            "intro": row["intro"],
            "introformat": 1,
            "introfiles": [],
            "introattachments": [],
            "timelimit": 0,
            "submissionattachments": 0,
        }

    def assignments(caller: Caller, p: dict[str, Any]) -> Any:
        """Fact 16: the caller's enrolled, visible courses only, unless an administrator asks
        with `includenotenrolledcourses`."""
        mine = [
            r["id"]
            for r in store.all(
                "SELECT c.id FROM courses c JOIN enrolments e ON e.courseid = c.id"
                " WHERE e.userid = ? AND (c.visible = 1 OR e.role = 'editingteacher')"
                " ORDER BY c.id",
                (caller.id,),
            )
        ]
        courses, warnings = [], []
        for courseid in p["courseids"] or mine:
            course = store.one("SELECT * FROM courses WHERE id = ?", (courseid,))
            if courseid not in mine and not p["includenotenrolledcourses"]:
                warnings.append(
                    warning(
                        "course",
                        courseid,
                        "2",
                        "User is not enrolled or does not have requested capability",
                    )
                )
                continue
            if course is None or not may_enter(caller, course):
                warnings.append(
                    warning("course", courseid, "1", "No access rights in course context")
                )
                continue
            if p["capabilities"] and not grades_in(caller, courseid):
                continue  # left out without a warning
            rows = store.all("SELECT * FROM assignments WHERE course = ? ORDER BY id", (courseid,))
            courses.append(
                {
                    "id": courseid,
                    "fullname": course["fullname"],
                    "shortname": course["shortname"],
                    "timemodified": course["startdate"],
                    "assignments": [assignment_json(r) for r in rows],
                }
            )
        return {"courses": courses, "warnings": warnings}

    def graded_assignments(
        caller: Caller, ids: list[int], *, unknown: str | None
    ) -> tuple[list[sqlite3.Row], list[dict[str, Any]]]:
        """The assignments the caller grades; a warning "1" for the others, and for unknown
        ids a warning "3" (grades) or nothing at all (submissions: `unknown` None)."""
        allowed, warnings = [], []
        for assignment_id in ids:
            row = store.one("SELECT * FROM assignments WHERE id = ?", (assignment_id,))
            if row is None:
                if unknown is not None:
                    warnings.append(warning("assignment", assignment_id, "3", unknown))
            elif grades_in(caller, row["course"]):
                allowed.append(row)
            else:
                warnings.append(
                    warning("assignment", assignment_id, "1", "No access rights in module context")
                )
        return allowed, warnings

    def submission_json(s: sqlite3.Row, graded: bool) -> dict[str, Any]:
        return {
            "id": s["id"],
            "userid": s["userid"],
            "attemptnumber": 0,
            "timecreated": s["timemodified"] - 3600,
            "timemodified": s["timemodified"],
            "timestarted": None,
            "status": s["status"],
            "groupid": 0,
            "latest": 1,
            "plugins": [
                {
                    "type": "onlinetext",
                    "name": "Online text",
                    "fileareas": [{"area": "submissions_onlinetext", "files": []}],
                    "editorfields": [
                        {
                            "name": "onlinetext",
                            "description": "Online text submissions",
                            "text": "",
                            "format": 1,
                        }
                    ],
                },
                {"type": "comments", "name": "Submission comments"},
            ],
            "gradingstatus": "graded" if graded else "notgraded",
        }

    def is_graded(assignment: int, userid: int) -> bool:
        return (
            store.one(
                "SELECT 1 FROM grades WHERE assignment = ? AND userid = ?", (assignment, userid)
            )
            is not None
        )

    def submissions(caller: Caller, p: dict[str, Any]) -> Any:
        """Fact 18."""
        allowed, warnings = graded_assignments(caller, p["assignmentids"], unknown=None)
        result = []
        for row in allowed:
            subs = [
                s
                for s in store.all(
                    "SELECT * FROM submissions WHERE assignment = ? ORDER BY id", (row["id"],)
                )
                if (not p["status"] or s["status"] == p["status"])
                and s["timemodified"] >= p["since"]
                and (not p["before"] or s["timemodified"] <= p["before"])
            ]
            if not subs:
                warnings.append(warning("module", row["id"], "3", "No submissions found"))
            result.append(
                {
                    "assignmentid": row["id"],
                    "submissions": [
                        submission_json(s, is_graded(row["id"], s["userid"])) for s in subs
                    ],
                }
            )
        return {"assignments": result, "warnings": warnings}

    def grade_json(g: sqlite3.Row, *, with_assignment: bool = False) -> dict[str, Any]:
        found: dict[str, Any] = {"id": g["id"]}
        if with_assignment:  # `mod_assign_get_submission_status` fills it; `get_grades` never
            found["assignment"] = g["assignment"]
        return found | {
            "userid": g["userid"],
            "attemptnumber": 0,
            "timecreated": g["timemodified"] - 600,
            "timemodified": g["timemodified"],
            "grader": g["grader"],
            "grade": f"{g['grade']:.5f}",
        }

    def grades(caller: Caller, p: dict[str, Any]) -> Any:
        """Fact 17."""
        allowed, warnings = graded_assignments(
            caller, p["assignmentids"], unknown="No grades found"
        )
        result = []
        for row in allowed:
            found = store.all(
                "SELECT * FROM grades WHERE assignment = ? AND timemodified >= ? ORDER BY id",
                (row["id"], p["since"]),
            )
            if found:
                result.append({"assignmentid": row["id"], "grades": [grade_json(g) for g in found]})
            else:
                warnings.append(warning("assignment", row["id"], "3", "No grades found"))
        return {"assignments": result, "warnings": warnings}

    def submission_status(caller: Caller, p: dict[str, Any]) -> Any:
        """Fact 19, with its side effect: a `new` submission for the user reported on."""
        row = store.one("SELECT * FROM assignments WHERE id = ?", (p["assignid"],))
        if row is None:
            raise missing_record("assign")
        userid = p["userid"] or caller.id
        if store.one("SELECT 1 FROM users WHERE id = ?", (userid,)) is None:
            raise MoodleError("dml_missing_record_exception", "invaliduser", "Invalid user")
        if not may_enter(caller, course_row(row["course"])):
            raise NOT_ACCESSIBLE
        grader = grades_in(caller, row["course"])
        if userid != caller.id and not grader:
            raise MoodleError(
                "core\\exception\\required_capability_exception",
                "nopermission",
                "error/nopermission",
            )
        # Moodle reads the submission before it adds the `new` row: the first answer has an
        # attempt without a submission, the next one names the row (recorded, issue25.jsonl).
        had = store.one(
            "SELECT 1 FROM submissions WHERE assignment = ? AND userid = ?", (row["id"], userid)
        )
        store.add_new_submission(row["id"], userid, int(time.time()))
        result: dict[str, Any] = {}
        if grader:
            count = store.scalar(
                "SELECT COUNT(*) FROM enrolments WHERE courseid = ? AND role = 'student'",
                (row["course"],),
            )
            submitted = store.scalar(
                "SELECT COUNT(*) FROM submissions WHERE assignment = ? AND status = 'submitted'",
                (row["id"],),
            )
            result["gradingsummary"] = {
                "participantcount": count,
                "submissiondraftscount": 0,
                "submissionsenabled": True,
                "submissionssubmittedcount": submitted,
                "submissionsneedgradingcount": submitted,
                "warnofungroupedusers": "",
            }
        if not grader or p["userid"]:
            sub = store.one(
                "SELECT * FROM submissions WHERE assignment = ? AND userid = ?",
                (row["id"], userid),
            )
            assert sub is not None  # added above where there was none
            graded = is_graded(row["id"], userid)
            attempt = {"submission": submission_json(sub, graded) | {"assignment": row["id"]}}
            result["lastattempt"] = (attempt if had else {}) | {
                "submissiongroupmemberswhoneedtosubmit": [],
                "submissionsenabled": True,
                "locked": False,
                "graded": graded,
                "canedit": userid == caller.id,
                "caneditowner": userid == caller.id,
                "cansubmit": False,
                "extensionduedate": extension_of(row["id"], userid),
                "timelimit": 0,
                "blindmarking": False,
                "gradingstatus": "graded" if graded else "notgraded",
                "usergroups": [],
            }
            grade = store.one(
                "SELECT * FROM grades WHERE assignment = ? AND userid = ?", (row["id"], userid)
            )
            if grade is not None:
                result["feedback"] = {
                    "grade": grade_json(grade, with_assignment=True),
                    "gradefordisplay": f"{grade['grade']:.2f}&nbsp;/&nbsp;{row['grade']:.2f}",
                    "gradeddate": grade["timemodified"],
                    "plugins": [],
                }
        result["assignmentdata"] = {"attachments": {"intro": []}}
        result["warnings"] = []
        return result

    def course_completion(caller: Caller, p: dict[str, Any]) -> Any:
        """Facts 20 and 21, checked in the order Moodle checks them."""
        course = course_row(p["courseid"])
        if store.one("SELECT 1 FROM users WHERE id = ?", (p["userid"],)) is None:
            raise MoodleError("dml_missing_record_exception", "invaliduser", "Invalid user")
        if not may_enter(caller, course):
            raise NOT_ACCESSIBLE
        own = p["userid"] == caller.id
        if not course["enablecompletion"] or not (own or grades_in(caller, course["id"])):
            raise moodle_exception("cannotviewreport", "You cannot view this report")
        if store.role(course["id"], p["userid"]) != "student":
            if own:
                raise moodle_exception(
                    "notenroled", "You are not enrolled in this course", "completion"
                )
            raise moodle_exception(
                "usernotenroled", "User is not enrolled in this course", "completion"
            )
        if not course["criteria"]:
            raise moodle_exception(
                "nocriteriaset", "No completion criteria set for this course", "completion"
            )
        done = store.one(
            "SELECT timecompleted FROM completions WHERE courseid = ? AND userid = ?",
            (course["id"], p["userid"]),
        )
        when = done["timecompleted"] if done else None
        return {
            "completionstatus": {
                "completed": when is not None,
                "aggregation": 1,
                "completions": [
                    {
                        "type": 2,
                        "title": "Course end date",
                        "status": "Complete" if when else "Not yet complete",
                        "complete": when is not None,
                        "timecompleted": when,
                        "details": {
                            "type": "Date",
                            "criteria": f'<a href="{SITE_URL}/course/view.php?id={course["id"]}">'
                            "Course end date</a>",
                            "requirement": "Course end date",
                            "status": "",
                        },
                    }
                ],
            },
            "warnings": [],
        }

    # Issue 27: activities, their completion, user flags, messages ---------------------------

    def extension_of(assignment: int, userid: int) -> int | None:
        """A flags row's extension (0: none); null where the user has no row (recorded)."""
        row = store.one(
            "SELECT extensionduedate FROM user_flags WHERE assignment = ? AND userid = ?",
            (assignment, userid),
        )
        return None if row is None else int(row["extensionduedate"])

    def activity_rows(courseid: int) -> list[dict[str, Any]]:
        """The course's activities in section order: its assignments in "General", complete on
        a grade (tracking 2), then its page in the next section, marked by hand (tracking 1)."""
        found = [
            {
                "section": 0,
                "id": r["cmid"],
                "name": r["name"],
                "instance": r["id"],
                "modname": "assign",
                "completion": 2,
                "rule": "completionusegrade",
            }
            for r in store.all(
                "SELECT * FROM assignments WHERE course = ? ORDER BY id", (courseid,)
            )
        ]
        found += [
            {
                "section": 1,
                "id": r["cmid"],
                "name": r["name"],
                "instance": r["id"],
                "modname": "page",
                "completion": 1,
                "rule": None,
            }
            for r in store.all("SELECT * FROM pages WHERE course = ?", (courseid,))
        ]
        return found

    def activity_state(cmid: int, userid: int) -> tuple[int, int]:
        row = store.one(
            "SELECT state, timecompleted FROM activity_completions WHERE cmid = ? AND userid = ?",
            (cmid, userid),
        )
        return (0, 0) if row is None else (int(row["state"]), int(row["timecompleted"] or 0))

    def completion_data(activity: dict[str, Any], userid: int, tracked: bool) -> dict[str, Any]:
        state, when = activity_state(activity["id"], userid) if tracked else (0, 0)
        details = (
            [
                {
                    "rulename": activity["rule"],
                    "rulevalue": {"status": state, "description": "Receive a grade"},
                }
            ]
            if activity["rule"]
            else []
        )
        return {
            "state": state,
            "timecompleted": when,
            "overrideby": None,
            "valueused": False,
            "hascompletion": True,
            "isautomatic": activity["completion"] == 2,
            "istrackeduser": tracked,
            "uservisible": True,
            "details": details,
            "isoverallcomplete": state in (1, 2),
        }

    def course_contents(caller: Caller, p: dict[str, Any]) -> Any:
        """`core_course_get_contents`: the sections and their modules; each module's
        `completiondata` is the caller's own."""
        course = course_row(p["courseid"])
        if not may_enter(caller, course):
            raise moodle_exception(
                "errorcoursecontextnotvalid",
                f"You cannot execute functions in the course context (course id:{course['id']})."
                " The context error message was: Course or activity not accessible.",
            )
        tracked = bool(course["enablecompletion"]) and role(caller, course["id"]) == "student"
        sections = []
        for number, name in enumerate(["General", "New section"]):
            modules = []
            for activity in activity_rows(course["id"]):
                if activity["section"] != number:
                    continue
                kind = activity["modname"]
                module: dict[str, Any] = {
                    "id": activity["id"],
                    "url": f"{SITE_URL}/mod/{kind}/view.php?id={activity['id']}",
                    "name": activity["name"],
                    "instance": activity["instance"],
                    "contextid": 1000 + activity["id"],
                    "visible": 1,
                    "uservisible": True,
                    "visibleoncoursepage": 1,
                    "modicon": f"{SITE_URL}/theme/image.php/boost/{kind}/1/monologo",
                    "modname": kind,
                    "purpose": "assessment" if kind == "assign" else "content",
                    "branded": False,
                    "modplural": "Assignments" if kind == "assign" else "Pages",
                    "availability": None,
                    "indent": 0,
                    "onclick": "",
                    "afterlink": None,
                    "customdata": '""',
                    "noviewlink": False,
                    "completion": activity["completion"] if course["enablecompletion"] else 0,
                }
                if course["enablecompletion"]:
                    module["completiondata"] = completion_data(activity, caller.id, tracked)
                module |= {"downloadcontent": 1, "dates": [], "groupmode": 0}
                modules.append(module)
            sections.append(
                {
                    "id": course["id"] * 10 + number,
                    "name": name,
                    "visible": 1,
                    "summary": "",
                    "summaryformat": 1,
                    "section": number,
                    "hiddenbynumsections": 0,
                    "uservisible": True,
                    "component": None,
                    "itemid": None,
                    "modules": modules,
                }
            )
        return sections

    def activities_completion(caller: Caller, p: dict[str, Any]) -> Any:
        """`core_completion_get_activities_completion_status`, checked in Moodle's order; no
        activity names (the real answer has none); `[]` where completion is off."""
        course = course_row(p["courseid"])
        if store.one("SELECT 1 FROM users WHERE id = ?", (p["userid"],)) is None:
            raise MoodleError("dml_missing_record_exception", "invaliduser", "Invalid user")
        if not may_enter(caller, course):
            raise NOT_ACCESSIBLE
        if p["userid"] != caller.id and not grades_in(caller, course["id"]):
            raise no_permission("View activity completion reports")
        if not course["enablecompletion"]:
            return {"statuses": [], "warnings": []}
        tracked = store.role(course["id"], p["userid"]) == "student"
        statuses = []
        for activity in activity_rows(course["id"]):
            data = completion_data(activity, p["userid"], tracked)
            statuses.append(
                {
                    "cmid": activity["id"],
                    "modname": activity["modname"],
                    "instance": activity["instance"],
                    "state": data.pop("state"),
                    "timecompleted": data.pop("timecompleted"),
                    "tracking": activity["completion"],
                }
                | data
            )
        return {"statuses": statuses, "warnings": []}

    def user_flags(caller: Caller, p: dict[str, Any]) -> Any:
        """`mod_assign_get_user_flags`: graders only (warning "1"); "No user flags found"
        (warning "3") for an assignment without rows and for unknown ids."""
        allowed, warnings = graded_assignments(
            caller, p["assignmentids"], unknown="No user flags found"
        )
        result = []
        for row in allowed:
            flags = store.all(
                "SELECT * FROM user_flags WHERE assignment = ? ORDER BY id", (row["id"],)
            )
            if not flags:
                warnings.append(warning("assignment", row["id"], "3", "No user flags found"))
                continue
            result.append(
                {
                    "assignmentid": row["id"],
                    "userflags": [
                        {
                            "id": f["id"],
                            "userid": f["userid"],
                            "locked": f["locked"],
                            "mailed": 0,
                            "extensionduedate": f["extensionduedate"],
                            "workflowstate": f["workflowstate"],
                            "allocatedmarker": f["allocatedmarker"],
                        }
                        for f in flags
                    ],
                }
            )
        return {"assignments": result, "warnings": warnings}

    def may_message(caller: Caller, userid: int) -> bool:
        """`\\core_message\\api::can_send_message`: anyone with a course in common unless blocked
        or taking contacts only (the simulator has no contacts); a teacher of a course in
        common whatever the learner's preferences; an administrator, anyone."""
        if caller.is_admin or userid == caller.id:
            return True
        shared = shared_courses(caller, userid)
        if any(role(caller, c["id"]) in GRADERS for c in shared):
            return True
        blocked = store.one(
            "SELECT 1 FROM blocks WHERE userid = ? AND blockeduserid = ?", (userid, caller.id)
        )
        only_contacts = store.one("SELECT 1 FROM contacts_only WHERE userid = ?", (userid,))
        return bool(shared) and blocked is None and only_contacts is None

    def send_messages(caller: Caller, p: dict[str, Any]) -> Any:
        """`core_message_send_instant_messages`, with 4.5.6's answers: a refusal per message
        (`msgid` -1 and words), and a call where some were sent and some refused answered
        `formatnotsupported` after sending (recorded)."""
        if not store.messaging:
            raise moodle_exception("disabled", "Messaging is disabled on this site", "message")
        if not p["messages"]:
            raise INVALID_PARAMETER
        results: list[dict[str, Any]] = []
        for message in p["messages"]:
            to = message["touserid"]
            error = None
            if store.one("SELECT 1 FROM users WHERE id = ?", (to,)) is None:
                error = f"You cannot send a message to a user ID ({to}) that doesn't exist."
            elif len(message["text"].encode()) > 4096:
                error = "The message is longer than the maximum allowed."
            elif not may_message(caller, to):
                error = (
                    "You can't message this user due to their message preferences. "
                    "Try adding them as a contact."
                )
            result: dict[str, Any] = {}
            if message["clientmsgid"]:
                result["clientmsgid"] = message["clientmsgid"]
            if error is not None:
                results.append({"msgid": -1, **result, "errormessage": error})
                continue
            now = int(time.time())
            conversation = store.conversation(caller.id, to)
            cursor = store.execute(
                "INSERT INTO messages (useridfrom, useridto, text, timecreated, conversationid)"
                " VALUES (?, ?, ?, ?, ?)",
                (caller.id, to, message["text"], now, conversation),
            )
            results.append(
                {
                    "msgid": cursor.lastrowid,
                    **result,
                    "text": f"<p>{html.escape(message['text'])}</p>",
                    "timecreated": now,
                    "conversationid": conversation,
                    "useridfrom": caller.id,
                }
            )
        for result in results:
            result["candeletemessagesforallusers"] = caller.is_admin
        if any(r["msgid"] > 0 for r in results) and any(r["msgid"] < 0 for r in results):
            raise moodle_exception("formatnotsupported", "webservice/formatnotsupported")
        return results

    def call_many(caller: Caller, p: dict[str, Any]) -> Any:
        """Facts 22-26: each call's answer or error, stopping at the first error."""
        if any(
            r["settinglang"] and r["settinglang"] not in INSTALLED_LANGUAGES for r in p["requests"]
        ):
            raise INVALID_PARAMETER
        responses = []
        for request in p["requests"]:
            name = request["function"]
            try:
                if name not in service_functions(caller.service):
                    raise ACCESS_EXCEPTION
                try:
                    args = json.loads(request["arguments"])
                except ValueError:
                    args = {}  # not JSON: no arguments (fact 25)
                result = execute(caller, name, args if isinstance(args, dict) else {})
                response = {"error": False, "data": json.dumps(result)}
            except MoodleError as error:
                response = {"error": True, "exception": json.dumps(inner_error(error))}
            except PhpError as error:
                exception = inner_error(
                    MoodleError("Error", "generalexceptionmessage", f"Exception - {error}")
                )
                response = {"error": True, "exception": json.dumps(exception)}
            responses.append(response)
            if response["error"]:
                break  # Moodle does not process the remaining requests
        return {"responses": responses}

    def inner_error(error: MoodleError) -> dict[str, Any]:
        """An error inside a multi-call: no class name; a function the service lacks is only
        its code and module (facts 23 and 24)."""
        if error.errorcode == "accessexception":
            return {"errorcode": "accessexception", "module": "webservice"}
        link: Any = (
            {} if error.exception.endswith("required_capability_exception") else SITE_URL + "/"
        )
        return {
            "message": error.message,
            "errorcode": error.errorcode,
            "link": link,
            "moreinfourl": f"https://docs.moodle.org/405/en/error/{error.module}/{error.errorcode}",
        }

    functions: dict[str, Function] = {
        "core_webservice_get_site_info": Function(
            Struct({"serviceshortnames": ListOf(Str(), default=[])}), site_info
        ),
        "core_course_get_courses_by_field": Function(
            Struct({"field": Str(default=""), "value": Str(default="")}), courses_by_field
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
            search_courses,
        ),
        "core_enrol_get_users_courses": Function(
            Struct({"userid": Int(), "returnusercount": Bool(default=True)}), users_courses
        ),
        "core_enrol_get_enrolled_users": Function(
            Struct(
                {
                    "courseid": Int(),
                    "options": ListOf(Struct({"name": Str(), "value": Str()}), default=[]),
                }
            ),
            enrolled_users,
        ),
        "core_user_get_users_by_field": Function(
            Struct({"field": Str(), "values": ListOf(Str())}), users_by_field
        ),
        "mod_assign_get_assignments": Function(
            Struct(
                {
                    "courseids": ListOf(Int(), default=[]),
                    "capabilities": ListOf(Str(), default=[]),
                    "includenotenrolledcourses": Bool(default=False),
                }
            ),
            assignments,
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
            submissions,
        ),
        "mod_assign_get_grades": Function(
            Struct({"assignmentids": ListOf(Int()), "since": Int(default=0)}), grades
        ),
        "mod_assign_get_submission_status": Function(
            Struct({"assignid": Int(), "userid": Int(default=0), "groupid": Int(default=0)}),
            submission_status,
        ),
        "core_completion_get_course_completion_status": Function(
            Struct({"courseid": Int(), "userid": Int()}), course_completion
        ),
        "core_course_get_contents": Function(
            Struct(
                {
                    "courseid": Int(),
                    "options": ListOf(Struct({"name": Str(), "value": Str()}), default=[]),
                }
            ),
            course_contents,
        ),
        "core_completion_get_activities_completion_status": Function(
            Struct({"courseid": Int(), "userid": Int()}), activities_completion
        ),
        "mod_assign_get_user_flags": Function(Struct({"assignmentids": ListOf(Int())}), user_flags),
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
            send_messages,
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
            call_many,
        ),
    }
    if not multicall:
        del functions[MULTICALL]

    def service_functions(service: str) -> list[str]:
        return [name for name in functions if service == MOBILE_SERVICE or name != MULTICALL]

    def execute(caller: Caller, name: str, arguments: Mapping[str, Any]) -> Any:
        function = functions.get(name)
        if function is None:
            raise missing_record("external_functions")
        calls.add(name)
        try:
            params = function.params.check(dict(arguments))
        except InvalidParameter:
            raise INVALID_PARAMETER from None
        return function.run(caller, params)

    # HTTP ----------------------------------------------------------------------------------------

    async def server(request: Request) -> Response:
        if latency_s:
            await asyncio.sleep(latency_s)
        items = [*request.query_params.multi_items(), *await form_items(request)]
        fmt = dict(items).get("moodlewsrestformat", "xml")
        try:
            values = parse_php_form(items)
        except InvalidParameter:
            return render(fmt, error=INVALID_PARAMETER)
        token, name = str(values.get("wstoken", "")), values.get("wsfunction")
        found = store.user_of_token(token) if token else None
        try:
            if found is None:
                raise moodle_exception("invalidtoken", "Invalid token - token not found")
            caller = Caller(*found)
            if not isinstance(name, str):
                raise INVALID_PARAMETER
            if name in OUTSIDE_THE_SERVICE or (
                name in functions and name not in service_functions(caller.service)
            ):
                raise ACCESS_EXCEPTION
            result = execute(caller, name, {k: v for k, v in values.items() if k not in RESERVED})
        except MoodleError as error:
            return render(fmt, error=error)
        except PhpError as error:  # no errorcode: PHP's own `Error`, as a debug-off site sends it
            return JSONResponse({"exception": "Error", "message": str(error)})
        return render(fmt, result=result)

    def render(fmt: str, *, result: Any = None, error: MoodleError | None = None) -> Response:
        """JSON as `application/json` with no charset; XML otherwise. With debugging off, an
        error has no `debuginfo` (fact 2)."""
        if fmt == "json":
            if error is not None:
                body = {
                    "exception": error.exception,
                    "errorcode": error.errorcode,
                    "message": error.message,
                }
                return JSONResponse(body)
            return JSONResponse(result)
        if error is not None:
            text = (
                f'<?xml version="1.0" encoding="UTF-8" ?>\n<EXCEPTION class="{error.exception}">\n'
                f"<ERRORCODE>{error.errorcode}</ERRORCODE>\n<MESSAGE>{html.escape(error.message)}</MESSAGE>\n</EXCEPTION>\n"
            )
        else:
            text = f'<?xml version="1.0" encoding="UTF-8" ?>\n<RESPONSE>\n{xml_value(result)}</RESPONSE>\n'
        return Response(text, media_type="application/xml; charset=utf-8")

    async def token(request: Request) -> Response:
        """`login/token.php` (fact 27), in the order it checks: fields, password, guest,
        service."""
        form = {**dict(request.query_params), **dict(await form_items(request))}
        if form.get("appsitecheck") == "1":
            return login_answer({"appsitecheck": "ok"})
        for required in ("username", "password", "service"):
            if required not in form:
                return login_error("missingparam", f"A required parameter ({required}) was missing")
        user = store.one("SELECT * FROM users WHERE username = ?", (form["username"],))
        if user is None or user["suspended"] or not form["password"]:
            return login_error("invalidlogin", "Invalid login, please try again")
        if user["password"] != form["password"]:
            return login_error("invalidlogin", "Invalid login, please try again")
        if user["id"] == GUEST:
            return login_error("noguest", "No guests here!")
        if form["service"] not in (MOBILE_SERVICE, CUSTOM_SERVICE):
            return login_error(
                "servicenotavailable",
                "Web service is not available. (It doesn't exist or might be disabled.)",
            )
        token = store.token_for(user["id"], form["service"])
        return login_answer({"token": token, "privatetoken": None})

    def login_answer(body: dict[str, Any]) -> Response:
        return JSONResponse(body, media_type="application/json; charset=utf-8")

    def login_error(code: str, message: str) -> Response:
        return login_answer(
            {
                "error": message,
                "errorcode": code,
                "stacktrace": None,
                "debuginfo": None,
                "reproductionlink": None,
            }
        )

    counter = RequestCounter()
    app = Starlette(
        routes=[
            Route("/webservice/rest/server.php", server, methods=["GET", "POST"]),
            Route("/login/token.php", token, methods=["GET", "POST"]),
            *counter.routes(),
        ],
        middleware=[Middleware(CountRequests, counter=counter)],
    )
    app.state.counter = counter
    app.state.calls = calls
    app.state.store = store
    return app


async def form_items(request: Request) -> list[tuple[str, str]]:
    """The url-encoded body, in order, as PHP reads it into `$_POST`."""
    return parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)


def xml_value(value: Any) -> str:
    """Moodle's XML writer: SINGLE for structures, MULTIPLE for lists, VALUE for scalars."""
    if isinstance(value, dict):
        keys = "".join(
            f'<KEY name="{html.escape(k)}">{xml_value(v)}</KEY>\n' for k, v in value.items()
        )
        return f"<SINGLE>\n{keys}</SINGLE>\n"
    if isinstance(value, list):
        return "<MULTIPLE>\n" + "".join(xml_value(v) for v in value) + "</MULTIPLE>\n"
    if value is None:
        return '<VALUE null="null"/>\n'
    if isinstance(value, bool):
        return f"<VALUE>{int(value)}</VALUE>\n"
    return f"<VALUE>{html.escape(str(value))}</VALUE>\n"
