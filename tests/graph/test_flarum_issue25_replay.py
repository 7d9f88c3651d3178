"""Issue 25's Flarum findings, replayed from what a real Flarum 1.7.2 answered
(`tests/recordings/flarum-1.7.2/issue25.jsonl`, one recording round of a rebuilt site: its ids
and lists are not those of `exchanges.jsonl`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from connectors.flarum import Flarum, FlarumAuth
from connectors.http import Upstream
from graph.config import Settings
from graph.sources.flarum.settings import FlarumSettings
from graph.sources.sections import SourcesSettings
from tests.realworld import RecordedFlarum, ReplayedFlarum, exchanges, gateway_over

ROUND = "issue25.jsonl"
BY_SEQ = {e["seq"]: e for e in exchanges("flarum-1.7.2", ROUND)}
FRONT_PAGE = """{ discussions(first: 20) { nodes { title author { username } tags { slug }
    firstPost { contentHtml content } } } }"""


@pytest.fixture
async def recorded() -> AsyncIterator[ReplayedFlarum]:
    site = RecordedFlarum(ROUND)
    settings = Settings(
        sources=SourcesSettings(flarum=FlarumSettings(url="http://forum.test", cache_ttl_s=0))
    )
    async with gateway_over(settings, "flarum", site) as client:
        yield ReplayedFlarum(site, client)


def contents(seq: int) -> dict[str, str | None]:
    return {p["id"]: p["attributes"].get("content") for p in BY_SEQ[seq]["response"]["data"]}


async def test_f1_the_administrator_reads_the_first_posts_source_text(
    recorded: ReplayedFlarum,
) -> None:
    """The administrator's list includes first posts without `content` (199); the gateway
    reads them by id (200, where each has it), with the token check of `/api` (198)."""
    listed = BY_SEQ[199]["response"]
    assert all("content" not in p["attributes"] for p in listed["included"] if p["type"] == "posts")
    body = await recorded.query("admin", FRONT_PAGE)
    assert "errors" not in body, body
    first_posts = [d["relationships"]["firstPost"]["data"]["id"] for d in listed["data"]]
    nodes = body["data"]["discussions"]["nodes"]
    assert [n["firstPost"]["content"] for n in nodes] == [contents(200)[i] for i in first_posts]
    assert all(isinstance(n["firstPost"]["content"], str) for n in nodes)
    assert sorted(recorded.paths()) == ["/api", "/api/discussions", "/api/posts"]


async def test_f1_a_guest_may_edit_nothing(recorded: ReplayedFlarum) -> None:
    body = await recorded.query("guest", FRONT_PAGE)
    assert "errors" not in body, body
    assert all(n["firstPost"]["content"] is None for n in body["data"]["discussions"]["nodes"])
    assert sorted(recorded.paths()) == ["/api/discussions", "/api/posts"]  # 202, 203


async def test_f2_an_empty_page_of_discussions_says_more_follow(recorded: ReplayedFlarum) -> None:
    body = await recorded.query("guest", "{ discussions(first: 0) { pageInfo { hasNextPage } } }")
    assert body["data"]["discussions"]["pageInfo"] == {"hasNextPage": True}  # 207
    assert sorted(recorded.paths()) == ["/api/discussions"]


@pytest.mark.parametrize(("offset", "more"), [(0, True), (60, True), (61, False)])
async def test_f2_an_empty_page_of_the_61_post_thread(offset: int, more: bool) -> None:
    """One item at the offset (204-206): at 60 the last post is still ahead of an empty page
    that starts there; at 61 nothing is."""
    site = RecordedFlarum(ROUND)
    client = httpx.AsyncClient(transport=httpx.MockTransport(site))
    flarum = Flarum(Upstream("flarum", client, "http://forum.test", FlarumAuth()))
    page = await flarum.discussion_posts("5", offset=offset, limit=0)
    assert (list(page.items), page.has_next, site.missing) == ([], more, [])


async def test_f3_an_expired_token_is_refused(recorded: ReplayedFlarum) -> None:
    """Carol's session token, idle for two hours, reads as a guest (215: the guest's six
    discussions, not an error); only the forum's missing actor tells (214)."""
    assert len(BY_SEQ[215]["response"]["data"]) == len(BY_SEQ[202]["response"]["data"])
    assert "relationships" not in BY_SEQ[214]["response"]["data"]
    body = await recorded.query("expired", FRONT_PAGE)
    assert body["data"]["discussions"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert sorted(recorded.paths()) == ["/api", "/api/discussions"]


def test_f4_flarum_has_no_slug_with_a_space_or_a_slash() -> None:
    """Creating such a tag is refused (211, 212); asking for one lists nothing (208-210)."""
    for seq in (211, 212):
        (error,) = BY_SEQ[seq]["response"]["errors"]
        assert (error["detail"], error["source"]["pointer"]) == (
            "The slug format is invalid.",
            "/data/attributes/slug",
        )
    assert all(BY_SEQ[seq]["response"]["data"] == [] for seq in (208, 209, 210))


def test_f5_flarum_lists_carry_no_count() -> None:
    lists = [e for e in BY_SEQ.values() if isinstance((e["response"] or {}).get("data"), list)]
    assert lists and all(set(e["response"]) <= {"links", "data", "included"} for e in lists)
