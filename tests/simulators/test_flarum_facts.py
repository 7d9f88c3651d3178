"""The Flarum simulator states each fact of the real Flarum 1.7.2 (recorded in
`tests/recordings/flarum-1.7.2/`, numbered as in the notes kept with the real-site setup), one test
per fact, on the demo world. Raw HTTP, no connector."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from simulators.flarum import SERVICE_API_KEY
from simulators.world import DEMO_PASSWORD, World
from tests.conftest import Simulator, login

JSONAPI = "application/vnd.api+json"


@dataclass
class Forum:
    sim: Simulator
    world: World

    def get(self, path: str, who: str | None = None, **params: str) -> httpx.Response:
        return httpx.get(f"{self.sim.url}/api{path}", params=params, headers=self.auth(who))

    def post(self, path: str, body: Any, who: str | None = None) -> httpx.Response:
        return httpx.post(f"{self.sim.url}/api{path}", json=body, headers=self.auth(who))

    def auth(self, who: str | None) -> dict[str, str]:
        if who is None:
            return {}
        if who.startswith("Token "):
            return {"Authorization": who}
        return {"Authorization": f"Token {login(self.sim.url, who)}"}

    def ids(self, response: httpx.Response) -> list[str]:
        return [item["id"] for item in response.json()["data"]]

    def set(self, sql: str, *args: Any) -> None:
        self.sim.app.state.store.execute(sql, args)

    @property
    def admin(self) -> str:
        return self.world.admin.username

    def member(self, index: int = 0) -> str:
        return [p.username for p in self.world.people if not p.is_admin][index]

    def user_id(self, username: str) -> str:
        return str(next(p.id for p in self.world.people if p.username == username))

    def visible(self) -> list[int]:
        return [d.id for d in self.world.discussions if not (d.is_hidden or d.is_private)]


@pytest.fixture
def forum(flarum: Simulator, world: World) -> Forum:
    return Forum(flarum, world)


@pytest.fixture
def fresh(fresh_flarum: Simulator, world: World) -> Forum:
    return Forum(fresh_flarum, world)


def error(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"] == JSONAPI
    (only,) = response.json()["errors"]
    return dict(only)


def discussion_body(title: str, content: str, *tags: str) -> dict[str, Any]:
    return {
        "data": {
            "type": "discussions",
            "attributes": {"title": title, "content": content},
            "relationships": {"tags": {"data": [{"type": "tags", "id": t} for t in tags]}},
        }
    }


def reply_body(discussion: int | None, content: str) -> dict[str, Any]:
    relationships = (
        {"discussion": {"data": {"type": "discussions", "id": str(discussion)}}}
        if discussion is not None
        else {}
    )
    return {
        "data": {
            "type": "posts",
            "attributes": {"content": content},
            "relationships": relationships,
        }
    }


# Authentication --------------------------------------------------------------------------------


def test_fact_01_tokens(fresh: Forum) -> None:
    person = fresh.world.people[3]
    for identification in (person.username.upper(), person.email):
        answer = httpx.post(
            f"{fresh.sim.url}/api/token",
            json={"identification": identification, "password": DEMO_PASSWORD, "remember": 1},
        )
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
        assert set(answer.json()) == {"token", "userId"} and len(answer.json()["token"]) == 40
    fresh.set("UPDATE users SET is_email_confirmed = 0 WHERE id = ?", person.id)
    assert login(fresh.sim.url, person.username)  # an unconfirmed user gets a token too
    for body, status, code in (
        ({"identification": person.username, "password": "wrong"}, 401, "not_authenticated"),
        ({"identification": "nobody", "password": "x"}, 401, "not_authenticated"),
        ({"identification": person.username}, 500, "unknown"),
    ):
        refused = httpx.post(f"{fresh.sim.url}/api/token", json=body)
        assert refused.status_code == status
        assert error(refused) == {"status": str(status), "code": code}


def test_fact_02_errors_carry_status_and_code_only(forum: Forum) -> None:
    assert error(forum.get("/discussions/999999")) == {"status": "404", "code": "not_found"}
    assert error(forum.get("/discussions", sort="title")) == {
        "status": "400",
        "code": "invalid_parameter",
    }
    refused = forum.post("/discussions", discussion_body("", "x", "1"), forum.member(1))
    (invalid,) = refused.json()["errors"]
    assert set(invalid) == {"status", "code", "detail", "source"}


def test_fact_03_an_unknown_token_is_a_guest_on_reads(forum: Forum) -> None:
    stranger = "Token " + "f" * 40
    assert forum.ids(forum.get("/discussions", stranger)) == forum.ids(forum.get("/discussions"))
    assert "relationships" not in forum.get("", stranger, include="actor").json()["data"]
    refused = forum.post("/posts", reply_body(1, "hi"), stranger)
    assert (refused.status_code, error(refused)["code"]) == (400, "csrf_token_mismatch")


def test_fact_04_the_forum_and_its_actor(forum: Forum) -> None:
    member = forum.member(2)
    signed_in = forum.get("", member, include="actor").json()
    actor_id = signed_in["data"]["relationships"]["actor"]["data"]["id"]
    (actor,) = signed_in["included"]
    assert actor["id"] == actor_id == forum.user_id(member)
    assert {"email", "isEmailConfirmed"} <= set(actor["attributes"])
    guest = forum.get("", include="actor").json()
    assert "relationships" not in guest["data"] and "included" not in guest
    default = forum.get("").json()
    assert set(default["data"]["relationships"]) == {"groups", "tags"}


def test_fact_05_an_api_key(fresh: Forum) -> None:
    person = fresh.world.people[10]
    key = f"Token {SERVICE_API_KEY}; userId={person.id}"
    actor = fresh.get("", key, include="actor").json()["data"]["relationships"]["actor"]
    assert actor["data"]["id"] == str(person.id)
    first = fresh.post("/posts", reply_body(1, "one"), key)
    second = fresh.post("/posts", reply_body(1, "two"), key)  # no flood control for a key
    assert (first.status_code, second.status_code) == (201, 201)
    for alone in (f"Token {SERVICE_API_KEY}", f"Token {SERVICE_API_KEY}; userId=999999"):
        assert "relationships" not in fresh.get("", alone, include="actor").json()["data"]
        assert error(fresh.post("/posts", reply_body(1, "x"), alone))["code"] == (
            "csrf_token_mismatch"
        )


def test_fact_06_a_write_without_authorization_fails_the_csrf_check(forum: Forum) -> None:
    for path, body in (("/posts", reply_body(1, "x")), ("/discussions", discussion_body("a", "b"))):
        refused = forum.post(path, body)
        assert (refused.status_code, error(refused)["code"]) == (400, "csrf_token_mismatch")


# Discussion list and show ----------------------------------------------------------------------


def test_fact_07_includes_are_validated_first(forum: Forum) -> None:
    for include in ("user,lastPostedUser,mostRelevantPost,mostRelevantPost.user,firstPost,"
                    "lastPost,tags,tags.parent,tags.state", ""):  # fmt: skip
        assert forum.get("/discussions", include=include).status_code == 200
    for include in ("firstPost.user", "lastPost.user", "posts", "firstPost.discussion", "x"):
        refused = forum.get("/discussions", include=include)
        assert (refused.status_code, error(refused)["code"]) == (400, "invalid_parameter")
    assert forum.get("/discussions/1", include="posts,posts.user,posts.discussion").status_code == (
        200
    )
    assert forum.get("/discussions/999999", include="firstPost.user").status_code == 400
    assert forum.get("/discussions/999999", include="firstPost").status_code == 404


def test_fact_08_included_posts_carry_no_relationships(forum: Forum) -> None:
    body = forum.get("/discussions", include="user,tags,firstPost").json()
    posts = [r for r in body["included"] if r["type"] == "posts"]
    assert posts and all("relationships" not in p for p in posts)
    first_ids = ",".join(p["id"] for p in posts[:3])
    authors = forum.get(
        "/posts", **{"filter[id]": first_ids, "include": "user", "page[limit]": "50"}
    )
    assert all(p["relationships"]["user"]["data"] for p in authors.json()["data"])


def test_fact_09_show_without_include(forum: Forum) -> None:
    body = forum.get("/discussions/1").json()
    assert {"user", "posts", "tags"} <= set(body["data"]["relationships"])
    posts = [r for r in body["included"] if r["type"] == "posts"]
    assert posts and all("user" in p["relationships"] for p in posts)
    long = max(forum.visible(), key=lambda d: sum(p.discussion_id == d for p in forum.world.posts))
    near = forum.get(f"/discussions/{long}", **{"page[near]": "25"}).json()
    numbers = [r["attributes"]["number"] for r in near["included"] if r["type"] == "posts"]
    assert min(numbers) > 1 and 25 in numbers


def test_fact_10_paging(forum: Forum) -> None:
    capped = forum.get("/discussions", include="", **{"page[limit]": "100"}).json()
    assert len(capped["data"]) == 50 and "next" in capped["links"] and "meta" not in capped
    past = forum.get("/discussions", include="", **{"page[offset]": "100000"}).json()
    assert past["data"] == [] and {"first", "prev"} <= set(past["links"])
    first = forum.get("/discussions", include="").json()
    assert "prev" not in first["links"] and "next" in first["links"]
    by_number = forum.get("/discussions", include="", **{"page[number]": "2"})
    by_offset = forum.get("/discussions", include="", **{"page[offset]": "20"})
    assert forum.ids(by_number) == forum.ids(by_offset)
    zero = forum.get("/discussions", include="", **{"page[limit]": "0"}).json()
    assert len(zero["data"]) == 20
    refused = forum.get("/discussions", **{"page[offset]": "-1"})
    assert (refused.status_code, error(refused)["code"]) == (400, "invalid_parameter")


def test_fact_11_sorts_and_sticky_pinning(forum: Forum) -> None:
    for sort in ("lastPostedAt", "-createdAt", "commentCount", "-commentCount"):
        assert forum.get("/discussions", include="", sort=sort).status_code == 200
    for sort in ("title", "-id"):
        assert error(forum.get("/discussions", sort=sort))["code"] == "invalid_parameter"
    sticky = {str(d.id) for d in forum.world.discussions if d.is_sticky} & {
        str(i) for i in forum.visible()
    }
    default = forum.ids(forum.get("/discussions", include="", **{"page[limit]": "50"}))
    assert set(default[: len(sticky)]) == sticky  # pinned first
    by_date = forum.get("/discussions", include="", sort="-lastPostedAt", **{"page[limit]": "50"})
    stamps = [d["attributes"]["lastPostedAt"] for d in by_date.json()["data"]]
    assert stamps == sorted(stamps, reverse=True)


def test_fact_12_visibility_in_lists(fresh: Forum) -> None:
    hidden = next(d for d in fresh.world.discussions if d.is_hidden and not d.is_private)
    author = next(p.username for p in fresh.world.people if p.id == hidden.author_id)
    everything = {"include": "", "page[limit]": "50", "filter[author]": author}
    assert str(hidden.id) in fresh.ids(fresh.get("/discussions", author, **everything))
    other = next(
        p.username for p in fresh.world.people if not p.is_admin and p.id != hidden.author_id
    )
    assert str(hidden.id) not in fresh.ids(fresh.get("/discussions", other, **everything))
    assert str(hidden.id) not in fresh.ids(fresh.get("/discussions", **everything))
    fresh.set("UPDATE users SET is_moderator = 1 WHERE username = ?", other)
    assert str(hidden.id) in fresh.ids(fresh.get("/discussions", other, **everything))
    # A restricted tag's discussions: the administrator's alone, not a moderator's.
    restricted = fresh.world.discussions[0]
    fresh.set("UPDATE tags SET is_restricted = 1 WHERE id = ?", restricted.tag_ids[0])
    listed = {"include": "", "page[limit]": "50", "sort": "createdAt"}
    assert str(restricted.id) not in fresh.ids(fresh.get("/discussions", other, **listed))
    assert str(restricted.id) in fresh.ids(fresh.get("/discussions", fresh.admin, **listed))


def test_fact_13_show_visibility(fresh: Forum) -> None:
    for missing in ("999999", "abc"):
        assert error(fresh.get(f"/discussions/{missing}"))["code"] == "not_found"
    hidden = next(d for d in fresh.world.discussions if d.is_hidden and not d.is_private)
    author = next(p.username for p in fresh.world.people if p.id == hidden.author_id)
    assert fresh.get(f"/discussions/{hidden.id}").status_code == 404
    assert fresh.get(f"/discussions/{hidden.id}", author).status_code == 200
    assert fresh.get(f"/discussions/{hidden.id}", fresh.admin).status_code == 200
    slug = fresh.get("/discussions/1").json()["data"]["attributes"]["slug"]
    assert fresh.get(f"/discussions/{slug}", bySlug="1").json()["data"]["id"] == "1"


def test_fact_14_filter_tag_takes_slugs(forum: Forum) -> None:
    first, second = forum.world.tags[0], forum.world.tags[2]
    one = set(forum.ids(forum.get("/discussions", include="", **{"filter[tag]": first.slug})))
    other = set(forum.ids(forum.get("/discussions", include="", **{"filter[tag]": second.slug})))
    both = forum.get("/discussions", include="", **{"filter[tag]": f"{first.slug},{second.slug}",
                                                   "page[limit]": "50"})  # fmt: skip
    assert one and (one | other) <= set(forum.ids(both))
    assert forum.ids(forum.get("/discussions", **{"filter[tag]": str(first.id)})) == []
    assert forum.ids(forum.get("/discussions", **{"filter[tag]": "no-such-tag"})) == []


def test_fact_15_a_search_drops_filter_tag_and_applies_the_gambit(forum: Forum) -> None:
    word = "homework"
    tag = forum.world.tags[2].slug
    alone = forum.ids(forum.get("/discussions", include="", **{"filter[q]": word}))
    beside = forum.ids(
        forum.get("/discussions", include="", **{"filter[q]": word, "filter[tag]": tag})
    )
    assert alone and beside == alone
    gambit = forum.get("/discussions", include="tags", **{"filter[q]": f"{word} tag:{tag}"})
    within = gambit.json()
    assert within["data"] and set(forum.ids(gambit)) < set(alone)
    tag_id = str(forum.world.tags[2].id)
    assert all(
        tag_id in [t["id"] for t in d["relationships"]["tags"]["data"]] for d in within["data"]
    )


def test_fact_16_other_filters_and_gambits(forum: Forum) -> None:
    author = forum.member(4)
    by_filter = forum.ids(forum.get("/discussions", include="", **{"filter[author]": author}))
    by_gambit = forum.ids(
        forum.get("/discussions", include="", **{"filter[q]": f"author:{author}"})
    )
    assert by_filter == by_gambit
    assert forum.ids(forum.get("/discussions", **{"filter[author]": "nobody-at-all"})) == []
    sticky = forum.get("/discussions", forum.admin, include="", **{"filter[q]": "is:sticky"})
    assert sticky.json()["data"] and all(d["attributes"]["isSticky"] for d in sticky.json()["data"])
    assert forum.ids(forum.get("/discussions", include="", **{"filter[x]": "1"})) == forum.ids(
        forum.get("/discussions", include="")
    )


# Posts ------------------------------------------------------------------------------------------


def test_fact_17_listed_posts_link_only_their_author(forum: Forum) -> None:
    listed = {"filter[discussion]": "1", "sort": "number", "include": "user"}
    posts = forum.get("/posts", **listed).json()["data"]
    assert posts and all(set(p["relationships"]) == {"user"} for p in posts)
    linked = forum.get("/posts", **listed | {"include": "user,discussion"}).json()["data"]
    assert all("discussion" in p["relationships"] for p in linked)
    one = forum.get(f"/posts/{posts[0]['id']}").json()["data"]
    assert {"user", "discussion"} <= set(one["relationships"])


def test_fact_18_event_posts(forum: Forum) -> None:
    sticky = next(d for d in forum.world.discussions if d.is_sticky and not d.is_hidden
                  and not d.is_private)  # fmt: skip
    posts = forum.get("/posts", **{"filter[discussion]": str(sticky.id), "page[limit]": "50"})
    events = [
        p["attributes"] for p in posts.json()["data"] if p["attributes"]["contentType"] != "comment"
    ]
    assert {"contentType": "discussionStickied", "content": {"sticky": True}}.items() <= events[
        0
    ].items()
    assert "contentHtml" not in events[0]


def test_fact_19_the_source_text_only_for_those_who_may_edit(fresh: Forum) -> None:
    member = fresh.member(7)
    replied = fresh.post("/posts", reply_body(1, "My latest words"), member).json()["data"]
    as_author = fresh.get(f"/posts/{replied['id']}", member).json()["data"]["attributes"]
    assert as_author["content"] == "My latest words"
    assert "content" not in fresh.get(f"/posts/{replied['id']}").json()["data"]["attributes"]
    first = fresh.get("/posts", fresh.admin, **{"filter[discussion]": "1"}).json()["data"][0]
    assert "content" in first["attributes"]  # the administrator may edit any post


def test_fact_20_posts_of_invisible_discussions_are_silently_empty(forum: Forum) -> None:
    hidden = next(d for d in forum.world.discussions if d.is_hidden)
    assert forum.ids(forum.get("/posts", **{"filter[discussion]": str(hidden.id)})) == []
    assert forum.ids(forum.get("/posts", forum.admin, **{"filter[discussion]": str(hidden.id)}))
    assert forum.ids(forum.get("/posts", **{"filter[discussion]": "999999"})) == []
    visible_post = next(p for p in forum.world.posts if p.discussion_id == 1)
    hidden_post = next(p for p in forum.world.posts if p.discussion_id == hidden.id)
    wanted = f"{visible_post.id},{hidden_post.id},999999"
    assert forum.ids(forum.get("/posts", **{"filter[id]": wanted})) == [str(visible_post.id)]
    backwards = forum.get("/posts", **{"filter[discussion]": "1", "sort": "-number"}).json()
    numbers = [p["attributes"]["number"] for p in backwards["data"]]
    assert numbers == sorted(numbers, reverse=True)
    assert forum.get("/posts/999999").status_code == 404


# Users --------------------------------------------------------------------------------------------


def test_fact_21_a_user_is_public_their_email_is_not(forum: Forum) -> None:
    person = forum.world.people[5]
    other = forum.member(9)
    public = forum.get(f"/users/{person.id}").json()["data"]["attributes"]
    assert "email" not in public and "isEmailConfirmed" not in public
    assert "email" not in forum.get(f"/users/{person.id}", other).json()["data"]["attributes"]
    assert forum.get(f"/users/{person.id}", forum.admin).json()["data"]["attributes"]["email"]
    assert forum.get(f"/users/{person.id}", person.username).json()["data"]["attributes"]["email"]
    assert forum.get("/users/999999").status_code == 404
    assert forum.get(f"/users/{person.username}").status_code == 404
    assert forum.get(f"/users/{person.username}", bySlug="1").status_code == 200


def test_fact_22_the_email_filter(forum: Forum) -> None:
    carol = forum.world.people[4]
    exact = forum.get("/users", forum.admin, **{"filter[email]": carol.email.upper()}).json()
    assert [u["id"] for u in exact["data"]] == [str(carol.id)]
    member = forum.member(11)
    ignored = forum.get("/users", member, **{"filter[email]": carol.email}).json()
    assert len(ignored["data"]) > 1 and ignored["data"][0]["id"] == str(forum.world.admin.id)
    emails = [u["attributes"].get("email") for u in ignored["data"]]
    own = next(p.email for p in forum.world.people if p.username == member)
    assert [e for e in emails if e] == [own]  # every e-mail hidden but the caller's own
    assert all("groups" in u["relationships"] for u in ignored["data"])
    assert forum.get("/users", **{"filter[email]": carol.email}).status_code == 403
    by_email = forum.get("/users", member, **{"filter[q]": f"email:{carol.email}"}).json()
    assert by_email["data"] == []
    prefix = carol.username[:4]
    found = forum.get("/users", member, **{"filter[q]": prefix}).json()["data"]
    assert str(carol.id) in [u["id"] for u in found]
    assert forum.get("/users", **{"filter[q]": prefix}).status_code == 403


def test_fact_23_tags_the_actor_may_see(fresh: Forum) -> None:
    every = fresh.ids(fresh.get("/tags"))
    fresh.set("UPDATE tags SET is_restricted = 1 WHERE id = ?", fresh.world.tags[0].id)
    assert str(fresh.world.tags[0].id) not in fresh.ids(fresh.get("/tags"))
    assert fresh.ids(fresh.get("/tags", fresh.admin)) == every


# Writes -----------------------------------------------------------------------------------------


def test_fact_24_a_new_discussion(fresh: Forum) -> None:
    member = fresh.member(12)
    created = fresh.post("/discussions", discussion_body("A new one", "Hello", "1"), member)
    assert created.status_code == 201
    body = created.json()
    assert {"posts", "user", "lastPostedUser", "firstPost", "lastPost", "tags"} <= set(
        body["data"]["relationships"]
    )
    author = next(r for r in body["included"] if r["type"] == "users")
    assert set(author["attributes"]) == {"username", "displayName", "avatarUrl", "slug"}
    first = next(r for r in body["included"] if r["type"] == "posts")
    assert first["attributes"]["content"] == "Hello"


def test_fact_25_validation_of_a_new_discussion(fresh: Forum) -> None:
    member = fresh.member(13)
    secondary = str(sorted(fresh.world.tags, key=lambda t: t.position)[-1].id)
    for tags in (("1", "3"), (), (secondary,), ("999",)):
        refused = fresh.post("/discussions", discussion_body("Tags", "text", *tags), member)
        assert refused.status_code == 422
        assert refused.json()["errors"] == [
            {
                "status": "422",
                "code": "validation_error",
                "detail": "The tag count primary must be 1.",
                "source": {"pointer": "/data/relationships/tags"},
            }
        ]
    title = fresh.post("/discussions", discussion_body("", "text", "1"), member).json()
    assert title["errors"][0]["detail"] == "The title field is required."
    content = fresh.post("/discussions", discussion_body("Fine title", "", "1"), member).json()
    assert content["errors"][0]["detail"] == "The content field is required."
    fresh.set("UPDATE tags SET is_restricted = 1 WHERE id = 1")
    refused = fresh.post("/discussions", discussion_body("Restricted", "text", "1"), member)
    assert (refused.status_code, error(refused)["code"]) == (403, "permission_denied")
    unconfirmed = fresh.member(14)
    fresh.set("UPDATE users SET is_email_confirmed = 0 WHERE username = ?", unconfirmed)
    refused = fresh.post("/discussions", discussion_body("Hi there", "text", "3"), unconfirmed)
    assert refused.status_code == 403


def test_fact_26_a_reply_includes_a_partial_discussion(fresh: Forum) -> None:
    member = fresh.member(15)
    created = fresh.post("/posts", reply_body(1, "Partial"), member)
    assert created.status_code == 201
    body = created.json()
    assert set(body["data"]["relationships"]) == {"user", "discussion", "mentionedBy", "likes"}
    discussion = next(r for r in body["included"] if r["type"] == "discussions")
    assert set(discussion["attributes"]) == {"title", "slug", "isApproved"}
    assert set(discussion["relationships"]) == {"posts", "lastPostedUser"}
    author = next(r for r in body["included"] if r["type"] == "users")
    assert author["attributes"]["email"]  # the author in full, their own e-mail included


def test_fact_27_reply_refusals(fresh: Forum) -> None:
    locked = next(d for d in fresh.world.discussions if d.is_locked and not d.is_hidden
                  and not d.is_private)  # fmt: skip
    member = fresh.member(16)
    refused = fresh.post("/posts", reply_body(locked.id, "Can I?"), member)
    assert (refused.status_code, error(refused)["code"]) == (403, "permission_denied")
    assert fresh.post("/posts", reply_body(locked.id, "I may"), fresh.admin).status_code == 201
    hidden = next(d for d in fresh.world.discussions if d.is_hidden)
    for target in (999999, hidden.id, None):
        missing = fresh.post("/posts", reply_body(target, "Anyone?"), member)
        assert (missing.status_code, error(missing)["code"]) == (404, "not_found")


def test_fact_28_flood_control_and_the_permission_endpoint(
    world: World,
) -> None:
    from tests.conftest import running_flarum

    with running_flarum(world, flood_seconds=0.5) as sim:
        forum = Forum(sim, world)
        member = f"Token {login(sim.url, forum.member(17))}"
        assert forum.post("/posts", reply_body(1, "Flood one"), member).status_code == 201
        flooded = forum.post("/posts", reply_body(1, "Flood two"), member)
        assert (flooded.status_code, error(flooded)["code"]) == (429, "too_many_requests")
        time.sleep(0.6)
        assert forum.post("/posts", reply_body(1, "Flood three"), member).status_code == 201
        granted = forum.post(
            "/permission", {"permission": "postWithoutThrottle", "groupIds": ["3"]}, forum.admin
        )
        assert (granted.status_code, granted.content) == (204, b"")
        assert forum.post("/posts", reply_body(1, "Unthrottled"), member).status_code == 201


def test_issue25_included_first_posts_are_the_short_form_even_for_the_administrator(
    forum: Forum,
) -> None:
    """issue25.jsonl 199, 200: no `content`, `canEdit` or `editedAt` in an included first post,
    whoever asks; the same posts by id carry `content` for the administrator."""
    body = forum.get("/discussions", forum.admin, include="user,tags,firstPost").json()
    posts = [r for r in body["included"] if r["type"] == "posts"]
    assert posts and all(
        set(p["attributes"])
        <= {"number", "createdAt", "contentType", "contentHtml", "renderFailed"}
        for p in posts
        if p["attributes"]["contentType"] == "comment"
    )
    by_id = forum.get(
        "/posts",
        forum.admin,
        **{"filter[id]": ",".join(p["id"] for p in posts), "include": "user", "page[limit]": "50"},
    )
    assert all("content" in p["attributes"] for p in by_id.json()["data"])


def test_issue25_one_item_tells_whether_more_follow(forum: Forum) -> None:
    """issue25.jsonl 204-207: `page[limit]=1` has `links.next` while items follow."""
    long = max(forum.visible(), key=lambda d: sum(p.discussion_id == d for p in forum.world.posts))
    count = sum(p.discussion_id == long for p in forum.world.posts)
    for offset, more in ((0, True), (count - 1, False)):
        page = forum.get(
            "/posts",
            **{"filter[discussion]": str(long), "page[offset]": str(offset), "page[limit]": "1"},
        ).json()
        assert (len(page["data"]), "next" in page["links"]) == (1, more)
