"""`core_completion_*`: a course's completion and its activities' (issue 27)."""

from __future__ import annotations

from typing import Any

from .access import course_row, grades_in, may_enter
from .errors import NOT_ACCESSIBLE, MoodleError, moodle_exception, no_permission
from .site import SITE_URL, Caller, Site

__all__ = [
    "activities_completion",
    "activity_rows",
    "activity_state",
    "completion_data",
    "course_completion",
]


def course_completion(site: Site, caller: Caller, p: dict[str, Any]) -> Any:
    """Facts 20 and 21, checked in the order Moodle checks them."""
    course = course_row(site, p["courseid"])
    if site.store.one("SELECT 1 FROM users WHERE id = ?", (p["userid"],)) is None:
        raise MoodleError("dml_missing_record_exception", "invaliduser", "Invalid user")
    if not may_enter(site, caller, course):
        raise NOT_ACCESSIBLE
    own = p["userid"] == caller.id
    if not course["enablecompletion"] or not (own or grades_in(site, caller, course["id"])):
        raise moodle_exception("cannotviewreport", "You cannot view this report")
    if site.store.role(course["id"], p["userid"]) != "student":
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
    done = site.store.one(
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


def activity_rows(site: Site, courseid: int) -> list[dict[str, Any]]:
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
        for r in site.store.all(
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
        for r in site.store.all("SELECT * FROM pages WHERE course = ?", (courseid,))
    ]
    return found


def activity_state(site: Site, cmid: int, userid: int) -> tuple[int, int]:
    row = site.store.one(
        "SELECT state, timecompleted FROM activity_completions WHERE cmid = ? AND userid = ?",
        (cmid, userid),
    )
    return (0, 0) if row is None else (int(row["state"]), int(row["timecompleted"] or 0))


def completion_data(
    site: Site, activity: dict[str, Any], userid: int, tracked: bool
) -> dict[str, Any]:
    state, when = activity_state(site, activity["id"], userid) if tracked else (0, 0)
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


def activities_completion(site: Site, caller: Caller, p: dict[str, Any]) -> Any:
    """`core_completion_get_activities_completion_status`, checked in Moodle's order; no
    activity names (the real answer has none); `[]` where completion is off."""
    course = course_row(site, p["courseid"])
    if site.store.one("SELECT 1 FROM users WHERE id = ?", (p["userid"],)) is None:
        raise MoodleError("dml_missing_record_exception", "invaliduser", "Invalid user")
    if not may_enter(site, caller, course):
        raise NOT_ACCESSIBLE
    if p["userid"] != caller.id and not grades_in(site, caller, course["id"]):
        raise no_permission("View activity completion reports")
    if not course["enablecompletion"]:
        return {"statuses": [], "warnings": []}
    tracked = site.store.role(course["id"], p["userid"]) == "student"
    statuses = []
    for activity in activity_rows(site, course["id"]):
        data = completion_data(site, activity, p["userid"], tracked)
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
