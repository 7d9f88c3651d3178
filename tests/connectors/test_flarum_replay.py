"""The Flarum connector against what a real Flarum 1.7.2 answered (`tests/recordings/flarum-1.7.2/`).

Every recorded answer goes through the connector method that makes (or could make) that request:
it parses, or maps to the error its code means; nothing escapes as anything but an
`UpstreamError`. Where the connector sends the recorded request itself, method, path and
parameters are checked too.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

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
from connectors.flarum import PAGE_CAP, Flarum, FlarumAuth, convert
from connectors.flarum.convert import related
from connectors.flarum.jsonapi import read_document
from connectors.http import CallStats, Upstream
from tests.realworld import exchanges, response_of

RECORDED = exchanges("flarum-1.7.2")
BY_SEQ = {e["seq"]: e for e in RECORDED}

KIND_OF_CODE: dict[str, type[UpstreamError]] = {
    "not_found": NotFound,
    "invalid_parameter": BadRequest,
    "validation_error": BadRequest,
    "permission_denied": Forbidden,
    "csrf_token_mismatch": Unauthenticated,
    "not_authenticated": Unauthenticated,
    "too_many_requests": Unavailable,
    "unknown": Unavailable,
}
"""What each error code a real Flarum sent means to the graph (its `extensions.code`)."""


def query_of(exchange: dict[str, Any]) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(exchange["path"]).query, keep_blank_values=True))


def path_of(exchange: dict[str, Any]) -> str:
    return urlsplit(exchange["path"]).path


def number(text: str | None, default: int) -> int:
    return int(text) if text and text.lstrip("-").isdigit() else default


def any_document(flarum: Flarum, exchange: dict[str, Any]) -> Awaitable[Any]:
    """A request the connector never makes: its answer read as the connector reads any."""

    async def read() -> Any:
        response = await flarum.upstream.request(exchange["method"], path_of(exchange))
        if response.status_code == 204:
            return None
        document = read_document(response)
        return document.data, related(document.included)

    return read()


def discussions(flarum: Flarum, exchange: dict[str, Any]) -> Awaitable[Any]:
    q = query_of(exchange)
    include = q.get("include")
    return flarum.discussions(
        offset=number(q.get("page[offset]"), 0),
        limit=min(number(q.get("page[limit]"), 20), PAGE_CAP),  # the connector asks no more
        search=q.get("filter[q]"),
        tag=q.get("filter[tag]"),
        author=q.get("filter[author]"),
        sort=q.get("sort"),
        **({"include": include.split(",") if include else []} if include is not None else {}),
    )


def show(flarum: Flarum, exchange: dict[str, Any]) -> Awaitable[Any]:
    include = query_of(exchange).get("include")
    options = {"include": include.split(",") if include else []} if include is not None else {}
    return flarum.discussion(path_of(exchange).rsplit("/", 1)[1], **options)


def posts(flarum: Flarum, exchange: dict[str, Any]) -> Awaitable[Any]:
    q = query_of(exchange)
    if "filter[id]" in q:
        return flarum.posts(q["filter[id]"].split(","))
    if "filter[discussion]" in q:
        return flarum.discussion_posts(
            q["filter[discussion]"],
            offset=number(q.get("page[offset]"), 0),
            limit=min(number(q.get("page[limit]"), 20), PAGE_CAP),
        )
    return any_document(flarum, exchange)


def users(flarum: Flarum, exchange: dict[str, Any]) -> Awaitable[Any]:
    q = query_of(exchange)
    if "filter[email]" in q:
        return flarum.users_by_email(q["filter[email]"])
    return any_document(flarum, exchange)


def start(flarum: Flarum, exchange: dict[str, Any]) -> Awaitable[Any]:
    data = (exchange["body"] or {}).get("data", {})
    tags = data.get("relationships", {}).get("tags", {}).get("data", [])
    attributes = data.get("attributes", {})
    return flarum.start_discussion(
        attributes.get("title", ""), attributes.get("content", ""), [t["id"] for t in tags]
    )


def reply(flarum: Flarum, exchange: dict[str, Any]) -> Awaitable[Any]:
    data = (exchange["body"] or {}).get("data", {})
    discussion = (data.get("relationships", {}).get("discussion") or {}).get("data") or {}
    return flarum.reply(
        str(discussion.get("id", "")), data.get("attributes", {}).get("content", "")
    )


def login(flarum: Flarum, exchange: dict[str, Any]) -> Awaitable[Any]:
    body = exchange["body"] or {}
    return flarum.login(str(body.get("identification", "")), str(body.get("password", "")))


Driver = Callable[[Flarum, dict[str, Any]], Awaitable[Any]]
DRIVERS: list[tuple[str, str, Driver]] = [
    ("POST", r"/api/token", login),
    ("GET", r"/api", lambda f, e: f.forum() if query_of(e) else any_document(f, e)),
    ("GET", r"/api/discussions", discussions),
    ("GET", r"/api/discussions/[^/]+", show),
    ("GET", r"/api/posts", posts),
    ("GET", r"/api/posts/[^/]+", lambda f, e: f.post(path_of(e).rsplit("/", 1)[1])),
    ("GET", r"/api/users/[^/]+", lambda f, e: f.user(path_of(e).rsplit("/", 1)[1])),
    ("GET", r"/api/users", users),
    ("GET", r"/api/tags", lambda f, e: f.tags()),
    ("POST", r"/api/discussions", start),
    ("POST", r"/api/posts", reply),
    ("POST", r"/api/permission", any_document),
]


def driver_of(exchange: dict[str, Any]) -> Driver:
    for method, pattern, driver in DRIVERS:
        if exchange["method"] == method and re.fullmatch(pattern, path_of(exchange)):
            return driver
    raise AssertionError(f"no driver for {exchange['method']} {exchange['path']}")


class Replay:
    """Answers the first request with the recorded answer, and any later one with 599."""

    def __init__(self, exchange: dict[str, Any]) -> None:
        self.exchange = exchange
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if len(self.requests) > 1:
            return httpx.Response(599, text="not recorded")
        return response_of(self.exchange)

    def sent_the_recorded_request(self) -> bool:
        if not self.requests:
            return False
        sent = self.requests[0]
        recorded = httpx.URL("http://forum.test" + self.exchange["path"])
        return (
            sent.method == self.exchange["method"]
            and sent.url.path == recorded.path
            and sorted(sent.url.params.multi_items()) == sorted(recorded.params.multi_items())
        )


async def replay(exchange: dict[str, Any]) -> tuple[Replay, Any]:
    recorded = Replay(exchange)
    client = httpx.AsyncClient(transport=httpx.MockTransport(recorded))
    flarum = Flarum(
        Upstream("flarum", client, "http://forum.test/", FlarumAuth(token="t"), CallStats())
    )
    try:
        result: Any = await driver_of(exchange)(flarum, exchange)
    except UpstreamError as error:
        result = error
    return recorded, result


def ignored_email_filter(exchange: dict[str, Any]) -> bool:
    """A user list asked by e-mail whose rows do not carry that address (fact 22)."""
    asked = query_of(exchange).get("filter[email]")
    rows = (exchange["response"] or {}).get("data") if exchange["http_status"] == 200 else None
    if not asked or not rows:
        return False
    return all((r["attributes"].get("email") or "").lower() != asked.lower() for r in rows)


def recorded_code(exchange: dict[str, Any]) -> str | None:
    answer = exchange["response"]
    if isinstance(answer, dict) and answer.get("errors"):
        return str(answer["errors"][0]["code"])
    return None


@pytest.mark.parametrize("exchange", RECORDED, ids=lambda e: f"{e['seq']}-{e['method']}")
async def test_every_recorded_answer_parses_or_maps_to_its_error(exchange: dict[str, Any]) -> None:
    _, result = await replay(exchange)
    code = recorded_code(exchange)
    if ignored_email_filter(exchange):
        # Flarum answered a member everyone: the connector says it cannot search by e-mail.
        assert isinstance(result, Forbidden) and result.upstream_code == "filter_ignored"
    elif code is None:
        assert not isinstance(result, UpstreamError), result
    else:
        assert isinstance(result, KIND_OF_CODE[code]), (code, result)
        assert result.upstream_code == code


@pytest.mark.parametrize(
    ("method", "pattern"), [(m, p) for m, p, d in DRIVERS if d is not any_document]
)
async def test_the_connector_sends_requests_the_real_forum_was_sent(
    method: str, pattern: str
) -> None:
    same = []
    for exchange in RECORDED:
        if exchange["method"] == method and re.fullmatch(pattern, path_of(exchange)):
            recorded, _ = await replay(exchange)
            if recorded.sent_the_recorded_request():
                same.append(exchange["seq"])
    assert same, f"the connector never sends {method} {pattern} as it was recorded"


# The findings of the real-Flarum issue, on the recorded answers --------------------------------


async def test_the_list_asks_only_includes_flarum_allows() -> None:
    """Finding 1: `firstPost.user` is 400 `invalid_parameter` on a real forum."""
    refused = next(e for e in RECORDED if "firstPost.user" in e["path"])
    assert recorded_code(refused) == "invalid_parameter"
    recorded, page = await replay(BY_SEQ[27])  # include=user,tags,firstPost: the front page
    assert recorded.sent_the_recorded_request()
    assert len(page.items) == len(BY_SEQ[27]["response"]["data"]) and page.related.posts
    # Included first posts carry no relationships: their authors are not known from the list.
    assert all(not p.relationships for p in page.related.posts.values())


async def test_a_search_within_a_tag_uses_the_gambit() -> None:
    """Finding 2: `filter[q]` with `filter[tag]` answers outside the tag; the gambit does not."""
    ignored, alone = BY_SEQ[73], BY_SEQ[72]
    assert [d["id"] for d in ignored["response"]["data"]] == [
        d["id"] for d in alone["response"]["data"]
    ]
    recorded, page = await replay(BY_SEQ[74])  # filter[q]=pancakes tag:events
    assert query_of(BY_SEQ[74])["filter[q]"] == "pancakes tag:events"
    sent = dict(recorded.requests[0].url.params)
    assert sent["filter[q]"] == "pancakes tag:events" and "filter[tag]" not in sent
    assert [d.id for d in page.items] == ["2"]


async def test_a_reply_is_written_even_with_a_partial_discussion() -> None:
    """Finding 3: the discussion included after `POST /api/posts` has three attributes."""
    _, found = await replay(BY_SEQ[177])
    assert found.item.content == "Reply from bob 002003"
    assert found.item.discussion_id == "1"
    assert found.related.discussions == {}  # partial: known by id only


async def test_event_posts_are_read_as_events() -> None:
    """Finding 4: `content` of an event post is an object or a list."""
    _, page = await replay(BY_SEQ[113])  # discussion 7: stickied and locked
    events = {p.content_type: p.event for p in page.items if p.content_type != "comment"}
    assert events == {"discussionStickied": {"sticky": True}, "discussionLocked": {"locked": True}}
    assert all(p.content is None for p in page.items if p.content_type != "comment")
    _, page = await replay(BY_SEQ[116])
    (renamed,) = [p for p in page.items if p.content_type == "discussionRenamed"]
    assert renamed.event == [
        "Need volunteers for the food bank",
        "Volunteers needed at the food bank",
    ]


async def test_a_member_asking_by_email_is_answered_every_user() -> None:
    """Finding 6: the filter is ignored for members; no row is taken unless its e-mail matches."""
    assert len(BY_SEQ[147]["response"]["data"]) == 6  # carol asked; everyone answered
    _, refused = await replay(BY_SEQ[147])
    assert isinstance(refused, Forbidden) and refused.upstream_code == "filter_ignored"
    _, found = await replay(BY_SEQ[146])  # the administrator: the filter applies
    assert [u.username for u in found] == ["carol"]


async def test_listed_posts_know_their_discussion() -> None:
    """Finding 7: listed posts link only their author; the discussion is the one asked for."""
    _, page = await replay(BY_SEQ[108])
    assert page.items and all(p.discussion_id == "1" for p in page.items)


async def test_a_missing_user_is_not_found() -> None:
    _, missing = await replay(BY_SEQ[140])
    assert isinstance(missing, NotFound)


async def test_an_unconfirmed_user_may_not_start_a_discussion() -> None:
    refused = next(
        e for e in RECORDED if e["as"] == "unconfirmed" and e["path"] == "/api/discussions"
        and e["method"] == "POST"
    )  # fmt: skip
    _, error = await replay(refused)
    assert isinstance(error, Forbidden)


def test_flood_control_is_unavailable_and_says_so() -> None:
    flooded = [e for e in RECORDED if recorded_code(e) == "too_many_requests"]
    assert len(flooded) == 2 and all(e["http_status"] == 429 for e in flooded)


def test_a_post_without_createdat_is_a_protocol_error() -> None:
    """A required attribute missing is UPSTREAM_PROTOCOL_ERROR naming the source, not INTERNAL."""
    import msgspec

    from connectors.flarum.convert import post
    from connectors.flarum.jsonapi import Resource

    with pytest.raises(ProtocolError) as caught:
        post(Resource("posts", "9", msgspec.Raw(b'{"number": 1}'), {}))
    assert caught.value.source == "flarum"


def test_included_first_posts_are_the_short_form_even_for_an_administrator() -> None:
    """The administrator's list (42) includes first posts without `content`, `canEdit`; the
    posts list (110) gives the administrator `content`: only the second says "may not edit"
    where it is missing."""
    listed = related(read_document(response_of(BY_SEQ[42])).included).posts.values()
    assert listed and all(not p.is_full and p.content is None for p in listed)
    posts = read_document(response_of(BY_SEQ[110]))
    full = [convert.post(resource) for resource in posts.many()]
    assert all(p.is_full for p in full)
    assert all(isinstance(p.content, str) for p in full if p.content_type == "comment")
