"""The Eqsash connector: the call shape, credentials in the body, answers and refusals."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import httpx
import pytest

from connectors.eqsash import Eqsash, EqsashAuth, read
from connectors.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    ProtocolError,
    Unauthenticated,
    UpstreamError,
)
from connectors.http import Upstream
from tests.connectors.recording import Recorder


def eqsash_with(recorder: Recorder, **auth: str) -> Eqsash:
    client = httpx.AsyncClient(transport=httpx.MockTransport(recorder))
    return Eqsash(
        Upstream("eqsash", client, "http://cms.test", EqsashAuth("site-key", **auth)),
        get_methods={"articles.list"},
    )


async def test_the_call_shape_and_credentials() -> None:
    recorder = Recorder(
        lambda r: httpx.Response(
            200, json=[{"id": 1, "login": "a", "name": "A", "roles": ["member"]}]
        )
    )
    users = await eqsash_with(recorder, token="tok").users([1])
    assert users[0].roles == ("member",)
    request = recorder.requests[0]
    assert request.method == "POST" and "tok" not in str(request.url)
    form = recorder.form()
    assert form == {
        "module": "users",
        "method": "get_many",
        "data": json.dumps({"ids": [1]}),
        "key": "site-key",
        "token": "tok",
    }
    assert request.headers.get_list("content-type") == ["application/x-www-form-urlencoded"]


async def test_a_method_configured_for_get_and_a_session_instead_of_a_token() -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json={"total": 0, "items": []}))
    await eqsash_with(recorder, session="sess-1").articles(limit=5)
    request = recorder.requests[0]
    query = dict(parse_qsl(request.url.query.decode()))
    assert (
        request.method == "GET"
        and query["EQSASH_SESSION"] == "sess-1"
        and query["module"] == "articles"
    )
    with pytest.raises(ValueError, match="one identity"):
        EqsashAuth("k", token="t", session="s")


def test_formats() -> None:
    assert read(httpx.Response(200, json={"0": {"id": 1}})) == {"0": {"id": 1}}
    assert read(httpx.Response(200, text="42")) == "42"  # raw format: returned as is
    with pytest.raises(ProtocolError):
        read(httpx.Response(200, headers={"content-type": "text/html"}, text="<html>"))


async def test_a_json_object_list_reads_as_a_list() -> None:
    answer = {
        "1": {"id": 1, "name": "News", "slug": "news"},
        "2": {"id": 2, "name": "Events", "slug": "events"},
    }
    sections = await eqsash_with(Recorder(lambda r: httpx.Response(200, json=answer))).sections()
    assert [s.name for s in sections] == ["News", "Events"]


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (401, "invalid_key", Unauthenticated),
        (401, "invalid_token", Unauthenticated),
        (401, "login_required", Unauthenticated),
        (403, "access_denied", Forbidden),
        (403, "internal_method", Forbidden),
        (404, "unknown_method", BadRequest),
        (404, "not_found", NotFound),
        (400, "bad_data", BadRequest),
    ],
)
def test_refusals_map_to_the_hierarchy(status: int, code: str, kind: type[UpstreamError]) -> None:
    with pytest.raises(kind) as caught:
        read(httpx.Response(status, json={"error": code, "message": "no"}))
    assert caught.value.upstream_code == code and caught.value.source == "eqsash"
