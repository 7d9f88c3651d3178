"""Moodle courses through the gateway, against the Moodle simulator on loopback."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from graph.schema.ids import GlobalId
from simulators.moodle import moodle_user_id
from simulators.world import World
from tests.conftest import (
    Gateway,
    Simulator,
    errors_by_path,
    flarum_headers,
    login,
    moodle_login,
    running_gateway,
    running_moodle,
)

CLASS_QUERY = """{ courses(first: 10) { nodes {
  id fullName
  participants(first: 50) { nodes { fullName email } }
  assignments { name grades { grade user { fullName } } }
} } }"""


def moodle_headers(token: str) -> dict[str, str]:
    return {"X-Moodle-Token": token}


def call(moodle_url: str, token: str, function: str, **arguments: str) -> Any:
    """One function call, by hand: what a client without the gateway would do."""
    form = {"wstoken": token, "wsfunction": function, "moodlewsrestformat": "json", **arguments}
    return httpx.post(f"{moodle_url}/webservice/rest/server.php", data=form).json()


def expected_class(moodle_url: str, token: str) -> list[dict[str, Any]]:
    """CLASS_QUERY's answer, built from the functions called one by one."""
    courses = call(moodle_url, token, "core_course_get_courses_by_field")["courses"]
    courses = [c for c in courses if c["format"] != "site"][:10]  # course 1 is the site
    users = {}
    result = []
    for course in courses:
        people = call(
            moodle_url, token, "core_enrol_get_enrolled_users", courseid=str(course["id"])
        )
        users.update({u["id"]: u for u in people})
        found = call(
            moodle_url,
            token,
            "mod_assign_get_assignments",
            **{"courseids[0]": str(course["id"]), "includenotenrolledcourses": "1"},
        )
        assignments = []
        for assignment in found["courses"][0]["assignments"]:
            grades = call(
                moodle_url,
                token,
                "mod_assign_get_grades",
                **{"assignmentids[0]": str(assignment["id"])},
            )
            assignments.append(
                {
                    "name": assignment["name"],
                    "grades": [
                        {
                            "grade": float(g["grade"]),
                            "user": {"fullName": users[g["userid"]]["fullname"]},
                        }
                        for g in grades["assignments"][0]["grades"]
                    ],
                }
            )
        result.append(
            {
                "id": GlobalId("moodle", "Course", str(course["id"])).encode(),
                "fullName": course["fullname"],
                "participants": {
                    "nodes": [{"fullName": u["fullname"], "email": u.get("email")} for u in people]
                },
                "assignments": assignments,
            }
        )
    return result


def test_the_class_costs_at_most_five_requests(
    school: Gateway, moodle: Simulator, world: World
) -> None:
    token = moodle_login(moodle.url, world.admin.username)  # an administrator, enrolled in few
    expected = expected_class(moodle.url, token)
    moodle.counter.reset()
    moodle.app.state.calls.reset()
    body = school.query(CLASS_QUERY, **moodle_headers(token))
    assert "errors" not in body, body["errors"]
    assert body["data"]["courses"]["nodes"] == expected
    assert moodle.counter.total <= 5
    assert moodle.counter.snapshot() == {"POST /webservice/rest/server.php": moodle.counter.total}
    functions = moodle.app.state.calls.snapshot()
    assert functions["tool_mobile_call_external_functions"] == 1  # participants of all 10 courses
    assert functions["core_enrol_get_enrolled_users"] == 10
    # Once for the courses the administrator is enrolled in, once more for the others.
    assert functions["mod_assign_get_assignments"] == 2
    assert functions["mod_assign_get_grades"] == 1


def test_without_multicall_the_answer_is_the_same_and_concurrency_bounded(
    flarum: Simulator, moodle: Simulator, world: World
) -> None:
    # The same world's answer, called by hand from the Moodle with no latency.
    expected = expected_class(moodle.url, moodle_login(moodle.url, world.admin.username))
    with running_moodle(world, multicall=False, latency_s=0.03) as old_moodle:
        token = moodle_login(old_moodle.url, world.admin.username)
        with running_gateway(flarum.url, old_moodle.url, {"max_concurrency": 3}) as gateway:
            old_moodle.counter.reset()
            body = gateway.query(CLASS_QUERY, **moodle_headers(token))
            assert "errors" not in body, body["errors"]
            assert body["data"]["courses"]["nodes"] == expected
            assert 1 < old_moodle.counter.peak_in_flight <= 3
            # The refusal is remembered: the next query goes straight to single calls.
            old_moodle.app.state.calls.reset()
            gateway.query(CLASS_QUERY, **moodle_headers(token))
            assert (
                "tool_mobile_call_external_functions" not in old_moodle.app.state.calls.snapshot()
            )


def test_a_custom_service_without_multicall_falls_back(
    school: Gateway, moodle: Simulator, world: World
) -> None:
    token = moodle_login(moodle.url, world.admin.username, service="legacygraph")
    body = school.query(CLASS_QUERY, **moodle_headers(token))
    assert "errors" not in body
    assert body["data"]["courses"]["nodes"] == expected_class(moodle.url, token)


def students_and_teachers(world: World) -> tuple[int, str, str]:
    """A visible course, one of its teachers, and a student with at least two grades in it."""
    course = next(c for c in world.courses if c.visible)
    teacher = next(
        e for e in world.enrolments if e.course_id == course.id and e.role == "editingteacher"
    )
    assignments = {a.id for a in world.assignments if a.course_id == course.id}
    student = next(
        e
        for e in world.enrolments
        if e.course_id == course.id
        and e.role == "student"
        and sum(g.person_id == e.person_id and g.assignment_id in assignments for g in world.grades)
        >= 2
    )
    people = {p.id: p.username for p in world.people}
    return course.id, people[teacher.person_id], people[student.person_id]


GRADES = """query($id: ID!) { course(id: $id) { assignments { name
  grades { grade user { id username } grader { fullName } } submissions { status user { username } } } } }"""


def test_a_student_sees_their_own_grades_and_a_teacher_the_class(
    school: Gateway, moodle: Simulator, world: World
) -> None:
    course_id, teacher, student = students_and_teachers(world)
    variables = {"id": GlobalId("moodle", "Course", str(course_id)).encode()}
    as_teacher = school.query(
        GRADES, variables, **moodle_headers(moodle_login(moodle.url, teacher))
    )
    as_student = school.query(
        GRADES, variables, **moodle_headers(moodle_login(moodle.url, student))
    )
    assert "errors" not in as_teacher and "errors" not in as_student, as_student
    class_users = {
        g["user"]["id"] for a in as_teacher["data"]["course"]["assignments"] for g in a["grades"]
    }
    assert len(class_users) > 3
    own = [g for a in as_student["data"]["course"]["assignments"] for g in a["grades"]]
    assert {g["user"]["username"] for g in own} <= {student}
    person = next(p for p in world.people if p.username == student)
    seeded = {(g.assignment_id, g.grade) for g in world.grades if g.person_id == person.id}
    assignment_ids = {a.id for a in world.assignments if a.course_id == course_id}
    assert sorted(g["grade"] for g in own) == sorted(s[1] for s in seeded if s[0] in assignment_ids)
    assert len(own) >= 2
    assert all(g["grader"]["fullName"] for g in own)  # a student may see who graded them
    own_subs = [s for a in as_student["data"]["course"]["assignments"] for s in a["submissions"]]
    assert {s["user"]["username"] for s in own_subs} == {student}


def test_a_wrong_token_fails_moodle_only(
    school: Gateway, moodle: Simulator, flarum: Simulator
) -> None:
    body = school.query(
        "{ courses { nodes { fullName } } discussions(first: 2) { nodes { title } } viewer { moodle { username } } }",
        **moodle_headers("0" * 32),
    )
    errors = errors_by_path(body)
    assert errors["courses"]["extensions"] == {
        "code": "UNAUTHENTICATED",
        "source": "MOODLE",
        "upstreamCode": "invalidtoken",
    }
    assert errors["viewer.moodle"]["extensions"]["code"] == "UNAUTHENTICATED"
    assert len(body["data"]["discussions"]["nodes"]) == 2


def test_no_moodle_token_means_no_moodle_request(school: Gateway, moodle: Simulator) -> None:
    moodle.counter.reset()
    body = school.query("{ courses { nodes { fullName } } viewer { moodle { username } } }")
    assert errors_by_path(body)["courses"]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body["data"]["viewer"] == {"moodle": None}
    assert moodle.counter.total == 0


def test_viewer_and_their_courses(school: Gateway, moodle: Simulator, world: World) -> None:
    _, _, student = students_and_teachers(world)
    person = next(p for p in world.people if p.username == student)
    body = school.query(
        "{ viewer { moodle { id username email fullName courses(first: 50) { totalCount nodes { shortName } } } } }",
        **moodle_headers(moodle_login(moodle.url, student)),
    )
    viewer = body["data"]["viewer"]["moodle"]
    assert viewer["username"] == student and viewer["email"] == person.email
    assert GlobalId.decode(viewer["id"]).upstream_id == str(moodle_user_id(person.id))
    enrolled = {
        c.shortname
        for c in world.courses
        for e in world.enrolments
        if e.course_id == c.id and e.person_id == person.id and c.visible
    }  # Moodle leaves hidden courses out of a user's courses, even their own
    assert {c["shortName"] for c in viewer["courses"]["nodes"]} == enrolled
    assert viewer["courses"]["totalCount"] == len(enrolled)


def test_participants_filter_by_role_and_page(
    school: Gateway, moodle: Simulator, world: World
) -> None:
    course_id, teacher, _ = students_and_teachers(world)
    query = """query($id: ID!, $after: String) { course(id: $id) {
      teachers: participants(role: TEACHER) { totalCount nodes { id } }
      students: participants(role: STUDENT, first: 5, after: $after) { totalCount nodes { id } pageInfo { hasNextPage endCursor } }
    } }"""
    variables: dict[str, Any] = {"id": GlobalId("moodle", "Course", str(course_id)).encode()}
    token = moodle_login(moodle.url, teacher)
    first = school.query(query, variables, **moodle_headers(token))["data"]["course"]
    enrolled = [e for e in world.enrolments if e.course_id == course_id]
    assert first["teachers"]["totalCount"] == sum(e.role == "editingteacher" for e in enrolled)
    assert first["students"]["totalCount"] == sum(e.role == "student" for e in enrolled)
    variables["after"] = first["students"]["pageInfo"]["endCursor"]
    second = school.query(query, variables, **moodle_headers(token))["data"]["course"]
    names = [n["id"] for n in first["students"]["nodes"] + second["students"]["nodes"]]
    assert len(names) == 10 and len(set(names)) == 10


def test_course_completion_of_a_student(school: Gateway, moodle: Simulator, world: World) -> None:
    done = next(c for c in world.completions if c.completed_at is not None)
    person = next(p for p in world.people if p.id == done.person_id)
    body = school.query(
        "query($c: ID!, $u: ID!) { course(id: $c) { completion(userId: $u) { completed timeCompleted criteria { title complete } } } }",
        {
            "c": GlobalId("moodle", "Course", str(done.course_id)).encode(),
            "u": GlobalId("moodle", "MoodleUser", str(moodle_user_id(person.id))).encode(),
        },
        **moodle_headers(moodle_login(moodle.url, person.username)),
    )
    completion = body["data"]["course"]["completion"]
    assert completion["completed"] is True
    assert completion["timeCompleted"].startswith(done.completed_at.date().isoformat())  # type: ignore[union-attr]
    assert completion["criteria"][0]["complete"] is True


def test_login_and_node_lookup(school: Gateway, world: World) -> None:
    person = world.people[3]
    body = school.query(
        'mutation($u: String!) { login(source: MOODLE, username: $u, password: "demo-password")'
        " { token account { __typename username } } }",
        {"u": person.username},
    )
    payload = body["data"]["login"]
    assert payload["account"] == {"__typename": "MoodleUser", "username": person.username}
    course = next(e.course_id for e in world.enrolments if e.person_id == person.id)
    assignment = next(a for a in world.assignments if a.course_id == course)
    ids = [
        GlobalId("moodle", "Course", str(course)).encode(),
        GlobalId("moodle", "Assignment", str(assignment.id)).encode(),
        GlobalId("moodle", "MoodleUser", str(moodle_user_id(person.id))).encode(),
    ]
    nodes = school.query(
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }",
        {"ids": ids},
        **moodle_headers(payload["token"]),
    )["data"]["nodes"]
    assert [(n["__typename"], n["id"]) for n in nodes] == list(
        zip(["Course", "Assignment", "MoodleUser"], ids, strict=True)
    )
    refused = school.query(
        'mutation { login(source: MOODLE, username: "ada.costa", password: "nope") { token } }'
    )
    assert errors_by_path(refused)["login"]["extensions"] == {
        "code": "UNAUTHENTICATED",
        "source": "MOODLE",
        "upstreamCode": "invalidlogin",
    }


@pytest.mark.parametrize("search", ["Biology", "bio"])
def test_course_search(school: Gateway, moodle: Simulator, world: World, search: str) -> None:
    body = school.query(
        "query($s: String!) { courses(search: $s) { totalCount nodes { shortName } } }",
        {"s": search},
        **moodle_headers(moodle_login(moodle.url, world.admin.username)),
    )
    assert body["data"]["courses"] == {"totalCount": 1, "nodes": [{"shortName": "BIO110"}]}


def test_flarum_and_moodle_in_one_query(
    school: Gateway, flarum: Simulator, moodle: Simulator, world: World
) -> None:
    person = world.people[5]
    body = school.query(
        "{ viewer { flarum { username } moodle { username } } }",
        **flarum_headers(login(flarum.url, person.username)),
        **moodle_headers(moodle_login(moodle.url, person.username)),
    )
    assert body["data"]["viewer"] == {
        "flarum": {"username": person.username},
        "moodle": {"username": person.username},
    }
    assert json.dumps(body).count(person.username) == 2


def test_students_who_have_not_completed_each_course_cost_three_requests(
    school: Gateway, moodle: Simulator, world: World
) -> None:
    query = """{ courses(first: 50) { nodes { upstreamId
      open: completions(completed: false) { learner { email } completion { completed } }
      all: completions { completion { completed } }
    } } }"""
    token = moodle_login(moodle.url, world.admin.username)  # a manager in every course
    moodle.counter.reset()
    body = school.query(query, **moodle_headers(token))
    assert "errors" not in body, body["errors"]
    # The courses, one multi-call with every participant list, one with every completion.
    assert moodle.counter.total == 3
    email_of = {p.id: p.email for p in world.people}
    courses = body["data"]["courses"]["nodes"]
    assert len(courses) == len({c.course_id for c in world.completions})
    for course in courses:
        kept = [c for c in world.completions if c.course_id == int(course["upstreamId"])]
        unfinished = {email_of[c.person_id] for c in kept if c.completed_at is None}
        assert {row["learner"]["email"] for row in course["open"]} == unfinished
        assert all(row["completion"]["completed"] is False for row in course["open"])
        assert len(course["all"]) == len(kept)  # students only, by default
    assert any(row["completion"]["completed"] for course in courses for row in course["all"])


def test_completions_moodle_cannot_tell_fail_their_own_entries(
    flarum: Simulator, world: World
) -> None:
    """A course without completion criteria answers `nocriteriaset` for each learner, one with
    completion switched off `cannotviewreport`: those entries say why, the others answer."""
    no_criteria, switched_off, fine = [c.id for c in world.courses if c.visible][:3]
    query = """{ courses(first: 50) { nodes { upstreamId
      completions { learner { id } completion { completed } } } } }"""
    with running_moodle(world) as moodle, running_gateway(flarum.url, moodle.url) as gateway:
        store = moodle.app.state.store
        store.execute("UPDATE courses SET criteria = 0 WHERE id = ?", (no_criteria,))
        store.execute("UPDATE courses SET enablecompletion = 0 WHERE id = ?", (switched_off,))
        body = gateway.query(
            query, **moodle_headers(moodle_login(moodle.url, world.admin.username))
        )
    courses = {int(c["upstreamId"]): c for c in body["data"]["courses"]["nodes"]}
    students = {
        c: sum(e.course_id == c and e.role == "student" for e in world.enrolments) for c in courses
    }
    for course, code, upstream in (
        (no_criteria, "NOT_FOUND", "nocriteriaset"),
        (switched_off, "FORBIDDEN", "cannotviewreport"),
    ):
        rows = courses[course]["completions"]
        assert len(rows) == students[course] and all(r["completion"] is None for r in rows)
        index = list(courses).index(course)
        errors = [e for e in body["errors"] if e["path"][:3] == ["courses", "nodes", index]]
        assert len(errors) == students[course]
        assert {(e["extensions"]["code"], e["extensions"]["upstreamCode"]) for e in errors} == {
            (code, upstream)
        }
        assert {tuple(e["path"][3:]) for e in errors} == {
            ("completions", i, "completion") for i in range(len(rows))
        }
    assert all(r["completion"] is not None for r in courses[fine]["completions"])
    assert len(body["errors"]) == students[no_criteria] + students[switched_off]
