"""A Moodle 4.x site's web services: `webservice/rest/server.php` and `login/token.php`.

Reproduced as a client sees them: dispatch on `wsfunction`, XML unless `moodlewsrestformat=json`,
failures as HTTP 200 exception documents, PHP-bracketed parameters validated strictly, tokens per
user and per external service, capability checks (students see their own grades only, teachers
their class), warnings for inaccessible items in batch functions, and the mobile service's
`tool_mobile_call_external_functions`, which stops at the first failing call.
"""

from __future__ import annotations

import asyncio
import html
import json
import sqlite3
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
from .store import MoodleStore

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


class MoodleError(Exception):
    def __init__(
        self, exception: str, errorcode: str, message: str, debuginfo: str | None = None
    ) -> None:
        self.exception = exception
        self.errorcode = errorcode
        self.message = message
        self.debuginfo = debuginfo


def invalid_parameter(debuginfo: str) -> MoodleError:
    return MoodleError(
        "invalid_parameter_exception",
        "invalidparameter",
        "Invalid parameter value detected",
        debuginfo,
    )


def no_permission(capability: str) -> MoodleError:
    return MoodleError(
        "required_capability_exception",
        "nopermissions",
        f"Sorry, but you do not currently have permissions to do that ({capability}).",
    )


def missing_record(table: str) -> MoodleError:
    return MoodleError(
        "dml_missing_record_exception",
        "invalidrecord",
        f"Can't find data record in database table {table}.",
    )


NOT_ACCESSIBLE = MoodleError(
    "require_login_exception", "requireloginerror", "Course or activity not accessible."
)


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

    # Visibility ------------------------------------------------------------------------------

    def role(caller: Caller, courseid: int) -> str | None:
        return "manager" if caller.is_admin else store.role(courseid, caller.id)

    def can_grade(caller: Caller, courseid: int) -> bool:
        return role(caller, courseid) in ("manager", "editingteacher")

    def visible_course(caller: Caller, row: sqlite3.Row) -> bool:
        return bool(row["visible"]) or can_grade(caller, row["id"])

    def shares_course(caller: Caller, userid: int, *, as_teacher: bool = False) -> bool:
        if caller.is_admin or caller.id == userid:
            return True
        roles = ("editingteacher",) if as_teacher else ("editingteacher", "student")
        return (
            store.one(
                "SELECT 1 FROM enrolments mine JOIN enrolments theirs ON mine.courseid = theirs.courseid"
                f" WHERE mine.userid = ? AND theirs.userid = ? AND mine.role IN ({','.join('?' * len(roles))})",
                (caller.id, userid, *roles),
            )
            is not None
        )

    def record(table: str, record_id: int, moodle_table: str) -> sqlite3.Row:
        """A row, or Moodle's answer for a missing one (`MUST_EXIST` in its code)."""
        row = store.one(f"SELECT * FROM {table} WHERE id = ?", (record_id,))
        if row is None:
            raise missing_record(moodle_table)
        return row

    # JSON shapes -------------------------------------------------------------------------------

    def course_json(row: sqlite3.Row) -> dict[str, Any]:
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
            "categoryid": row["categoryid"],
            "categoryname": row["categoryname"],
            "sortorder": 10000 + row["id"],
            "summary": row["summary"],
            "summaryformat": 1,
            "summaryfiles": [],
            "overviewfiles": [],
            "contacts": [
                {"id": t["id"], "fullname": f"{t['firstname']} {t['lastname']}"} for t in teachers
            ],
            "enrollmentmethods": ["manual"],
            "idnumber": "",
            "format": "topics",
            "showgrades": 1,
            "startdate": row["startdate"],
            "enddate": row["enddate"],
            "visible": row["visible"],
            "enablecompletion": 1,
            "lang": "",
            "timecreated": row["startdate"] - 86400 * 30,
            "timemodified": row["startdate"] - 86400,
        }

    def user_json(caller: Caller, row: sqlite3.Row, courseid: int | None = None) -> dict[str, Any]:
        found: dict[str, Any] = {
            "id": row["id"],
            "username": row["username"],
            "firstname": row["firstname"],
            "lastname": row["lastname"],
            "fullname": f"{row['firstname']} {row['lastname']}",
            "firstaccess": row["firstaccess"],
            "lastaccess": row["lastaccess"],
            "auth": "manual",
            "suspended": False,
            "confirmed": True,
            "lang": "en",
            "theme": "",
            "timezone": "99",
            "description": "",
            "descriptionformat": 1,
            "profileimageurlsmall": f"https://moodle.invalid/theme/image.php/boost/core/1/u/f2?u={row['id']}",
            "profileimageurl": f"https://moodle.invalid/theme/image.php/boost/core/1/u/f1?u={row['id']}",
        }
        if shares_course(caller, row["id"], as_teacher=True):
            found["email"] = row["email"]
        if courseid is not None:
            enrolment = store.role(courseid, row["id"])
            found["roles"] = [
                {
                    "roleid": 3 if enrolment == "editingteacher" else 5,
                    "name": "",
                    "shortname": enrolment,
                    "sortorder": 0,
                }
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
            "siteurl": "https://moodle.invalid",
            "userpictureurl": "",
            "functions": [
                {"name": name, "version": "2024042200"}
                for name in service_functions(caller.service)
            ],
            "downloadfiles": 1,
            "uploadfiles": 1,
            "release": "4.4 (Build: 20240422)",
            "version": "2024042200",
            "userissiteadmin": caller.is_admin,
        }

    def courses_by_field(caller: Caller, p: dict[str, Any]) -> Any:
        field, value = p["field"], p["value"]
        where, args = "1", []
        if field == "id":
            where, args = "id = ?", [value]
        elif field == "ids":
            ids = [v for v in value.split(",") if v.strip()]
            if not all(v.strip().isdigit() for v in ids):
                raise invalid_parameter(f"value => Invalid parameter value detected ({value})")
            where, args = f"id IN ({','.join('?' * len(ids)) or 'NULL'})", ids
        elif field == "shortname":
            where, args = "shortname = ?", [value]
        elif field == "category":
            where, args = "categoryid = ?", [value]
        elif field:
            raise invalid_parameter(f"field => Invalid parameter value detected ({field})")
        rows = store.all(f"SELECT * FROM courses WHERE {where} ORDER BY id", args)
        return {
            "courses": [course_json(r) for r in rows if visible_course(caller, r)],
            "warnings": [],
        }

    def search_courses(caller: Caller, p: dict[str, Any]) -> Any:
        if p["criterianame"] != "search":
            raise invalid_parameter(
                f"criterianame => Invalid parameter value detected ({p['criterianame']})"
            )
        needle = f"%{p['criteriavalue']}%"
        rows = [
            r
            for r in store.all(
                "SELECT * FROM courses WHERE fullname LIKE ? OR shortname LIKE ? OR summary LIKE ?"
                " ORDER BY fullname",
                (needle, needle, needle),
            )
            if visible_course(caller, r)
        ]
        page, perpage = p["page"], p["perpage"]
        window = rows[page * perpage : (page + 1) * perpage] if perpage else rows
        return {"total": len(rows), "courses": [course_json(r) for r in window], "warnings": []}

    def users_courses(caller: Caller, p: dict[str, Any]) -> Any:
        if p["userid"] != caller.id and not caller.is_admin:
            raise no_permission("moodle/user:viewdetails")
        rows = store.all(
            "SELECT c.*, (SELECT COUNT(*) FROM enrolments x WHERE x.courseid = c.id) AS users,"
            " (SELECT timecompleted FROM completions m WHERE m.courseid = c.id AND m.userid = e.userid) AS done"
            " FROM courses c JOIN enrolments e ON e.courseid = c.id WHERE e.userid = ? ORDER BY c.id",
            (p["userid"],),
        )
        result = []
        for row in rows:
            course = course_json(row)
            course.update(
                enrolledusercount=row["users"],
                completed=bool(row["done"]),
                progress=100.0 if row["done"] else None,
                hidden=False,
                isfavourite=False,
                lastaccess=row["startdate"],
                category=row["categoryid"],
            )
            result.append(course)
        return result

    def enrolled_users(caller: Caller, p: dict[str, Any]) -> Any:
        course = record("courses", p["courseid"], "course")
        if role(caller, course["id"]) is None or not visible_course(caller, course):
            raise NOT_ACCESSIBLE
        options = {o["name"]: o["value"] for o in p["options"]}
        unknown = set(options) - {
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
        if unknown:
            raise invalid_parameter(f"Invalid option {sorted(unknown)[0]}")
        sort = {
            "id": "u.id",
            "firstname": "u.firstname",
            "lastname": "u.lastname",
            "siteorder": "u.id",
        }.get(options.get("sortby", "id"), "u.id")
        limit = int(options.get("limitnumber", 0) or 0)
        rows = store.all(
            f"SELECT u.* FROM users u JOIN enrolments e ON e.userid = u.id WHERE e.courseid = ? ORDER BY {sort}"
            " LIMIT ? OFFSET ?",
            (course["id"], limit or -1, int(options.get("limitfrom", 0) or 0)),
        )
        return [user_json(caller, row, course["id"]) for row in rows]

    def users_by_field(caller: Caller, p: dict[str, Any]) -> Any:
        column = {"id": "id", "username": "username", "email": "email", "idnumber": None}.get(
            p["field"], ""
        )
        if column == "":
            raise invalid_parameter(f"field => Invalid parameter value detected ({p['field']})")
        if column is None or not p["values"]:
            return []
        rows = store.all(
            f"SELECT * FROM users WHERE {column} IN ({','.join('?' * len(p['values']))}) ORDER BY id",
            p["values"],
        )
        # Users the caller may not see are left out silently, as Moodle does.
        return [user_json(caller, row) for row in rows if shares_course(caller, row["id"])]

    def assignment_json(row: sqlite3.Row) -> dict[str, Any]:
        return {
            "id": row["id"],
            "cmid": row["cmid"],
            "course": row["course"],
            "name": row["name"],
            "nosubmissions": 0,
            "submissiondrafts": 1,
            "sendnotifications": 0,
            "duedate": row["duedate"],
            "allowsubmissionsfromdate": row["duedate"] - 86400 * 14,
            "grade": row["grade"],
            "timemodified": row["duedate"] - 86400 * 20,
            "cutoffdate": row["cutoffdate"] or 0,
            "gradingduedate": row["duedate"] + 86400 * 7,
            "teamsubmission": 0,
            "maxattempts": -1,
            "intro": row["intro"],
            "introformat": 1,
            "configs": [],
        }

    def assignments(caller: Caller, p: dict[str, Any]) -> Any:
        ids = p["courseids"] or [
            r["courseid"]
            for r in store.all("SELECT courseid FROM enrolments WHERE userid = ?", (caller.id,))
        ]
        courses, warnings = [], []
        for courseid in ids:
            course = store.one("SELECT * FROM courses WHERE id = ?", (courseid,))
            if (
                course is None
                or role(caller, courseid) is None
                or not visible_course(caller, course)
            ):
                warnings.append(
                    {
                        "item": "course",
                        "itemid": courseid,
                        "warningcode": "1",
                        "message": "No access rights in course context",
                    }
                )
                continue
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
        caller: Caller, ids: list[int]
    ) -> tuple[list[sqlite3.Row], list[dict[str, Any]]]:
        allowed, warnings = [], []
        for assignment_id in ids:
            row = store.one("SELECT * FROM assignments WHERE id = ?", (assignment_id,))
            if row is not None and can_grade(caller, row["course"]):
                allowed.append(row)
            else:
                warnings.append(
                    {
                        "item": "assignment",
                        "itemid": assignment_id,
                        "warningcode": "1",
                        "message": "No access rights in module context",
                    }
                )
        return allowed, warnings

    def submissions(caller: Caller, p: dict[str, Any]) -> Any:
        allowed, warnings = graded_assignments(caller, p["assignmentids"])
        result = []
        for row in allowed:
            subs = store.all(
                "SELECT * FROM submissions WHERE assignment = ? ORDER BY userid", (row["id"],)
            )
            result.append(
                {
                    "assignmentid": row["id"],
                    "submissions": [
                        {
                            "id": s["id"],
                            "userid": s["userid"],
                            "attemptnumber": 0,
                            "timecreated": s["timemodified"] - 3600,
                            "timemodified": s["timemodified"],
                            "status": s["status"],
                            "groupid": 0,
                            "assignment": row["id"],
                            "latest": 1,
                            "plugins": [],
                            "gradingstatus": "graded"
                            if store.one(
                                "SELECT 1 FROM grades WHERE assignment = ? AND userid = ?",
                                (row["id"], s["userid"]),
                            )
                            else "notgraded",
                        }
                        for s in subs
                        if not p["status"] or s["status"] == p["status"]
                    ],
                }
            )
        return {"assignments": result, "warnings": warnings}

    def grade_json(g: sqlite3.Row) -> dict[str, Any]:
        return {
            "id": g["id"],
            "assignment": g["assignment"],
            "userid": g["userid"],
            "attemptnumber": 0,
            "timecreated": g["timemodified"] - 600,
            "timemodified": g["timemodified"],
            "grader": g["grader"],
            "grade": f"{g['grade']:.5f}",
        }

    def grades(caller: Caller, p: dict[str, Any]) -> Any:
        allowed, warnings = graded_assignments(caller, p["assignmentids"])
        result = []
        for row in allowed:
            found = store.all(
                "SELECT * FROM grades WHERE assignment = ? AND timemodified >= ? ORDER BY userid",
                (row["id"], p["since"]),
            )
            result.append({"assignmentid": row["id"], "grades": [grade_json(g) for g in found]})
        return {"assignments": result, "warnings": warnings}

    def submission_status(caller: Caller, p: dict[str, Any]) -> Any:
        row = record("assignments", p["assignid"], "assign")
        userid = p["userid"] or caller.id
        if role(caller, row["course"]) is None:
            raise NOT_ACCESSIBLE
        if userid != caller.id and not can_grade(caller, row["course"]):
            raise no_permission("mod/assign:grade")
        result: dict[str, Any] = {"warnings": []}
        sub = store.one(
            "SELECT * FROM submissions WHERE assignment = ? AND userid = ?", (row["id"], userid)
        )
        if sub is not None:
            result["lastattempt"] = {
                "submission": {
                    "id": sub["id"],
                    "userid": userid,
                    "status": sub["status"],
                    "timemodified": sub["timemodified"],
                    "assignment": row["id"],
                },
                "gradingstatus": "notgraded",
                "canedit": userid == caller.id,
            }
        grade = store.one(
            "SELECT * FROM grades WHERE assignment = ? AND userid = ?", (row["id"], userid)
        )
        if grade is not None:
            result["feedback"] = {
                "grade": grade_json(grade),
                "gradefordisplay": f"{grade['grade']:.2f} / {row['grade']:.2f}",
                "gradeddate": grade["timemodified"],
                "plugins": [],
            }
        return result

    def course_completion(caller: Caller, p: dict[str, Any]) -> Any:
        course = record("courses", p["courseid"], "course")
        if p["userid"] != caller.id and not can_grade(caller, course["id"]):
            raise no_permission("report/completion:view")
        if store.role(course["id"], p["userid"]) != "student":
            raise MoodleError("moodle_exception", "nottracked", "User not tracked in this course.")
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
                            "criteria": "Course end date",
                            "requirement": "Course end date",
                            "status": "",
                        },
                    }
                ],
            },
            "warnings": [],
        }

    def call_many(caller: Caller, p: dict[str, Any]) -> Any:
        responses = []
        for request in p["requests"]:
            name = request["function"]
            try:
                if name not in service_functions(caller.service):
                    raise MoodleError(
                        "webservice_access_exception", "accessexception", "Access control exception"
                    )
                args = json.loads(request["arguments"] or "{}")
                response = {
                    "error": False,
                    "data": json.dumps(
                        execute(caller, name, args if isinstance(args, dict) else {})
                    ),
                }
            except MoodleError as error:
                exception = {
                    "message": error.message,
                    "errorcode": error.errorcode,
                    "module": "webservice",
                    "link": "",
                    "moreinfourl": "",
                }
                response = {"error": True, "exception": json.dumps(exception)}
            except ValueError:
                response = {
                    "error": True,
                    "exception": json.dumps(
                        {
                            "message": "Invalid parameter value detected",
                            "errorcode": "invalidparameter",
                        }
                    ),
                }
            responses.append(response)
            if response["error"]:
                break  # Moodle does not process the remaining requests
        return {"responses": responses}

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
        except InvalidParameter as error:
            raise invalid_parameter(str(error)) from None
        return function.run(caller, params)

    # HTTP ----------------------------------------------------------------------------------------

    async def server(request: Request) -> Response:
        if latency_s:
            await asyncio.sleep(latency_s)
        items = [*request.query_params.multi_items(), *await form_items(request)]
        fmt = dict(items).get("moodlewsrestformat", "xml")
        try:
            values = parse_php_form(items)
        except InvalidParameter as error:
            return render(fmt, error=invalid_parameter(str(error)))
        token, name = str(values.get("wstoken", "")), str(values.get("wsfunction", ""))
        found = store.user_of_token(token) if token else None
        try:
            if found is None:
                raise MoodleError(
                    "moodle_exception", "invalidtoken", "Invalid token - token not found"
                )
            caller = Caller(*found)
            if name in functions and name not in service_functions(caller.service):
                raise MoodleError(
                    "webservice_access_exception", "accessexception", "Access control exception"
                )
            result = execute(caller, name, {k: v for k, v in values.items() if k not in RESERVED})
        except MoodleError as error:
            return render(fmt, error=error)
        return render(fmt, result=result)

    def render(fmt: str, *, result: Any = None, error: MoodleError | None = None) -> Response:
        if fmt == "json":
            if error is not None:
                body: Any = {
                    "exception": error.exception,
                    "errorcode": error.errorcode,
                    "message": error.message,
                }
                if error.debuginfo:
                    body["debuginfo"] = error.debuginfo
                return JSONResponse(body)
            return JSONResponse(result)
        if error is not None:
            debug = (
                f"<DEBUGINFO>{html.escape(error.debuginfo)}</DEBUGINFO>\n"
                if error.debuginfo
                else ""
            )
            text = (
                f'<?xml version="1.0" encoding="UTF-8" ?>\n<EXCEPTION class="{error.exception}">\n'
                f"<ERRORCODE>{error.errorcode}</ERRORCODE>\n<MESSAGE>{html.escape(error.message)}</MESSAGE>\n{debug}</EXCEPTION>\n"
            )
        else:
            text = f'<?xml version="1.0" encoding="UTF-8" ?>\n<RESPONSE>\n{xml_value(result)}</RESPONSE>\n'
        return Response(text, media_type="application/xml")

    async def token(request: Request) -> Response:
        form = dict(await form_items(request))
        service = str(form.get("service", ""))
        user = store.one("SELECT * FROM users WHERE username = ?", (str(form.get("username", "")),))
        if service not in (MOBILE_SERVICE, CUSTOM_SERVICE):
            return login_error(
                "servicenotavailable",
                "Web service is not available (it doesn't exist or might be disabled)",
            )
        if user is None or user["password"] != form.get("password"):
            return login_error("invalidlogin", "Invalid login, please try again")
        return JSONResponse({"token": store.token_for(user["id"], service), "privatetoken": None})

    def login_error(code: str, message: str) -> Response:
        return JSONResponse(
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
