"""The Moodle simulator states what the real Moodle 4.5.6 answered issue 27's functions
(`tests/recordings/moodle-4.5.6/issue27.jsonl`), on the demo world's people and courses: the same
keys, the same refusals, the same warnings. Raw HTTP, no connector."""

from __future__ import annotations

from typing import Any

import pytest

from simulators.moodle.store import EXTENSION_S, PAGE_CMID
from simulators.world import World
from tests.conftest import Simulator
from tests.realworld import exchanges
from tests.simulators.test_moodle_facts import School

CONTENTS = "core_course_get_contents"
STATUS = "core_completion_get_activities_completion_status"
FLAGS = "mod_assign_get_user_flags"
SEND = "core_message_send_instant_messages"
NO_CONTENTS = {"options[0][name]": "excludecontents", "options[0][value]": "1"}
TEXT = "Please finish this week."


@pytest.fixture
def school(moodle: Simulator, world: World) -> School:
    return School(moodle, world)


@pytest.fixture
def fresh_school(fresh_moodle: Simulator, world: World) -> School:
    return School(fresh_moodle, world)


def recorded(function: str, case: str | None = None, user: str | None = None) -> dict[str, Any]:
    return next(
        e
        for e in exchanges("moodle-4.5.6", "issue27.jsonl")
        if e["function"] == function
        and (case is None or e["case"] == case)
        and (user is None or e["user"] == user)
    )


def keys(value: Any) -> set[str]:
    return set(value) if isinstance(value, dict) else set()


def error_of(body: Any) -> tuple[str, str, str]:
    return body["exception"], body["errorcode"], body["message"]


def test_a_course_s_contents_have_the_real_keys_and_name_each_activity(school: School) -> None:
    real = recorded(CONTENTS, "activities of MATH101, contents left out", "teacher1")["body"]
    sections = school.call(school.teacher, CONTENTS, courseid=school.course, **NO_CONTENTS)
    assert keys(sections[0]) == keys(real[0])
    real_module = real[0]["modules"][0]  # Essay 1, complete on a grade
    module = sections[0]["modules"][0]
    assert keys(module) == keys(real_module)
    assert keys(module["completiondata"]) == keys(real_module["completiondata"])
    assignments = [a for a in school.world.assignments if a.course_id == school.course]
    listed = {m["id"]: m for s in sections for m in s["modules"]}
    for assignment in assignments:
        assert listed[100 + assignment.id]["name"] == assignment.name
        assert listed[100 + assignment.id]["instance"] == assignment.id
        assert listed[100 + assignment.id]["completion"] == 2
    assert listed[PAGE_CMID + school.course]["completion"] == 1


def test_contents_of_a_course_the_caller_may_not_enter(school: School) -> None:
    real = recorded(CONTENTS, "activities of MATH101, contents left out", "outsider")["body"]
    body = school.call(school.outsider, CONTENTS, courseid=school.course, **NO_CONTENTS)
    assert error_of(body) == error_of(real) or (
        body["errorcode"] == real["errorcode"] and f"(course id:{school.course})" in body["message"]
    )
    unknown = recorded(CONTENTS, "activities of an unknown course")["body"]
    assert error_of(school.call(school.teacher, CONTENTS, courseid=99999)) == error_of(unknown)


def test_activity_completion_has_the_real_keys_and_no_names(school: School) -> None:
    real = recorded(STATUS, "activity completion of a learner, as the editing teacher")["body"]
    student = school.id_of(school.student)
    body = school.call(school.teacher, STATUS, courseid=school.course, userid=student)
    assert keys(body) == keys(real)
    assert keys(body["statuses"][0]) == keys(real["statuses"][0])
    assert "name" not in body["statuses"][0]
    assert {s["tracking"] for s in body["statuses"]} == {1, 2}
    assert all(s["isoverallcomplete"] == (s["state"] in (1, 2)) for s in body["statuses"])


def test_a_classmate_s_activity_completion_is_refused_as_on_the_real_site(school: School) -> None:
    real = recorded(STATUS, "a classmate's activity completion")["body"]
    classmate = school.id_of(school.classmate)
    body = school.call(school.student, STATUS, courseid=school.course, userid=classmate)
    assert error_of(body) == error_of(real)
    own = school.call(
        school.student, STATUS, courseid=school.course, userid=school.id_of(school.student)
    )
    assert own["statuses"]


@pytest.mark.parametrize(
    ("case", "course", "user"),
    [
        ("activity completion in a course the caller is not in", "course", "student"),
        ("activity completion of an unknown user", "course", 99999),
        ("activity completion in an unknown course", 99999, "student"),
    ],
)
def test_activity_completion_refusals(school: School, case: str, course: Any, user: Any) -> None:
    real = recorded(STATUS, case)["body"]
    caller = school.outsider if "not in" in case else school.teacher
    courseid = school.course if course == "course" else course
    userid = school.id_of(school.student) if user == "student" else user
    assert error_of(school.call(caller, STATUS, courseid=courseid, userid=userid)) == error_of(real)


def test_a_teacher_s_own_activities_are_untracked(school: School) -> None:
    real = recorded(STATUS, "activity completion of a teacher (not a learner)")["body"]
    assert {s["istrackeduser"] for s in real["statuses"]} == {False}
    teacher = school.id_of(school.teacher)
    body = school.call(school.teacher, STATUS, courseid=school.course, userid=teacher)
    assert {s["istrackeduser"] for s in body["statuses"]} == {False}
    assert {s["state"] for s in body["statuses"]} == {0}


def test_user_flags_for_graders_with_the_real_warnings(school: School) -> None:
    real = recorded(FLAGS, "user flags of every assignment", "teacher1")["body"]
    assignment = school.assignment()
    body = school.call(school.teacher, FLAGS, **{"assignmentids[0]": assignment})
    assert keys(body) == keys(real)
    flags = body["assignments"][0]["userflags"]
    assert keys(flags[0]) == keys(real["assignments"][0]["userflags"][0])
    due = next(a.due for a in school.world.assignments if a.id == assignment)
    assert due is not None
    extended = [f for f in flags if f["extensionduedate"]]
    assert [f["extensionduedate"] for f in extended] == [int(due.timestamp()) + EXTENSION_S]
    learner = recorded(FLAGS, "user flags of one assignment", "student2")["body"]
    body = school.call(school.student, FLAGS, **{"assignmentids[0]": assignment})
    assert body == {
        "assignments": [],
        "warnings": [{**learner["warnings"][0], "itemid": assignment}],
    }
    unknown = recorded(FLAGS, "user flags of an unknown assignment")["body"]
    assert school.call(school.teacher, FLAGS, **{"assignmentids[0]": 999}) == unknown


def messages(*recipients: int, text: str = TEXT) -> dict[str, Any]:
    form: dict[str, Any] = {}
    for index, user in enumerate(recipients):
        form |= {
            f"messages[{index}][touserid]": user,
            f"messages[{index}][text]": text,
            f"messages[{index}][textformat]": 2,
        }
    return form


def test_messages_and_their_refusals_as_on_the_real_site(fresh_school: School) -> None:
    school = fresh_school
    student, classmate = school.id_of(school.student), school.id_of(school.classmate)
    store = school.sim.app.state.store
    sent = school.call(school.student, SEND, **messages(classmate))
    real_sent = recorded(SEND, "a message to one user", "student1")["body"]
    assert keys(sent[0]) == keys(real_sent[0])
    assert sent[0]["text"] == f"<p>{TEXT}</p>"
    store.block(classmate, student)
    refused = school.call(school.student, SEND, **messages(classmate))
    real_refused = next(
        e["body"]
        for e in exchanges("moodle-4.5.6", "issue27.jsonl")
        if e["function"] == SEND
        and e["user"] == "student1"
        and isinstance(e["body"], list)
        and e["body"][0]["msgid"] == -1
    )
    assert refused == real_refused
    # A teacher of a course in common messages a learner whatever they block.
    store.take_messages_from_contacts_only(classmate)
    assert school.call(school.teacher, SEND, **messages(classmate))[0]["msgid"] > 0
    unknown = recorded(SEND, "a message to one user", "student1")
    assert unknown["body"][0]["msgid"] > 0  # the classmate; the unknown user comes last
    nobody = school.call(school.student, SEND, **messages(99999))
    assert nobody[0]["errormessage"].endswith("(99999) that doesn't exist.")


def test_several_messages_where_one_is_refused_answer_formatnotsupported(
    fresh_school: School,
) -> None:
    school = fresh_school
    real = recorded(SEND, user="student1")  # the first, mixed call
    assert real["body"]["errorcode"] == "formatnotsupported"
    student, classmate = school.id_of(school.student), school.id_of(school.classmate)
    school.sim.app.state.store.block(classmate, student)
    teacher = school.id_of(school.teacher)
    before = school.sim.app.state.store.scalar("SELECT COUNT(*) FROM messages")
    body = school.call(school.student, SEND, **messages(teacher, classmate))
    assert error_of(body) == error_of(real["body"])
    # Sent all the same, as on the real site.
    assert school.sim.app.state.store.scalar("SELECT COUNT(*) FROM messages") == before + 1


def test_messaging_switched_off(fresh_school: School) -> None:
    school = fresh_school
    real = recorded(SEND, "messaging disabled on the site")["body"]
    school.sim.app.state.store.messaging = False
    body = school.call(school.teacher, SEND, **messages(school.id_of(school.student)))
    assert error_of(body) == error_of(real)
    empty = recorded(SEND, "no messages")["body"]
    school.sim.app.state.store.messaging = True
    assert error_of(school.call(school.teacher, SEND)) == error_of(empty)


def test_a_message_too_long(school: School) -> None:
    real = recorded(SEND, "a message too long")["body"]
    body = school.call(
        school.student, SEND, **messages(school.id_of(school.classmate), text="x" * 4097)
    )
    assert body == real
