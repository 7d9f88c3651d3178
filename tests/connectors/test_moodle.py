"""The Moodle connector against `httpx.MockTransport`: encoding, auth, errors, multi-call."""

from __future__ import annotations

import json
from collections.abc import Callable
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
from connectors.memory import LocalMemory
from connectors.moodle import Call, Moodle, MoodleAuth, encode
from tests.connectors.recording import Recorder


def answer(body: Any) -> httpx.Response:
    return httpx.Response(200, json=body)


def moodle_with(handler: Recorder, token: str | None = "t0k", **options: Any) -> Moodle:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return Moodle(
        Upstream("moodle", client, "http://lms.test", MoodleAuth(token), CallStats()), **options
    )


def test_encoder_flattens_nested_lists_and_dicts() -> None:
    assert encode(
        {
            "courseids": [2, 7],
            "criteria": [{"key": "email", "value": "a@b"}],
            "options": {"ids": [3]},
            "flag": True,
            "off": False,
            "skip": None,
            "name": "x y",
        }
    ) == [
        ("courseids[0]", "2"),
        ("courseids[1]", "7"),
        ("criteria[0][key]", "email"),
        ("criteria[0][value]", "a@b"),
        ("options[ids][0]", "3"),
        ("flag", "1"),
        ("off", "0"),
        ("name", "x y"),
    ]


def test_encoder_writes_name_value_option_lists() -> None:
    options = [{"name": "limitfrom", "value": 0}, {"name": "limitnumber", "value": 50}]
    assert encode({"options": options}) == [
        ("options[0][name]", "limitfrom"),
        ("options[0][value]", "0"),
        ("options[1][name]", "limitnumber"),
        ("options[1][value]", "50"),
    ]


async def test_the_token_goes_in_the_body_never_the_url() -> None:
    recorder = Recorder(lambda r: answer([]))
    await moodle_with(recorder, "s3cret").call(
        "core_user_get_users_by_field", {"field": "id", "values": [5]}
    )
    request = recorder.requests[0]
    assert "s3cret" not in str(request.url)
    assert request.url.path == "/webservice/rest/server.php"
    assert recorder.form() == {
        "wsfunction": "core_user_get_users_by_field",
        "moodlewsrestformat": "json",
        "field": "id",
        "values[0]": "5",
        "wstoken": "s3cret",
    }
    assert int(request.headers["content-length"]) == len(request.content)
    assert request.headers.get_list("content-type") == ["application/x-www-form-urlencoded"]


@pytest.mark.parametrize(
    ("errorcode", "kind"),
    [
        ("invalidtoken", Unauthenticated),
        ("servicerequireslogin", Unauthenticated),
        ("accessexception", Forbidden),
        ("requireloginerror", Forbidden),
        ("nopermissions", Forbidden),
        ("invalidparameter", BadRequest),
        ("invalidrecord", NotFound),
        ("invalidrecordunknown", NotFound),
        ("codingerror", ProtocolError),
    ],
)
async def test_exception_documents_map_to_the_hierarchy(
    errorcode: str, kind: type[UpstreamError]
) -> None:
    recorder = Recorder(
        lambda r: answer(
            {"exception": "moodle_exception", "errorcode": errorcode, "message": "No."}
        )
    )
    with pytest.raises(kind) as caught:
        await moodle_with(recorder).site_info()
    assert type(caught.value) is kind
    assert caught.value.upstream_code == errorcode
    assert caught.value.source == "moodle"
    if kind is ProtocolError:
        assert errorcode in caught.value.message


@pytest.mark.parametrize(
    ("response", "kind"),
    [
        (
            httpx.Response(
                200, headers={"content-type": "application/xml"}, content=b"<RESPONSE/>"
            ),
            ProtocolError,
        ),
        (
            httpx.Response(
                200, headers={"content-type": "text/html"}, content=b"<html>login</html>"
            ),
            ProtocolError,
        ),
        (httpx.Response(200, content=b"not json"), ProtocolError),
        (httpx.Response(503, content=b"down"), Unavailable),
    ],
)
async def test_anything_but_json_is_an_error(
    response: httpx.Response, kind: type[UpstreamError]
) -> None:
    with pytest.raises(kind):
        await moodle_with(Recorder(lambda r: response)).site_info()


async def test_grades_and_times_are_parsed() -> None:
    body = {
        "assignments": [
            {
                "assignmentid": 4,
                "grades": [
                    {
                        "id": 1,
                        "assignment": 4,
                        "userid": 9,
                        "grader": 3,
                        "grade": "85.00000",
                        "timemodified": 1700000000,
                    },
                    {
                        "id": 2,
                        "assignment": 4,
                        "userid": 10,
                        "grader": -1,
                        "grade": "-1.00000",
                        "timemodified": 0,
                    },
                ],
            }
        ],
        "warnings": [
            {
                "item": "assignment",
                "itemid": 5,
                "warningcode": "1",
                "message": "No access rights in module context",
            }
        ],
    }
    grades, denied = await moodle_with(Recorder(lambda r: answer(body))).grades([4, 5])
    first, second = grades[4]
    assert (first.grade, first.grader_id, first.graded_at and first.graded_at.year) == (
        85.0,
        3,
        2023,
    )
    assert (second.grade, second.grader_id, second.graded_at) == (None, None, None)
    assert denied == {5}


def multicall_server(fail: set[str]) -> Callable[[httpx.Request], httpx.Response]:
    """Answers a multi-call the way Moodle does: stops at the first failing call."""

    def respond(request: httpx.Request) -> httpx.Response:
        form = dict(parse_qsl(request.content.decode()))
        if form["wsfunction"] != "tool_mobile_call_external_functions":
            return answer({"single": form.get("courseid")})
        responses = []
        index = 0
        while f"requests[{index}][function]" in form:
            arguments = json.loads(form[f"requests[{index}][arguments]"])
            if str(arguments["courseid"]) in fail:
                exception = {
                    "errorcode": "requireloginerror",
                    "message": "Course or activity not accessible.",
                }
                responses.append({"error": True, "exception": json.dumps(exception)})
                break
            responses.append({"error": False, "data": json.dumps([{"id": arguments["courseid"]}])})
            index += 1
        return answer({"responses": responses})

    return respond


async def test_one_failing_call_fails_only_its_own_slot() -> None:
    recorder = Recorder(multicall_server(fail={"3"}))
    moodle = moodle_with(recorder)
    results = await moodle.call_many([Moodle.enrolled_users_call(c) for c in (1, 2, 3, 4, 5)])
    assert [r if isinstance(r, UpstreamError) else r[0]["id"] for r in results[:2]] == [1, 2]
    assert isinstance(results[2], Forbidden) and results[2].upstream_code == "requireloginerror"
    assert [r[0]["id"] for r in results[3:]] == [4, 5]
    # The calls after the failure were sent again, in a second multi-call.
    assert len(recorder.requests) == 2
    assert recorder.form(1)["requests[0][arguments]"] == json.dumps({"courseid": 4})


async def test_every_call_failing_still_ends() -> None:
    recorder = Recorder(multicall_server(fail={"1", "2", "3"}))
    results = await moodle_with(recorder).call_many(
        [Moodle.enrolled_users_call(c) for c in (1, 2, 3)]
    )
    assert all(isinstance(r, Forbidden) for r in results)
    assert len(recorder.requests) == 3


async def test_a_refused_multicall_falls_back_to_single_calls_and_is_remembered() -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        form = dict(parse_qsl(request.content.decode()))
        if form["wsfunction"] == "tool_mobile_call_external_functions":
            return answer(
                {
                    "exception": "webservice_access_exception",
                    "errorcode": "accessexception",
                    "message": "Access control exception",
                }
            )
        return answer([{"id": int(form["courseid"])}])

    recorder = Recorder(respond)
    memory = LocalMemory(size=10, ttl_s=600)
    moodle = moodle_with(recorder, memory=memory, caller_key="caller-1")
    calls = [Call("core_enrol_get_enrolled_users", {"courseid": c}) for c in (1, 2, 3)]
    assert [r[0]["id"] for r in await moodle.call_many(calls)] == [1, 2, 3]
    assert await memory.recall("no-multicall:caller-1") is True
    assert await memory.recall("no-multicall:caller-2") is None
    assert len(recorder.requests) == 4  # the refused multi-call, then three single calls
    await moodle.call_many(calls)
    assert len(recorder.requests) == 7  # no second try of the multi-call


async def test_a_bad_token_fails_the_whole_batch() -> None:
    recorder = Recorder(
        lambda r: answer(
            {
                "exception": "moodle_exception",
                "errorcode": "invalidtoken",
                "message": "Invalid token",
            }
        )
    )
    with pytest.raises(Unauthenticated):
        await moodle_with(recorder).call_many([Call("a"), Call("b")])


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (
            {
                "error": "Invalid login, please try again",
                "errorcode": "invalidlogin",
                "stacktrace": None,
            },
            Unauthenticated,
        ),
        (
            {"error": "Web service is not available", "errorcode": "servicenotavailable"},
            Unavailable,
        ),
    ],
)
async def test_login_errors(body: dict[str, Any], kind: type[UpstreamError]) -> None:
    recorder = Recorder(lambda r: answer(body))
    with pytest.raises(kind) as caught:
        await moodle_with(recorder, token=None).login("ada", "pw", "moodle_mobile_app")
    assert caught.value.upstream_code == body["errorcode"]
    assert recorder.requests[0].url.path == "/login/token.php"
    assert recorder.form() == {"username": "ada", "password": "pw", "service": "moodle_mobile_app"}


async def test_login_returns_the_token() -> None:
    recorder = Recorder(lambda r: answer({"token": "abc123", "privatetoken": None}))
    assert await moodle_with(recorder, token=None).login("ada", "pw", "svc") == "abc123"
