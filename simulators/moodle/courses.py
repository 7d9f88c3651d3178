"""`core_course_*`: courses by field, course search, a course's contents."""

from __future__ import annotations

import sqlite3
from typing import Any

from .access import course_row, may_enter, may_see, role
from .completion import activity_rows, completion_data
from .errors import (
    INVALID_PARAMETER,
    MoodleError,
    PhpError,
    moodle_exception,
    no_permission,
    warning,
)
from .site import SITE_URL, Caller, Site
from .store import SITE_COURSE

__all__ = [
    "EDITOR_COURSE_FIELDS",
    "ENROLLED_COURSE_FIELDS",
    "PUBLIC_COURSE_FIELDS",
    "course_contents",
    "course_json",
    "courses_by_field",
    "full_course",
    "search_courses",
]


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


def full_course(site: Site, row: sqlite3.Row) -> dict[str, Any]:
    front_page = row["id"] == SITE_COURSE
    teachers = site.store.all(
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
        "sortorder": 1 if front_page else 10000 + row["id"],
        "summary": row["summary"],
        "summaryformat": 1,
        "summaryfiles": [],
        "overviewfiles": [],
        "showactivitydates": False,
        "showcompletionconditions": None if front_page else True,
        "contacts": [
            {"id": t["id"], "fullname": f"{t['firstname']} {t['lastname']}"} for t in teachers
        ],
        "enrollmentmethods": [] if front_page else ["manual"],
        "idnumber": "",
        "format": "site" if front_page else "topics",
        "showgrades": 1,
        "newsitems": 3 if front_page else 5,
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


def course_json(site: Site, caller: Caller, row: sqlite3.Row) -> dict[str, Any]:
    """The fields of a course lookup, by what the caller is in the course (fact 9)."""
    fields = list(PUBLIC_COURSE_FIELDS)
    if caller.is_admin or role(site, caller, row["id"]) is not None or row["id"] == SITE_COURSE:
        fields += ENROLLED_COURSE_FIELDS
    if caller.is_admin or role(site, caller, row["id"]) == "editingteacher":
        fields += EDITOR_COURSE_FIELDS
    course = full_course(site, row)
    if row["id"] == SITE_COURSE:
        fields = [f for f in fields if f not in ("courseformatoptions",)]
    return {name: course[name] for name in fields if name in course}


def courses_by_field(site: Site, caller: Caller, p: dict[str, Any]) -> Any:
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
            row = site.store.one("SELECT * FROM courses WHERE id = ?", (courseid,))
            if row is None:  # 4.5.6 validates a context that is not there (fact 6)
                raise PhpError('Attempt to assign property "contextvalidated" on null')
            if may_see(site, caller, row):
                rows.append(row)
            else:
                warnings.append(
                    warning("course", courseid, "1", "No access rights in course context")
                )
    elif field == "":
        rows = site.store.all("SELECT * FROM courses ORDER BY id")
    else:
        column = {"id": "id", "shortname": "shortname", "category": "categoryid"}.get(field)
        if column is None or (field in ("id", "category") and not value.isdigit()):
            rows = []
        else:
            rows = site.store.all(f"SELECT * FROM courses WHERE {column} = ? ORDER BY id", (value,))
        # One course by id is not shown hidden, even to its students (fact 8).
        rows = [r for r in rows if r["visible"] or caller.is_admin]
    return {
        "courses": [course_json(site, caller, r) for r in rows if may_see(site, caller, r)],
        "warnings": warnings,
    }


def search_courses(site: Site, caller: Caller, p: dict[str, Any]) -> Any:
    if p["criterianame"] not in ("search", "modulelist", "blocklist", "tagid"):
        raise INVALID_PARAMETER
    if p["criterianame"] != "search":
        if not caller.is_admin:
            raise no_permission("Change site configuration")
        return {"total": 0, "courses": [], "warnings": []}
    needle = f"%{p['criteriavalue']}%"
    rows = [
        r
        for r in site.store.all(
            "SELECT * FROM courses WHERE id != ? AND (fullname LIKE ? OR shortname LIKE ?"
            " OR summary LIKE ?) ORDER BY fullname",
            (SITE_COURSE, needle, needle, needle),
        )
        if (r["visible"] or caller.is_admin)
        and (not p["limittoenrolled"] or role(site, caller, r["id"]) is not None)
        and (not p["onlywithcompletion"] or r["enablecompletion"])
        and (
            not p["requiredcapabilities"]
            or caller.is_admin
            or role(site, caller, r["id"]) == "editingteacher"
        )
    ]
    page, perpage = p["page"], p["perpage"]
    window = rows[page * perpage : (page + 1) * perpage] if perpage else rows
    public = [{k: full_course(site, r)[k] for k in PUBLIC_COURSE_FIELDS} for r in window]
    return {"total": len(rows), "courses": public, "warnings": []}


def course_contents(site: Site, caller: Caller, p: dict[str, Any]) -> Any:
    """`core_course_get_contents`: the sections and their modules; each module's
    `completiondata` is the caller's own."""
    course = course_row(site, p["courseid"])
    if not may_enter(site, caller, course):
        raise moodle_exception(
            "errorcoursecontextnotvalid",
            f"You cannot execute functions in the course context (course id:{course['id']})."
            " The context error message was: Course or activity not accessible.",
        )
    tracked = bool(course["enablecompletion"]) and role(site, caller, course["id"]) == "student"
    sections = []
    for number, name in enumerate(["General", "New section"]):
        modules = []
        for activity in activity_rows(site, course["id"]):
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
                module["completiondata"] = completion_data(site, activity, caller.id, tracked)
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
