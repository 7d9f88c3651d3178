"""The Moodle connector's activity completion, course contents, assignment user flags and
instant messages, replayed from a real Moodle 4.5.6 (`tests/recordings/moodle-4.5.6/issue27.jsonl`,
recorded per role by `setup/record_issue27.py` over the data of `setup/makedata_issue27.php`).

That site's MATH101 (course 2) has Essay 1 (cm 1, assignment 1, complete on a grade), Draft Work
(cm 2, untracked), Reading 1 (cm 5, a page, manual), Answers (cm 6, a hidden page), Lab Report
(cm 7, assignment 5, complete on a pass grade) and Group Project (cm 8, assignment 6, marking
workflow). student2 (user 6) has an extension on Essay 1 and on Group Project; student3 (7) is
`inmarking` in Group Project with teacher2 (4) allocated, blocks student1 (5), and student4 (8)
takes messages from contacts only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl

import httpx
import pytest

from connectors.errors import BadRequest, Forbidden, NotFound, Unavailable
from connectors.http import CallStats, Upstream
from connectors.moodle import (
    Activity,
    ActivityCompletion,
    MessageSent,
    Moodle,
    MoodleAuth,
    OwnStatus,
)
from tests.realworld import MULTICALL, RecordedMoodle, exchanges

RECORDING = "issue27.jsonl"
MATH, LIT, HID, CODE = 2, 3, 4, 5
S1, S2, S3, S4, S5, T1, T2, OUTSIDER = 5, 6, 7, 8, 9, 3, 4, 11
TEXT = "Please finish Essay 1 this week."


def moodle_as(user: str, site: RecordedMoodle | None = None) -> tuple[Moodle, RecordedMoodle]:
    site = site or RecordedMoodle(RECORDING)
    client = httpx.AsyncClient(transport=httpx.MockTransport(site))
    return Moodle(
        Upstream("moodle", client, "http://moodle.test", MoodleAuth(user), CallStats())
    ), site


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


async def caller_is(user_id: int) -> int:
    return user_id


def test_the_recording_holds_every_role_for_every_function() -> None:
    recorded = exchanges("moodle-4.5.6", RECORDING)
    roles: dict[str, set[str]] = {}
    for exchange in recorded:
        roles.setdefault(exchange["function"], set()).add(exchange["as"])
    for function in (
        "core_course_get_contents",
        "core_completion_get_activities_completion_status",
        "mod_assign_get_user_flags",
        "core_message_send_instant_messages",
    ):
        assert {"admin", "teacher", "noneditingteacher", "student"} <= roles[function], function
    assert all("wstoken" not in e["params"] for e in recorded)


async def test_a_course_s_activities_name_what_completion_states_number() -> None:
    moodle, site = moodle_as("teacher1")
    (activities,) = await moodle.activities([MATH])
    assert isinstance(activities, list)
    assert [(a.id, a.name, a.kind, a.instance, a.tracking, a.visible) for a in activities] == [
        (1, "Essay 1", "assign", 1, 2, True),
        (2, "Draft Work", "assign", 2, 0, True),
        (5, "Reading 1", "page", 1, 1, True),
        (6, "Answers", "page", 2, 1, False),
        (7, "Lab Report", "assign", 5, 2, True),
        (8, "Group Project", "assign", 6, 2, True),
    ]
    assert activities[0] == Activity(
        id=1,
        course_id=MATH,
        name="Essay 1",
        kind="assign",
        instance=1,
        section="General",
        visible=True,
        tracking=2,
        url="http://127.0.0.1:9201/mod/assign/view.php?id=1",
    )
    assert site.missing == []


async def test_a_learner_does_not_get_the_hidden_activity() -> None:
    moodle, _ = moodle_as("student1")
    (activities,) = await moodle.activities([MATH])
    assert isinstance(activities, list)
    assert [a.id for a in activities] == [1, 2, 5, 7, 8]


async def test_activities_of_courses_the_caller_may_not_enter_are_refusals_in_their_slot() -> None:
    moodle, site = moodle_as("teacher1")
    math, lit = await moodle.activities([MATH, LIT])
    assert isinstance(math, list) and isinstance(lit, list)
    assert [a.name for a in lit] == ["Poem"]
    assert site.functions() == [
        MULTICALL,
        "  core_course_get_contents",
        "  core_course_get_contents",
    ]
    (unknown,) = await moodle.activities([999])
    assert isinstance(unknown, NotFound)
    outsider, _ = moodle_as("outsider")
    (refused,) = await outsider.activities([MATH])
    assert isinstance(refused, Forbidden) and refused.upstream_code == "errorcoursecontextnotvalid"


async def test_a_class_s_activity_completion_is_one_multi_call() -> None:
    moodle, site = moodle_as("teacher1")
    keys = [(MATH, u) for u in (S1, S2, S3, S4, S5)]
    found = await moodle.activity_completions(keys, caller=lambda: caller_is(T1))
    assert (
        site.functions()
        == [MULTICALL] + ["  " + "core_completion_get_activities_completion_status"] * 5
    )
    states = {
        key[1]: {c.activity_id: c.state for c in result}
        for key, result in zip(keys, found, strict=True)
        if isinstance(result, list)
    }
    # Essay 1 on a grade, Reading 1 by hand, Lab Report on a pass grade (2 pass, 3 fail).
    assert states[S1] == {1: 1, 5: 1, 6: 0, 7: 2, 8: 0}
    assert states[S2] == {1: 0, 5: 1, 6: 0, 7: 3, 8: 0}
    assert states[S3] == {1: 1, 5: 0, 6: 0, 7: 0, 8: 1}
    assert states[S5] == {1: 0, 5: 0, 6: 0, 7: 0, 8: 0}
    first = found[0]
    assert isinstance(first, list)
    assert first[0] == ActivityCompletion(
        course_id=MATH,
        user_id=S1,
        activity_id=1,
        kind="assign",
        instance=1,
        state=1,
        time_completed=at(1796594407),
        tracking=2,
        tracked=True,
    )


async def test_the_non_editing_teacher_reads_the_class_as_well() -> None:
    moodle, site = moodle_as("teacher2")
    found = await moodle.activity_completions([(MATH, u) for u in (S1, S2, S3, S4, S5)])
    assert all(isinstance(result, list) for result in found)
    assert site.missing == []


async def test_a_learner_reads_their_own_and_is_refused_a_classmate_s_in_one_round() -> None:
    moodle, site = moodle_as("student1")
    own, classmate, other = await moodle.activity_completions(
        [(MATH, S1), (MATH, S2), (MATH, S3)], caller=lambda: caller_is(S1)
    )
    assert isinstance(own, list) and [c.activity_id for c in own] == [1, 5, 7, 8]
    assert isinstance(classmate, Forbidden) and classmate.upstream_code == "nopermissions"
    # The refusal holds for every classmate: not one more round for student3.
    assert other is classmate
    assert [f for f in site.functions() if f == MULTICALL] == [MULTICALL]


async def test_a_course_refusal_answers_every_learner_of_it() -> None:
    moodle, site = moodle_as("outsider")
    refused, also = await moodle.activity_completions([(MATH, S1), (MATH, S2)])
    assert isinstance(refused, Forbidden) and refused.upstream_code == "requireloginerror"
    assert also is refused and site.missing == []  # student2 was not asked about
    teacher, _ = moodle_as("teacher1")
    unknown_user, unknown_course = await teacher.activity_completions([(MATH, 99999), (999, S1)])
    assert isinstance(unknown_user, NotFound) and unknown_user.upstream_code == "invaliduser"
    assert isinstance(unknown_course, NotFound) and unknown_course.upstream_code == "invalidrecord"


async def test_a_teacher_s_own_activities_are_untracked_and_an_untracked_course_lists_none() -> (
    None
):
    moodle, _ = moodle_as("teacher1")
    teacher, lit, code = await moodle.activity_completions([(MATH, T2), (LIT, S1), (CODE, T1)])
    assert isinstance(teacher, list) and {c.tracked for c in teacher} == {False}
    assert {c.state for c in teacher} == {0}
    assert lit == [] and code == []


async def test_user_flags_name_extensions_workflow_states_and_markers() -> None:
    moodle, site = moodle_as("teacher1")
    found, denied = await moodle.user_flags([6, 5, 4, 3, 2, 1])
    # Sorted ids: the recorded request.
    assert site.missing == []
    assert denied == {4}  # Hello World, where teacher1 is a student
    essay = {f.user_id: f for f in found[1]}
    assert essay[S2].extension_due_date == at(1797804006)
    assert essay[S1].extension_due_date is None
    project = {f.user_id: f for f in found[6]}
    assert project[S2].extension_due_date == at(1798324196)
    assert project[S3].workflow_state == "inmarking"
    assert project[S3].allocated_marker_id == T2
    assert project[S2].workflow_state is None and project[S2].allocated_marker_id is None
    assert 2 not in found  # "No user flags found": no learner has a row


async def test_a_learner_may_not_read_user_flags_but_has_their_own_extension_in_the_status() -> (
    None
):
    moodle, _ = moodle_as("student2")
    found, denied = await moodle.user_flags([1])
    assert found == {} and denied == {1}
    (status,) = await moodle.own_statuses([1])
    assert isinstance(status, OwnStatus)
    assert status.extension_due_date == at(1797804006)


async def test_an_unknown_assignment_has_no_flags_and_is_not_denied() -> None:
    moodle, _ = moodle_as("teacher1")
    assert await moodle.user_flags([999]) == ({}, set())


async def test_messages_go_one_a_call_in_one_multi_call_with_a_refusal_per_recipient() -> None:
    moodle, site = moodle_as("student1")
    sent, blocked, contacts_only, stranger, unknown = await moodle.send_messages(
        [S2, S3, S4, OUTSIDER, 99999], TEXT
    )
    assert site.functions() == [MULTICALL] + ["  core_message_send_instant_messages"] * 5
    assert isinstance(sent, MessageSent) and sent.user_id == S2 and sent.message_id == 11
    assert sent.conversation_id == 10 and sent.time_sent == at(1796596244)
    for refused in (blocked, contacts_only, stranger):
        assert isinstance(refused, Forbidden) and refused.upstream_code == "usercantbemessaged"
    assert isinstance(unknown, NotFound) and unknown.upstream_code == "touserdoesntexist"


async def test_a_message_alone_goes_alone() -> None:
    moodle, site = moodle_as("teacher2")
    (sent,) = await moodle.send_messages([S4], TEXT)
    assert isinstance(sent, MessageSent) and sent.message_id == 15
    assert site.functions() == ["core_message_send_instant_messages"]


async def test_messaging_switched_off_refuses_every_recipient_and_sends_nothing_after() -> None:
    recorded = [
        e
        for e in exchanges("moodle-4.5.6", RECORDING)
        if e["case"].startswith("messaging disabled")
    ]
    multi = next(e for e in recorded if e["function"] == MULTICALL)
    forms: list[dict[str, str]] = []

    def respond(request: httpx.Request) -> httpx.Response:
        forms.append(dict(parse_qsl(request.content.decode())))
        return httpx.Response(200, json=multi["body"])

    client = httpx.AsyncClient(transport=httpx.MockTransport(respond))
    moodle = Moodle(Upstream("moodle", client, "http://m.test", MoodleAuth("t"), CallStats()))
    first, second = await moodle.send_messages([S3, S5], TEXT)
    assert isinstance(first, Forbidden) and first.upstream_code == "disabled"
    assert second is first
    assert len(forms) == 1


async def test_a_lost_answer_is_not_sent_again() -> None:
    forms: list[str] = []

    def respond(request: httpx.Request) -> httpx.Response:
        forms.append(request.content.decode())
        return httpx.Response(503, text="down")

    client = httpx.AsyncClient(transport=httpx.MockTransport(respond))
    moodle = Moodle(Upstream("moodle", client, "http://m.test", MoodleAuth("t"), CallStats()))
    results = await moodle.send_messages([S2, S3], TEXT)
    assert all(isinstance(r, Unavailable) for r in results)
    assert len(forms) == 1  # never retried, whatever the read retries are


@pytest.mark.parametrize("text", ["x" * 4097, "é" * 2049])
async def test_a_message_longer_than_moodle_takes_is_refused_before_sending(text: str) -> None:
    forms: list[str] = []

    def respond(request: httpx.Request) -> httpx.Response:
        forms.append(request.content.decode())
        return httpx.Response(200, json=[])

    client = httpx.AsyncClient(transport=httpx.MockTransport(respond))
    moodle = Moodle(Upstream("moodle", client, "http://m.test", MoodleAuth("t"), CallStats()))
    (refused,) = await moodle.send_messages([S2], text)
    assert isinstance(refused, BadRequest) and refused.upstream_code == "errormessagetoolong"
    assert forms == []


def test_moodle_itself_refuses_the_long_message_with_the_words_the_connector_reads() -> None:
    (long,) = [e for e in exchanges("moodle-4.5.6", RECORDING) if e["case"] == "a message too long"]
    assert long["body"][0]["msgid"] == -1
    assert "longer than the maximum" in long["body"][0]["errormessage"]


def test_several_messages_in_one_call_lose_their_answers_on_a_refusal() -> None:
    """Why the connector sends one message a call: Moodle sent the first message and then
    answered the whole call with an error."""
    (mixed,) = [
        e
        for e in exchanges("moodle-4.5.6", RECORDING)
        if e["function"] == "core_message_send_instant_messages"
        and "one blocking" in e["case"]
        and "messages[1][touserid]" in e["params"]
        and e["user"] == "student1"
    ]
    assert mixed["body"]["errorcode"] == "formatnotsupported"
