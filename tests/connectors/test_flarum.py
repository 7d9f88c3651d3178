"""The Flarum connector against `httpx.MockTransport`: auth, JSON:API parsing, paging, errors."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

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
    UpstreamTimeout,
)
from connectors.flarum import Flarum, FlarumAuth
from connectors.http import CallStats, Upstream
from connectors.memory import LocalMemory
from tests.connectors.recording import Recorder

JSONAPI = {"content-type": "application/vnd.api+json"}


def document(body: dict[str, Any], status: int = 200) -> httpx.Response:
    return httpx.Response(status, headers=JSONAPI, content=json.dumps(body).encode())


def flarum_with(
    handler: Recorder, auth: httpx.Auth | None = None, stats: CallStats | None = None
) -> Flarum:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return Flarum(Upstream("flarum", client, "http://forum.test/", auth or FlarumAuth(), stats))


def discussion(id_: int, **relationships: Any) -> dict[str, Any]:
    return {
        "type": "discussions",
        "id": str(id_),
        "attributes": {
            "title": f"D{id_}",
            "slug": f"{id_}-d",
            "commentCount": 2,
            "createdAt": "2024-01-02T03:04:05+00:00",
        },
        "relationships": relationships,
    }


async def test_caller_token_is_sent_as_flarum_token_header() -> None:
    recorder = Recorder(lambda r: document({"data": []}))
    await flarum_with(recorder, FlarumAuth(token="t0k3n")).discussions()
    assert recorder.requests[0].headers["Authorization"] == "Token t0k3n"


async def test_api_key_names_the_user_it_acts_as() -> None:
    recorder = Recorder(lambda r: document({"data": []}))
    await flarum_with(recorder, FlarumAuth(api_key="k3y", user_id=7)).discussions()
    assert recorder.requests[0].headers["Authorization"] == "Token k3y; userId=7"


async def test_a_guest_sends_no_authorization() -> None:
    recorder = Recorder(lambda r: document({"data": []}))
    await flarum_with(recorder).discussions()
    assert "Authorization" not in recorder.requests[0].headers


def test_one_identity_per_request() -> None:
    with pytest.raises(ValueError, match="one identity"):
        FlarumAuth(token="a", api_key="b")


async def test_list_parses_resources_included_and_next_link() -> None:
    body = {
        "links": {"next": "http://forum.test/api/discussions?page%5Boffset%5D=2"},
        "data": [
            discussion(
                1,
                user={"data": {"type": "users", "id": "5"}},
                tags={"data": [{"type": "tags", "id": "2"}]},
            ),
            discussion(2, user={"data": None}, tags={"data": []}),
        ],
        "included": [
            {"type": "users", "id": "5", "attributes": {"username": "ada", "displayName": "Ada"}},
            {
                "type": "tags",
                "id": "2",
                "attributes": {"name": "Events", "slug": "events", "color": ""},
            },
            {"type": "forums", "id": "1", "attributes": {}},
        ],
    }
    stats = CallStats()
    recorder = Recorder(lambda r: document(body))
    page = await flarum_with(recorder, stats=stats).discussions(
        limit=2, search="bake", tag="events", include=["user", "tags"]
    )
    assert recorder.params() == {
        "include": "user,tags",
        "filter[q]": "bake tag:events",  # Flarum drops filter[tag] beside filter[q]
        "page[offset]": "0",
        "page[limit]": "2",
    }
    assert page.has_next is True
    first, second = page.items
    assert (first.author_id, first.tag_ids, first.title) == ("5", ("2",), "D1")
    assert first.created_at.isoformat() == "2024-01-02T03:04:05+00:00"
    assert (second.author_id, second.tag_ids) == (None, ())
    assert "firstPost" not in first.relationships and "user" in second.relationships
    assert page.related.users["5"].display_name == "Ada"
    assert page.related.users["5"].is_full is False
    assert page.related.tags["2"].color is None
    assert stats.requests == {"flarum": 1}


async def test_a_window_above_50_is_fetched_as_concurrent_pages() -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        params = parse_qs(request.url.query.decode())
        offset, limit = int(params["page[offset]"][0]), int(params["page[limit]"][0])
        items = [discussion(i) for i in range(offset, min(offset + limit, 120))]
        links = {"next": "x"} if offset + limit < 120 else {}
        return document({"data": items, "links": links})

    recorder = Recorder(respond)
    page = await flarum_with(recorder).discussions(offset=10, limit=70)
    windows = sorted((p["page[offset]"], p["page[limit]"]) for p in map(recorder.params, range(2)))
    assert windows == [("10", "50"), ("60", "20")]
    assert [d.id for d in page.items] == [str(i) for i in range(10, 80)]
    assert page.has_next is True


async def test_posts_by_id_are_batched_50_at_a_time() -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        ids = parse_qs(request.url.query.decode())["filter[id]"][0].split(",")
        posts = [
            {
                "type": "posts",
                "id": i,
                "attributes": {"number": 1, "createdAt": "2024-01-01T00:00:00Z"},
                "relationships": {"user": {"data": {"type": "users", "id": "1"}}},
            }
            for i in ids
        ]
        return document({"data": posts})

    recorder = Recorder(respond)
    page = await flarum_with(recorder).posts([str(i) for i in range(1, 121)])
    assert len(recorder.requests) == 3
    assert sorted(len(recorder.params(i)["filter[id]"].split(",")) for i in range(3)) == [
        20,
        50,
        50,
    ]
    assert len(page.items) == 120 and page.items[0].author_id == "1"


@pytest.mark.parametrize("user_id", [3, "3"])
async def test_login_accepts_the_user_id_as_number_or_string(user_id: object) -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json={"token": "abc", "userId": user_id}))
    token = await flarum_with(recorder).login("ada", "secret", remember=True)
    assert (token.token, token.user_id) == ("abc", "3")
    assert json.loads(recorder.requests[0].content) == {
        "identification": "ada",
        "password": "secret",
        "remember": 1,
    }


async def test_forum_reports_the_actor() -> None:
    body = {
        "data": {
            "type": "forums",
            "id": "1",
            "attributes": {"title": "F"},
            "relationships": {"actor": {"data": {"type": "users", "id": "9"}}},
        },
        "included": [
            {
                "type": "users",
                "id": "9",
                "attributes": {
                    "username": "u",
                    "joinTime": "2024-01-01T00:00:00+00:00",
                    "email": "u@x",
                },
            }
        ],
    }
    forum = await flarum_with(Recorder(lambda r: document(body))).forum()
    assert forum.actor is not None and forum.actor.is_full and forum.actor.email == "u@x"
    assert forum.version is None


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (401, "not_authenticated", Unauthenticated),
        (401, "invalid_access_token", Unauthenticated),
        (400, "csrf_token_mismatch", Unauthenticated),
        (403, "permission_denied", Forbidden),
        (404, "not_found", NotFound),
        (400, "invalid_parameter", BadRequest),
        (405, "method_not_allowed", BadRequest),
        (429, "too_many_requests", Unavailable),
        (409, "io_error", Unavailable),
        (500, "unknown", Unavailable),
        (418, "something_new", ProtocolError),
    ],
)
async def test_jsonapi_errors_map_to_the_hierarchy(
    status: int, code: str, kind: type[UpstreamError]
) -> None:
    recorder = Recorder(
        lambda r: document({"errors": [{"status": str(status), "code": code}]}, status)
    )
    with pytest.raises(kind) as caught:
        await flarum_with(recorder).discussion("1")
    assert caught.value.source == "flarum"
    assert caught.value.upstream_code == code
    assert type(caught.value) is kind


async def test_validation_errors_keep_every_field_and_name_the_first() -> None:
    errors = [
        {
            "status": "422",
            "code": "validation_error",
            "detail": "The title field is required.",
            "source": {"pointer": "/data/attributes/title"},
        },
        {
            "status": "422",
            "code": "validation_error",
            "detail": "The content field is required.",
            "source": {"pointer": "/data/attributes/content"},
        },
    ]
    recorder = Recorder(lambda r: document({"errors": errors}, 422))
    with pytest.raises(BadRequest) as caught:
        await flarum_with(recorder, FlarumAuth(token="t")).start_discussion("", "", ["1"])
    assert caught.value.field == "title"
    assert "title: The title field is required." in caught.value.message
    assert "content: The content field is required." in caught.value.message
    sent = json.loads(recorder.requests[0].content)
    assert sent["data"]["relationships"]["tags"]["data"] == [{"type": "tags", "id": "1"}]


@pytest.mark.parametrize(
    ("response", "kind"),
    [
        (
            httpx.Response(
                200, headers={"content-type": "text/html"}, content=b"<html>Login</html>"
            ),
            ProtocolError,
        ),
        (httpx.Response(200, headers={"content-type": "text/xml"}, content=b"<a/>"), ProtocolError),
        (httpx.Response(200, headers=JSONAPI, content=b"{nope"), ProtocolError),
        (httpx.Response(200, headers=JSONAPI, content=b'["a list"]'), ProtocolError),
        (httpx.Response(200, headers=JSONAPI, content=b'{"data": {"id": "1"}}'), ProtocolError),
        (
            httpx.Response(502, headers={"content-type": "text/html"}, content=b"Bad gateway"),
            Unavailable,
        ),
        (httpx.Response(503, content=b""), Unavailable),
    ],
)
async def test_anything_but_jsonapi_is_an_upstream_error(
    response: httpx.Response, kind: type[UpstreamError]
) -> None:
    with pytest.raises(kind):
        await flarum_with(Recorder(lambda r: response)).discussion("1")


@pytest.mark.parametrize(
    ("exception", "kind"),
    [
        (httpx.ReadTimeout("slow"), UpstreamTimeout),
        (httpx.ConnectTimeout("slow"), UpstreamTimeout),
        (httpx.ConnectError("refused"), Unavailable),
        (httpx.RemoteProtocolError("eof"), Unavailable),
    ],
)
async def test_transport_failures_are_translated_at_the_boundary(
    exception: Exception, kind: type[UpstreamError]
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise exception

    stats = CallStats()
    with pytest.raises(kind) as caught:
        await flarum_with(Recorder(fail), FlarumAuth(token="secret-token"), stats).tags()
    assert caught.value.__cause__ is exception
    assert "secret-token" not in str(caught.value)
    assert stats.requests == {"flarum": 1}


async def test_an_empty_window_asks_for_one_item_to_tell_whether_more_follow() -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        params = parse_qs(request.url.query.decode())
        offset, limit = int(params["page[offset]"][0]), int(params["page[limit]"][0])
        return document({"data": [discussion(i) for i in range(offset, min(offset + limit, 3))]})

    recorder = Recorder(respond)
    page = await flarum_with(recorder).discussions(offset=2, limit=0)
    assert (page.items, page.has_next) == ([], True)
    assert (recorder.params(0)["page[offset]"], recorder.params(0)["page[limit]"]) == ("2", "1")
    assert (await flarum_with(recorder).discussions(offset=3, limit=0)).has_next is False


async def test_a_tag_is_a_slug_with_or_without_a_search() -> None:
    recorder = Recorder(lambda r: document({"data": []}))
    for search in (None, "bake sale"):
        for tag in ("food bank", "a/b", "tab\there"):
            with pytest.raises(BadRequest, match="no spaces or slashes"):
                await flarum_with(recorder).discussions(search=search, tag=tag)
    assert recorder.requests == []
    # A colon may be part of a slug: the `tag:` gambit takes the rest of its word.
    await flarum_with(recorder).discussions(search="bake", tag="club:2026")
    assert recorder.params(0)["filter[q]"] == "bake tag:club:2026"


async def test_an_unknown_token_is_asked_about_once_and_remembered_by_a_hash() -> None:
    actorless = {"data": {"type": "forums", "id": "1", "attributes": {"title": "F"}}}

    def respond(request: httpx.Request) -> httpx.Response:
        return document(actorless if request.url.path == "/api" else {"data": []})

    recorder = Recorder(respond)
    memory = LocalMemory(size=10, ttl_s=60)
    token = "t" * 40

    def as_caller() -> Flarum:
        client = httpx.AsyncClient(transport=httpx.MockTransport(recorder))
        auth = FlarumAuth(token=token)
        upstream = Upstream("flarum", client, "http://forum.test/", auth, caller_key="k3y3d")
        return Flarum(upstream, tokens=memory)

    flarum = as_caller()
    with pytest.raises(Unauthenticated, match="does not know this token"):
        await flarum.discussions()
    with pytest.raises(Unauthenticated):
        await flarum.tags()
    assert sorted(r.url.path for r in recorder.requests) == ["/api", "/api/discussions"]
    with pytest.raises(Unauthenticated):
        await as_caller().discussions()  # another request: remembered, nothing sent
    assert len(recorder.requests) == 2
    assert all(token not in key for key in memory._kept)
