"""`mod_assign_*`: assignments, submissions, grades, submission status, user flags."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from .access import course_row, grades_in, may_enter
from .errors import NOT_ACCESSIBLE, MoodleError, missing_record, warning
from .site import Caller, Site

__all__ = [
    "assignment_json",
    "assignments",
    "extension_of",
    "grade_json",
    "graded_assignments",
    "grades",
    "is_graded",
    "submission_json",
    "submission_status",
    "submissions",
    "user_flags",
]


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


def assignments(site: Site, caller: Caller, p: dict[str, Any]) -> Any:
    """Fact 16: the caller's enrolled, visible courses only, unless an administrator asks
    with `includenotenrolledcourses`."""
    mine = [
        r["id"]
        for r in site.store.all(
            "SELECT c.id FROM courses c JOIN enrolments e ON e.courseid = c.id"
            " WHERE e.userid = ? AND (c.visible = 1 OR e.role = 'editingteacher')"
            " ORDER BY c.id",
            (caller.id,),
        )
    ]
    courses, warnings = [], []
    for courseid in p["courseids"] or mine:
        course = site.store.one("SELECT * FROM courses WHERE id = ?", (courseid,))
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
        if course is None or not may_enter(site, caller, course):
            warnings.append(warning("course", courseid, "1", "No access rights in course context"))
            continue
        if p["capabilities"] and not grades_in(site, caller, courseid):
            continue  # left out without a warning
        rows = site.store.all("SELECT * FROM assignments WHERE course = ? ORDER BY id", (courseid,))
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
    site: Site, caller: Caller, ids: list[int], *, unknown: str | None
) -> tuple[list[sqlite3.Row], list[dict[str, Any]]]:
    """The assignments the caller grades; a warning "1" for the others, and for unknown
    ids a warning "3" (grades) or nothing at all (submissions: `unknown` None)."""
    allowed, warnings = [], []
    for assignment_id in ids:
        row = site.store.one("SELECT * FROM assignments WHERE id = ?", (assignment_id,))
        if row is None:
            if unknown is not None:
                warnings.append(warning("assignment", assignment_id, "3", unknown))
        elif grades_in(site, caller, row["course"]):
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


def is_graded(site: Site, assignment: int, userid: int) -> bool:
    return (
        site.store.one(
            "SELECT 1 FROM grades WHERE assignment = ? AND userid = ?", (assignment, userid)
        )
        is not None
    )


def submissions(site: Site, caller: Caller, p: dict[str, Any]) -> Any:
    """Fact 18."""
    allowed, warnings = graded_assignments(site, caller, p["assignmentids"], unknown=None)
    result = []
    for row in allowed:
        subs = [
            s
            for s in site.store.all(
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
                    submission_json(s, is_graded(site, row["id"], s["userid"])) for s in subs
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


def grades(site: Site, caller: Caller, p: dict[str, Any]) -> Any:
    """Fact 17."""
    allowed, warnings = graded_assignments(
        site, caller, p["assignmentids"], unknown="No grades found"
    )
    result = []
    for row in allowed:
        found = site.store.all(
            "SELECT * FROM grades WHERE assignment = ? AND timemodified >= ? ORDER BY id",
            (row["id"], p["since"]),
        )
        if found:
            result.append({"assignmentid": row["id"], "grades": [grade_json(g) for g in found]})
        else:
            warnings.append(warning("assignment", row["id"], "3", "No grades found"))
    return {"assignments": result, "warnings": warnings}


def submission_status(site: Site, caller: Caller, p: dict[str, Any]) -> Any:
    """Fact 19, with its side effect: a `new` submission for the user reported on."""
    row = site.store.one("SELECT * FROM assignments WHERE id = ?", (p["assignid"],))
    if row is None:
        raise missing_record("assign")
    userid = p["userid"] or caller.id
    if site.store.one("SELECT 1 FROM users WHERE id = ?", (userid,)) is None:
        raise MoodleError("dml_missing_record_exception", "invaliduser", "Invalid user")
    if not may_enter(site, caller, course_row(site, row["course"])):
        raise NOT_ACCESSIBLE
    grader = grades_in(site, caller, row["course"])
    if userid != caller.id and not grader:
        raise MoodleError(
            "core\\exception\\required_capability_exception",
            "nopermission",
            "error/nopermission",
        )
    # Moodle reads the submission before it adds the `new` row: the first answer has an
    # attempt without a submission, the next one names the row (recorded, issue25.jsonl).
    had = site.store.one(
        "SELECT 1 FROM submissions WHERE assignment = ? AND userid = ?", (row["id"], userid)
    )
    site.store.add_new_submission(row["id"], userid, int(time.time()))
    result: dict[str, Any] = {}
    if grader:
        count = site.store.scalar(
            "SELECT COUNT(*) FROM enrolments WHERE courseid = ? AND role = 'student'",
            (row["course"],),
        )
        submitted = site.store.scalar(
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
        sub = site.store.one(
            "SELECT * FROM submissions WHERE assignment = ? AND userid = ?",
            (row["id"], userid),
        )
        assert sub is not None  # added above where there was none
        graded = is_graded(site, row["id"], userid)
        attempt = {"submission": submission_json(sub, graded) | {"assignment": row["id"]}}
        result["lastattempt"] = (attempt if had else {}) | {
            "submissiongroupmemberswhoneedtosubmit": [],
            "submissionsenabled": True,
            "locked": False,
            "graded": graded,
            "canedit": userid == caller.id,
            "caneditowner": userid == caller.id,
            "cansubmit": False,
            "extensionduedate": extension_of(site, row["id"], userid),
            "timelimit": 0,
            "blindmarking": False,
            "gradingstatus": "graded" if graded else "notgraded",
            "usergroups": [],
        }
        grade = site.store.one(
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


def extension_of(site: Site, assignment: int, userid: int) -> int | None:
    """A flags row's extension (0: none); null where the user has no row (recorded)."""
    row = site.store.one(
        "SELECT extensionduedate FROM user_flags WHERE assignment = ? AND userid = ?",
        (assignment, userid),
    )
    return None if row is None else int(row["extensionduedate"])


def user_flags(site: Site, caller: Caller, p: dict[str, Any]) -> Any:
    """`mod_assign_get_user_flags`: graders only (warning "1"); "No user flags found"
    (warning "3") for an assignment without rows and for unknown ids."""
    allowed, warnings = graded_assignments(
        site, caller, p["assignmentids"], unknown="No user flags found"
    )
    result = []
    for row in allowed:
        flags = site.store.all(
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
