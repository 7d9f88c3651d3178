"""The Moodle connector against what a real Moodle 4.5.6 answered
(`tests/recordings/moodle-4.5.6/`).

Every recorded answer of a function the connector calls goes through the connector's own method
for that function: it parses, or maps to the error its code means; it never escapes as anything
but an `UpstreamError`. Where the connector can send the recorded request itself, the request is
checked too: the same function, the same parameter names and values.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from connectors.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    ProtocolError,
    Unauthenticated,
    Unavailable,
    UpstreamError,
)
from connectors.http import CallStats, Upstream
from connectors.moodle import Call, Course, Grade, Moodle, MoodleAuth, OwnStatus
from tests.realworld import RecordedMoodle, exchanges

RECORDED = exchanges("moodle-4.5.6")
BY_SEQ = {e["seq"]: e for e in RECORDED}

KIND_OF_CODE: dict[str, type[UpstreamError]] = {
    "invalidtoken": Unauthenticated,
    "accessexception": Forbidden,
    "invalidparameter": BadRequest,
    "dmlreadexception": BadRequest,
    "invalidrecord": NotFound,
    "invaliduser": NotFound,
    "errorcoursecontextnotvalid": Forbidden,
    "nopermissions": Forbidden,
    "nopermission": Forbidden,
    "requireloginerror": Forbidden,
    "cannotviewreport": Forbidden,
    "nocriteriaset": NotFound,
    "usernotenroled": NotFound,
    "codingerror": ProtocolError,
    # `login/token.php`
    "invalidlogin": Unauthenticated,
    "noguest": Unauthenticated,
    "servicenotavailable": Unavailable,
    "cannotcreatetoken": Forbidden,
    "missingparam": BadRequest,
}
"""What each error code a real Moodle sent means to the graph (its `extensions.code`)."""


def ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip().isdigit()]


def listed(arguments: dict[str, str], name: str) -> list[str]:
    return [v for k, v in arguments.items() if k.startswith(f"{name}[")]


def number(text: str | None) -> int:
    return int(text) if text and text.isdigit() else 0


def multicalls(arguments: dict[str, str]) -> list[Call]:
    calls, index = [], 0
    while f"requests[{index}][function]" in arguments:
        try:
            decoded = json.loads(arguments.get(f"requests[{index}][arguments]", "{}"))
        except ValueError:
            decoded = {}
        calls.append(Call(arguments[f"requests[{index}][function]"], decoded))
        index += 1
    return calls


def courses_by_field(moodle: Moodle, a: dict[str, str]) -> Awaitable[Any]:
    if a.get("field") == "ids" and ints(a["value"]):
        return moodle.courses_by_id(ints(a["value"]))
    return moodle.courses()


def users_by_field(moodle: Moodle, a: dict[str, str]) -> Awaitable[Any]:
    if a.get("field") == "email":
        return moodle.users_by_email(listed(a, "values"))
    return moodle.users([number(v) for v in listed(a, "values")])


DRIVERS: dict[str, Callable[[Moodle, dict[str, str]], Awaitable[Any]]] = {
    "core_webservice_get_site_info": lambda m, a: m.site_info(),
    "core_course_get_courses_by_field": courses_by_field,
    "core_course_search_courses": lambda m, a: m.search_courses(a.get("criteriavalue", "")),
    "core_enrol_get_users_courses": lambda m, a: m.users_courses([number(a.get("userid"))]),
    "core_enrol_get_enrolled_users": lambda m, a: m.enrolled_users([number(a.get("courseid"))]),
    "core_user_get_users_by_field": users_by_field,
    "mod_assign_get_assignments": lambda m, a: m.assignments(
        [number(v) for v in listed(a, "courseids")]
    ),
    "mod_assign_get_submissions": lambda m, a: m.submissions(
        [number(v) for v in listed(a, "assignmentids")]
    ),
    "mod_assign_get_grades": lambda m, a: m.grades([number(v) for v in listed(a, "assignmentids")]),
    "mod_assign_get_submission_status": lambda m, a: m.own_statuses([number(a.get("assignid"))]),
    "core_completion_get_course_completion_status": lambda m, a: m.completions(
        [(number(a.get("courseid")), number(a.get("userid")))]
    ),
    "tool_mobile_call_external_functions": lambda m, a: m.multicall(multicalls(a)),
    "login/token.php": lambda m, a: m.login(
        a.get("username", ""), a.get("password", ""), a.get("service", "")
    ),
}
"""How the connector asks each function, driven by a recorded request's parameters."""

REPLAYED = [e for e in RECORDED if e["function"] in DRIVERS]


class Replay:
    """Answers the first request with the recorded answer; any request after it (a fallback
    or a second page the connector chose to ask) from the rest of the recorded site."""

    def __init__(self, exchange: dict[str, Any]) -> None:
        self.exchange = exchange
        self.site = RecordedMoodle()
        self.forms: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        form = dict(parse_qsl(request.content.decode(), keep_blank_values=True))
        form.update(parse_qsl(request.url.query.decode(), keep_blank_values=True))
        self.forms.append(form)
        if len(self.forms) > 1:
            return self.site(request)
        body, content_type = self.exchange["body"], self.exchange["content_type"]
        if isinstance(body, str):
            return httpx.Response(200, text=body, headers={"content-type": content_type})
        return httpx.Response(
            200, content=json.dumps(body).encode(), headers={"content-type": content_type}
        )

    def first_request_is_the_recorded_one(self) -> bool:
        if not self.forms:
            return False
        sent = {k: v for k, v in self.forms[0].items() if k != "wstoken"}
        return sent == self.exchange["params"]


def moodle_for(replay: Replay, user: str) -> Moodle:
    client = httpx.AsyncClient(transport=httpx.MockTransport(replay))
    upstream = Upstream("moodle", client, "http://moodle.test", MoodleAuth(user), CallStats())
    return Moodle(upstream)


def errors_in(result: Any) -> list[UpstreamError]:
    """The errors a connector method returned in its slots (lists, dicts, tuples)."""
    if isinstance(result, UpstreamError):
        return [result]
    if isinstance(result, dict):
        return [e for value in result.values() for e in errors_in(value)]
    if isinstance(result, list | tuple):
        return [e for value in result for e in errors_in(value)]
    return []


def recorded_error_code(exchange: dict[str, Any]) -> str | None:
    body = exchange["body"]
    if isinstance(body, dict):
        return body.get("errorcode") or (body.get("exception") and "generalexceptionmessage")
    return None


async def replay(exchange: dict[str, Any]) -> tuple[Replay, Any]:
    recorded = Replay(exchange)
    user = exchange["user"] or exchange["as"]
    arguments = {
        k: v for k, v in exchange["params"].items() if k not in ("wsfunction", "moodlewsrestformat")
    }
    try:
        result: Any = await DRIVERS[exchange["function"]](moodle_for(recorded, user), arguments)
    except UpstreamError as error:
        result = error
    return recorded, result


@pytest.mark.parametrize("exchange", REPLAYED, ids=lambda e: f"{e['seq']}-{e['function']}")
async def test_every_recorded_answer_parses_or_maps_to_its_error(exchange: dict[str, Any]) -> None:
    recorded, result = await replay(exchange)
    if recorded.forms and exchange["function"] != "login/token.php":
        assert recorded.forms[0]["wsfunction"] == exchange["function"]
    code = recorded_error_code(exchange)
    errors = [e for e in errors_in(result) if e.upstream_code != "notrecorded"]
    if not recorded.forms:
        # The connector sends no empty batch; Moodle's answer to one is a refusal.
        assert code == "invalidparameter"
    elif isinstance(exchange["body"], dict) and "responses" in exchange["body"]:
        # A multi-call: each call's own error, in its slot.
        inner = [r["exception"]["errorcode"] for r in exchange["decoded_responses"] if r["error"]]
        assert [type(e) for e in errors] == [KIND_OF_CODE.get(c, ProtocolError) for c in inner]
    elif isinstance(exchange["body"], str):  # the XML answers: no `moodlewsrestformat=json`
        assert errors and all(isinstance(e, ProtocolError) for e in errors)
    elif code is None:
        # A successful answer: every part of it parsed.
        assert not any(isinstance(e, ProtocolError) for e in errors), errors
    elif code == "generalexceptionmessage":
        # 4.5.6's PHP Error for `field=ids` with an unknown id: the connector asked again.
        assert len(recorded.forms) > 1
    else:
        assert errors, f"{code} was not reported"
        assert isinstance(errors[0], KIND_OF_CODE[code]), (code, errors[0])


def test_every_function_the_connector_calls_is_replayed() -> None:
    assert set(DRIVERS) <= {e["function"] for e in REPLAYED}
    assert len(REPLAYED) >= 250


@pytest.mark.parametrize("function", sorted(DRIVERS))
async def test_the_connector_sends_requests_the_real_site_was_sent(function: str) -> None:
    """For each function, some recorded request is exactly what the connector sends."""
    same = []
    for exchange in (e for e in REPLAYED if e["function"] == function):
        recorded, _ = await replay(exchange)
        if recorded.first_request_is_the_recorded_one():
            same.append(exchange["seq"])
    assert same, f"the connector never sends {function} as it was recorded"


# The findings of the real-Moodle issue, one by one, on the recorded answers ------------------


async def test_grades_carry_their_assignment_from_the_parent() -> None:
    """Finding 1: real grade items have no `assignment` key."""
    _, (grades, denied) = await replay(BY_SEQ[177])  # teacher1, all four assignments
    assert {a: [g.grade for g in found] for a, found in grades.items()} == {
        1: [85.0, 42.5, 70.0],
        3: [18.0],
    }
    assert all(isinstance(g, Grade) and g.assignment_id == a for a, f in grades.items() for g in f)
    # "1" (teacher1 is a student in CODE301) is a refusal; "3", "No grades found", is not.
    assert denied == {4}


async def test_no_grades_found_is_no_refusal() -> None:
    """Finding 2: warning "3" (also for unknown ids) is not "may not grade"."""
    for seq in (181, 183):  # a gradable assignment with no grades; an unknown id
        _, (grades, denied) = await replay(BY_SEQ[seq])
        assert (grades, denied) == ({}, set())
    _, (grades, denied) = await replay(BY_SEQ[179])  # student1: no access to any
    assert (grades, denied) == ({}, {1, 2, 3, 4})


async def test_an_empty_submission_list_is_no_refusal() -> None:
    _, (found, denied) = await replay(BY_SEQ[169])  # status=draft matched nothing: warning "3"
    assert (found, denied) == ({1: []}, set())
    _, (found, denied) = await replay(BY_SEQ[165])  # student1
    assert (found, denied) == ({}, {1, 2})


async def test_the_site_front_page_is_no_course() -> None:
    """Finding 3: the course list starts with the site (id 1, format site, category 0)."""
    for seq in (13, 14, 16, 17):  # admin, teacher, student, outsider
        _, courses = await replay(BY_SEQ[seq])
        assert courses and 1 not in [c.id for c in courses]
    _, courses = await replay(BY_SEQ[13])
    assert [c.id for c in courses] == [2, 3, 4, 5]


async def test_one_unknown_course_id_does_not_sink_the_others() -> None:
    """Finding 4: `field=ids` with one unknown id is a PHP error for the whole call; the
    connector asks each id alone (one multi-call) and only the unknown one is NotFound."""
    php_error, by_id = BY_SEQ[29]["body"], {2: BY_SEQ[19]["body"], 99999: BY_SEQ[27]["body"]}
    assert php_error == {
        "exception": "Error",
        "message": 'Attempt to assign property "contextvalidated" on null',
    }
    forms: list[dict[str, str]] = []

    def respond(request: httpx.Request) -> httpx.Response:
        form = dict(parse_qsl(request.content.decode()))
        forms.append(form)
        if form["wsfunction"] == "core_course_get_courses_by_field":
            return httpx.Response(200, json=php_error)
        responses = []
        for index in range(2):
            arguments = json.loads(form[f"requests[{index}][arguments]"])
            assert arguments["field"] == "id"
            responses.append({"error": False, "data": json.dumps(by_id[arguments["value"]])})
        return httpx.Response(200, json={"responses": responses})

    client = httpx.AsyncClient(transport=httpx.MockTransport(respond))
    moodle = Moodle(Upstream("moodle", client, "http://m.test", MoodleAuth("t"), CallStats()))
    found, missing = await moodle.courses_by_id([2, 99999])
    assert isinstance(found, Course) and found.short_name == "MATH101"
    assert isinstance(missing, NotFound)
    assert [f["wsfunction"] for f in forms] == [
        "core_course_get_courses_by_field",
        "tool_mobile_call_external_functions",
    ]
    assert forms[0]["field"] == "ids" and forms[0]["value"] == "2,99999"


async def test_an_unknown_course_alone_is_not_found() -> None:
    recorded, result = await replay(BY_SEQ[28])  # teacher1, field=ids 99999
    (missing,) = result
    assert isinstance(missing, NotFound)
    assert [f.get("field") for f in recorded.forms] == ["ids", "id"]
    assert recorded.site.missing == []


async def test_a_hidden_course_in_a_lookup_is_forbidden_and_the_others_answer() -> None:
    _, (math, hidden) = await replay(BY_SEQ[37])  # student1, ids 2,4: warning "1" for 4
    assert isinstance(math, Course) and math.id == 2
    assert isinstance(hidden, Forbidden)


@pytest.mark.parametrize(
    ("seq", "kind"),
    [
        (99, Forbidden),  # errorcoursecontextnotvalid
        (193, Forbidden),  # cannotviewreport, a classmate
        (199, Forbidden),  # cannotviewreport, completion switched off
        (216, Forbidden),  # nopermission (singular)
        (217, Forbidden),  # requireloginerror
        (198, NotFound),  # nocriteriaset
        (196, NotFound),  # usernotenroled
    ],
)
async def test_error_codes_the_map_lacked(seq: int, kind: type[UpstreamError]) -> None:
    """Finding 5."""
    _, result = await replay(BY_SEQ[seq])
    (error,) = errors_in(result)
    assert isinstance(error, kind)
    assert error.upstream_code == BY_SEQ[seq]["body"]["errorcode"]


async def test_an_administrator_reads_assignments_of_courses_they_are_not_enrolled_in() -> None:
    """Finding 6: asked "not enrolled" (warning "2"), the courses are asked again with
    `includenotenrolledcourses`, which the real site answers for an administrator."""
    exchange = dict(BY_SEQ[147], params={**BY_SEQ[147]["params"]})  # admin, courses 2, 3, 5
    exchange["params"] = {k: v for k, v in exchange["params"].items() if k != "courseids[2]"}
    exchange["body"] = {
        "courses": [],
        "warnings": [w for w in BY_SEQ[147]["body"]["warnings"] if w["itemid"] != 5],
    }
    recorded, found = await replay(exchange)
    assert recorded.forms[1]["includenotenrolledcourses"] == "1"
    assert recorded.site.missing == []  # exchange 152: admin, courses 2 and 3, the flag
    assert {c: [a.name for a in found[c]] for c in found} == {
        2: ["Essay 1", "Draft Work"],
        3: ["Poem"],
    }


async def test_the_category_of_enrolled_courses_is_an_id() -> None:
    """Finding 7: `core_enrol_get_users_courses` sends `category` (an id), no name."""
    _, (courses,) = await replay(BY_SEQ[81])
    assert {(c.id, c.category, c.category_id) for c in courses} >= {(2, None, 1), (5, None, 1)}


async def test_fields_a_role_does_not_get_are_none_not_invented() -> None:
    """Finding 8: the outsider's course list has no dates and no `visible`; a student's
    participant list has no usernames but classmates' e-mail."""
    _, courses = await replay(BY_SEQ[17])
    assert {(c.visible, c.start_date, c.end_date) for c in courses} == {(None, None, None)}
    _, (users,) = await replay(BY_SEQ[98])
    others = [u for u in users if u.id != 5]
    assert others and all(u.username is None for u in others)
    assert all(u.email for u in others)


async def test_a_students_own_status_reads_the_submission_and_the_grade() -> None:
    _, (status,) = await replay(BY_SEQ[209])  # student1, Poem, graded 18
    assert isinstance(status, OwnStatus)
    assert status.grade is not None and status.grade.grade == 18.0
    assert status.submission is not None and status.submission.status == "submitted"


async def test_the_multicall_inner_error_and_its_stop() -> None:
    """Fact 22/23: the middle call fails, Moodle stops; the third is asked again alone."""
    recorded, results = await replay(BY_SEQ[224])
    assert isinstance(results[0], list)
    assert isinstance(results[1], Forbidden) and results[1].upstream_code == "cannotviewreport"
    assert len(recorded.forms) == 2  # the call after the failure went again
