"""The Moodle simulator answers as the protocol reference describes (raw HTTP, no connector)."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from simulators.moodle.params import InvalidParameter, parse_php_form
from simulators.world import World
from tests.conftest import Simulator, moodle_login


def post(
    sim: Simulator, token: str, function: str, fmt: str | None = "json", **arguments: str
) -> httpx.Response:
    form = {"wstoken": token, "wsfunction": function, **arguments}
    if fmt:
        form["moodlewsrestformat"] = fmt
    return httpx.post(f"{sim.url}/webservice/rest/server.php", data=form)


def test_php_form_parsing() -> None:
    assert parse_php_form([("a[0][b]", "1"), ("a[0][c]", "2"), ("a[1][b]", "3"), ("x", "y")]) == {
        "a": {"0": {"b": "1", "c": "2"}, "1": {"b": "3"}},
        "x": "y",
    }
    assert parse_php_form([("ids[]", "4"), ("ids[]", "5")]) == {"ids": {"0": "4", "1": "5"}}
    for bad in ([("a", "1"), ("a[0]", "2")], [("[x]", "1")], [("a[0]", "1"), ("a[0][b]", "2")]):
        with pytest.raises(InvalidParameter):
            parse_php_form(bad)


def test_xml_is_the_default_format(moodle: Simulator, world: World) -> None:
    token = moodle_login(moodle.url, world.admin.username)
    response = post(moodle, token, "core_webservice_get_site_info", fmt=None)
    assert response.headers["content-type"].startswith("application/xml")
    assert response.text.startswith('<?xml version="1.0" encoding="UTF-8" ?>\n<RESPONSE>\n<SINGLE>')
    assert f'<KEY name="username"><VALUE>{world.admin.username}</VALUE>' in response.text


@pytest.mark.parametrize("fmt", ["json", None])
def test_errors_are_http_200_documents(moodle: Simulator, fmt: str | None) -> None:
    response = post(moodle, "f" * 32, "core_webservice_get_site_info", fmt=fmt)
    assert response.status_code == 200
    if fmt == "json":
        assert response.json() == {
            "exception": "core\\exception\\moodle_exception",
            "errorcode": "invalidtoken",
            "message": "Invalid token - token not found",
        }
    else:
        assert (
            "<ERRORCODE>invalidtoken</ERRORCODE>" in response.text
            and response.text.count("<EXCEPTION") == 1
        )


def test_parameters_are_validated_strictly(moodle: Simulator, world: World) -> None:
    token = moodle_login(moodle.url, world.admin.username)
    for arguments in (
        {"courseid": "two"},
        {},
        {"courseid": "2", "surprise": "1"},
        {"courseid[0]": "2"},
    ):
        body = post(moodle, token, "core_enrol_get_enrolled_users", **arguments).json()
        assert body["errorcode"] == "invalidparameter", arguments


def test_repeated_logins_return_the_same_token_per_service(moodle: Simulator, world: World) -> None:
    person = world.people[2].username
    assert moodle_login(moodle.url, person) == moodle_login(moodle.url, person)
    assert moodle_login(moodle.url, person) != moodle_login(
        moodle.url, person, service="legacygraph"
    )
    refused = httpx.post(
        f"{moodle.url}/login/token.php",
        data={"username": person, "password": "x", "service": "moodle_mobile_app"},
    )
    assert refused.status_code == 200
    assert refused.json() == {
        "error": "Invalid login, please try again",
        "errorcode": "invalidlogin",
        "stacktrace": None,
        "debuginfo": None,
        "reproductionlink": None,
    }


def test_only_the_mobile_service_may_multicall(moodle: Simulator, world: World) -> None:
    custom = moodle_login(moodle.url, world.admin.username, service="legacygraph")
    body = post(
        moodle,
        custom,
        "tool_mobile_call_external_functions",
        **{"requests[0][function]": "core_webservice_get_site_info"},
    ).json()
    assert body["errorcode"] == "accessexception"
    functions = {
        f["name"] for f in post(moodle, custom, "core_webservice_get_site_info").json()["functions"]
    }
    assert (
        "tool_mobile_call_external_functions" not in functions
        and "mod_assign_get_grades" in functions
    )


def test_a_multicall_stops_at_the_first_error(moodle: Simulator, world: World) -> None:
    token = moodle_login(moodle.url, world.admin.username)
    requests: dict[str, str] = {}
    for index, course in enumerate((2, 999, 3)):
        requests[f"requests[{index}][function]"] = "core_enrol_get_enrolled_users"
        requests[f"requests[{index}][arguments]"] = json.dumps({"courseid": course})
    responses = post(moodle, token, "tool_mobile_call_external_functions", **requests).json()[
        "responses"
    ]
    assert [r["error"] for r in responses] == [False, True]
    assert isinstance(json.loads(responses[0]["data"]), list)
    assert json.loads(responses[1]["exception"])["errorcode"] == "invalidrecord"


def enrolled(world: World, role: str) -> tuple[int, str]:
    enrolment = next(e for e in world.enrolments if e.role == role)
    return enrolment.course_id, next(
        p.username for p in world.people if p.id == enrolment.person_id
    )


def test_students_may_not_read_the_class_grades(moodle: Simulator, world: World) -> None:
    course, student = enrolled(world, "student")
    assignment = next(a for a in world.assignments if a.course_id == course)
    token = moodle_login(moodle.url, student)
    body = post(
        moodle, token, "mod_assign_get_grades", **{"assignmentids[0]": str(assignment.id)}
    ).json()
    assert body["assignments"] == []
    assert body["warnings"][0]["itemid"] == assignment.id
    own: dict[str, Any] = post(
        moodle, token, "mod_assign_get_submission_status", assignid=str(assignment.id)
    ).json()
    assert "warnings" in own
    other = post(
        moodle, token, "mod_assign_get_submission_status", assignid=str(assignment.id), userid="3"
    ).json()
    assert other.get("errorcode") == "nopermission"


def test_grades_are_strings_and_times_seconds(moodle: Simulator, world: World) -> None:
    course, teacher = enrolled(world, "editingteacher")
    assignment = next(a for a in world.assignments if a.course_id == course)
    body = post(
        moodle,
        moodle_login(moodle.url, teacher),
        "mod_assign_get_grades",
        **{"assignmentids[0]": str(assignment.id)},
    ).json()
    grade = body["assignments"][0]["grades"][0]
    assert re.fullmatch(r"\d+\.\d{5}", grade["grade"])
    assert isinstance(grade["timemodified"], int)


def test_outsiders_cannot_list_participants(moodle: Simulator, world: World) -> None:
    course = world.courses[0].id
    outsider = next(
        p
        for p in world.people
        if not p.is_admin
        and all(e.person_id != p.id for e in world.enrolments if e.course_id == course)
    )
    body = post(
        moodle,
        moodle_login(moodle.url, outsider.username),
        "core_enrol_get_enrolled_users",
        courseid=str(course),
    ).json()
    assert body["errorcode"] == "errorcoursecontextnotvalid"


def test_users_the_caller_cannot_see_are_left_out(moodle: Simulator, world: World) -> None:
    def classmates_of(person_id: int) -> set[int]:
        courses = {e.course_id for e in world.enrolments if e.person_id == person_id}
        return {e.person_id + 1 for e in world.enrolments if e.course_id in courses}

    students = {e.person_id for e in world.enrolments if e.role == "student"}
    person_id = min(students, key=lambda p: len(classmates_of(p)))
    classmates = classmates_of(person_id)
    student = next(p.username for p in world.people if p.id == person_id)
    token = moodle_login(moodle.url, student)
    every_id = {str(p.id + 1) for p in world.people}
    found = post(
        moodle,
        token,
        "core_user_get_users_by_field",
        field="id",
        **{f"values[{i}]": v for i, v in enumerate(sorted(every_id))},
    ).json()
    # Besides classmates, the editing teachers of visible courses (course contacts), with
    # their names only.
    hidden = {c.id for c in world.courses if not c.visible}
    contacts = {
        e.person_id + 1
        for e in world.enrolments
        if e.role == "editingteacher" and e.course_id not in hidden
    }
    ids = {u["id"] for u in found}
    assert ids == classmates | contacts and len(ids) < len(every_id)
    mine = next(u for u in found if u.get("username") == student)
    assert "email" in mine
    assert all("email" not in u for u in found if u["id"] not in classmates)
    assert all("email" in u for u in found if u["id"] in classmates)


def test_function_calls_are_counted(fresh_moodle: Simulator, world: World) -> None:
    token = moodle_login(fresh_moodle.url, world.admin.username)
    post(fresh_moodle, token, "core_webservice_get_site_info")
    post(fresh_moodle, token, "core_webservice_get_site_info")
    assert fresh_moodle.app.state.calls.snapshot() == {"core_webservice_get_site_info": 2}
    assert fresh_moodle.counter.snapshot() == {
        "POST /login/token.php": 1,
        "POST /webservice/rest/server.php": 2,
    }
