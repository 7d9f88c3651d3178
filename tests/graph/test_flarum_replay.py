"""Whole queries through the gateway, answered by the recorded Flarum 1.7.2 forum.

The gateway runs in process with its Flarum client's network replaced by `RecordedFlarum`: every
upstream request must be one the real forum was recorded answering, for the role whose token the
query carries.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from graph.config import Settings
from graph.schema.ids import GlobalId
from graph.sources.flarum.settings import FlarumSettings
from graph.sources.sections import SourcesSettings
from tests.realworld import RecordedFlarum, ReplayedFlarum, exchanges, gateway_over


@pytest.fixture
async def recorded() -> AsyncIterator[ReplayedFlarum]:
    site = RecordedFlarum()
    settings = Settings(
        sources=SourcesSettings(flarum=FlarumSettings(url="http://forum.test", cache_ttl_s=0))
    )
    async with gateway_over(settings, "flarum", site) as client:
        yield ReplayedFlarum(site, client)


def gid(type_name: str, upstream_id: int) -> str:
    return GlobalId("flarum", type_name, str(upstream_id)).encode()


def recorded_titles(seq: int) -> list[str]:
    (exchange,) = [e for e in exchanges("flarum-1.7.2") if e["seq"] == seq]
    return [d["attributes"]["title"] for d in exchange["response"]["data"]]


async def test_the_front_page(recorded: ReplayedFlarum) -> None:
    """Findings 1 and 8: only includes Flarum allows; one request for the README's page."""
    body = await recorded.query(
        "guest",
        """{ discussions(first: 20) { nodes { title commentCount author { username }
             tags { slug } firstPost { contentHtml } } pageInfo { hasNextPage } } }""",
    )
    assert "errors" not in body
    nodes = body["data"]["discussions"]["nodes"]
    assert [n["title"] for n in nodes] == recorded_titles(27)
    assert nodes[0]["title"] == "Forum rules"  # sticky and unread: pinned first for guests
    welcome = next(n for n in nodes if n["title"] == "Welcome to the real forum")
    assert welcome["author"] == {"username": "alice"}
    assert welcome["firstPost"]["contentHtml"].startswith("<p><strong>Hello</strong>")
    assert recorded.paths() == ["/api/discussions"]


async def test_a_thread_with_event_posts(recorded: ReplayedFlarum) -> None:
    """Finding 4: stickied and locked events read as events; finding 7: each post's
    discussion."""
    body = await recorded.query(
        "member2",
        f"""{{ discussion(id: "{gid("Discussion", 7)}") {{ title isSticky isLocked
             posts {{ nodes {{ number contentType content contentHtml
               event {{ kind summary data }} author {{ username }} discussion {{ title }} }} }} }} }}""",
    )
    assert "errors" not in body
    thread = body["data"]["discussion"]
    assert (thread["title"], thread["isSticky"], thread["isLocked"]) == ("Forum rules", True, True)
    events = [p["event"] for p in thread["posts"]["nodes"] if p["event"]]
    assert events == [
        {"kind": "discussionStickied", "summary": "Stickied", "data": {"sticky": True}},
        {"kind": "discussionLocked", "summary": "Locked", "data": {"locked": True}},
    ]
    assert all(p["contentHtml"] for p in thread["posts"]["nodes"] if not p["event"])
    assert {p["discussion"]["title"] for p in thread["posts"]["nodes"]} == {"Forum rules"}
    # `/api`: once, whether Flarum knows the token (it answers an unknown one as a guest)
    assert sorted(recorded.paths()) == ["/api", "/api/discussions/7", "/api/posts"]


async def test_a_reply_that_flarum_wrote_is_reported_written(recorded: ReplayedFlarum) -> None:
    """Finding 3: the discussion included with the new post is partial."""
    body = await recorded.query(
        "member2",
        f"""mutation {{ reply(discussionId: "{gid("Discussion", 1)}",
             content: "Reply from bob 002003") {{ number content author {{ username }} }} }}""",
    )
    assert "errors" not in body
    assert body["data"]["reply"] == {
        "number": 10,
        "content": "Reply from bob 002003",
        "author": {"username": "bob"},
    }


async def test_missing_ids_fail_alone(recorded: ReplayedFlarum) -> None:
    """Finding 5: a missing user or discussion in a batch is NOT_FOUND alone; posts by id come
    in one request, with their authors."""
    ids = [
        gid("Discussion", 9999),
        gid("Discussion", 1),
        gid("FlarumUser", 3),
        gid("FlarumUser", 999),
        gid("Post", 3),
        gid("Post", 1),
        gid("Post", 2),
    ]
    body = await recorded.query(
        "guest",
        f"""{{ nodes(ids: {ids!r}) {{ ... on Discussion {{ title }} ... on FlarumUser {{ username }}
             ... on Post {{ number author {{ username }} }} }} }}""".replace("'", '"'),
    )
    nodes = body["data"]["nodes"]
    assert nodes[0] is None and nodes[3] is None
    assert nodes[1] == {"title": "Welcome to the real forum"}
    assert nodes[2] == {"username": "bob"}
    assert [n["number"] for n in nodes[4:]] == [3, 1, 2]
    assert {(e["path"][1], e["extensions"]["code"]) for e in body["errors"]} == {
        (0, "NOT_FOUND"),
        (3, "NOT_FOUND"),
    }
    assert recorded.paths().count("/api/posts") == 1


async def test_a_member_finds_nobody_else_by_email(recorded: ReplayedFlarum) -> None:
    """Finding 6: Flarum answers a member every user; none of them is carol's account."""
    body = await recorded.query(
        "member", '{ person(email: "carol@example.org") { forumUser { username } } }'
    )
    assert body["data"]["person"] is None or body["data"]["person"]["forumUser"] is None


async def test_an_administrator_finds_a_person_by_email(recorded: ReplayedFlarum) -> None:
    body = await recorded.query(
        "admin", '{ person(email: "Carol@Example.org ") { email forumUser { username } } }'
    )
    assert body["data"]["person"] == {
        "email": "carol@example.org",
        "forumUser": {"username": "carol"},
    }


FRONT_PAGE = """{ discussions(first: 20) { nodes { title author { username } tags { slug }
    firstPost { contentHtml } } } }"""


async def test_a_token_flarum_does_not_know_is_refused(recorded: ReplayedFlarum) -> None:
    """Flarum answers an unknown token's read as a guest's, 200 (recorded 44), and tells it only
    by the missing actor of `GET /api?include=actor` (20): the gateway asks that once and says
    UNAUTHENTICATED; asked again, it remembers, and sends nothing."""
    body = await recorded.query("badtoken", FRONT_PAGE)
    assert body["data"]["discussions"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert sorted(recorded.paths()) == ["/api", "/api/discussions"]
    again = await recorded.query("badtoken", FRONT_PAGE)
    assert again["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert len(recorded.paths()) == 2


async def test_a_token_flarum_knows_is_asked_about_once(recorded: ReplayedFlarum) -> None:
    """A member's token (15: the actor is there): the page as recorded (28), one extra request
    for the first read, none for the next."""
    body = await recorded.query("member", FRONT_PAGE)
    assert "errors" not in body
    assert [n["title"] for n in body["data"]["discussions"]["nodes"]] == recorded_titles(28)
    assert sorted(recorded.paths()) == ["/api", "/api/discussions"]
    await recorded.query("member", FRONT_PAGE)
    assert recorded.paths().count("/api") == 1


async def test_a_tag_that_no_slug_can_be_is_refused_with_or_without_a_search(
    recorded: ReplayedFlarum,
) -> None:
    """Flarum's tags refuse a slug with a space or a slash (flarum/tags TagValidator), so
    `filter[tag]=food bank` can only answer `[]` (as an unknown slug does, 69), and a search
    would split the `tag:` gambit at the space: both are BAD_USER_INPUT, with no request."""
    for arguments in ('tag: "food bank"', 'tag: "events/2026"', 'search: "x", tag: "food bank"'):
        body = await recorded.query(
            "guest", f"{{ discussions({arguments}) {{ nodes {{ title }} }} }}"
        )
        assert body["data"]["discussions"] is None
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", arguments
        assert "no spaces or slashes" in body["errors"][0]["message"]
    assert recorded.paths() == []
