"""Writing to Flarum through the gateway: login, startDiscussion, reply."""

from __future__ import annotations

from graph.schema.ids import GlobalId
from simulators.world import DEMO_PASSWORD, World
from tests.conftest import Gateway, Simulator, errors_by_path, flarum_headers, login

LOGIN = """mutation($u: String!, $p: String!) {
  login(source: FLARUM, username: $u, password: $p) { token account { username } }
}"""
START = """mutation($title: String!, $content: String!, $tags: [ID!]) {
  startDiscussion(title: $title, content: $content, tags: $tags) {
    id title author { username } tags { slug } firstPost { number content contentHtml }
  }
}"""
REPLY = """mutation($id: ID!, $content: String!) {
  reply(discussionId: $id, content: $content) { number content author { username } discussion { id } }
}"""


def tag_id(upstream_id: int) -> str:
    return GlobalId("flarum", "Tag", str(upstream_id)).encode()


def discussion_id(upstream_id: int) -> str:
    return GlobalId("flarum", "Discussion", str(upstream_id)).encode()


def test_login_then_start_a_discussion_then_read_it_back(
    fresh_gateway: Gateway, fresh_flarum: Simulator, world: World
) -> None:
    person = world.people[5]
    token = fresh_gateway.query(LOGIN, {"u": person.username, "p": DEMO_PASSWORD})["data"]["login"][
        "token"
    ]
    started = fresh_gateway.query(
        START,
        {
            "title": "Lost property at the bake sale",
            "content": "A blue scarf.",
            "tags": [tag_id(3)],
        },
        **flarum_headers(token),
    )
    assert "errors" not in started, started
    created = started["data"]["startDiscussion"]
    assert created["author"] == {"username": person.username}
    assert created["tags"] == [{"slug": world.tags[2].slug}]
    assert created["firstPost"]["content"] == "A blue scarf."  # the author may edit, so sees it

    fresh_flarum.counter.reset()
    read = fresh_gateway.query(
        "query($id: ID!) { discussion(id: $id) { title firstPost { contentHtml author { username } } } }",
        {"id": created["id"]},
    )
    assert read["data"]["discussion"] == {
        "title": "Lost property at the bake sale",
        "firstPost": {
            "contentHtml": "<p>A blue scarf.</p>",
            "author": {"username": person.username},
        },
    }
    # The discussion, then its first post's author (Flarum includes posts without relationships).
    assert fresh_flarum.counter.snapshot() == {"GET /api/discussions/{id}": 1, "GET /api/posts": 1}


def test_reply_appends_a_post(
    fresh_gateway: Gateway, fresh_flarum: Simulator, world: World
) -> None:
    person = world.people[6]
    seeded = [p for p in world.posts if p.discussion_id == 1]
    body = fresh_gateway.query(
        REPLY,
        {"id": discussion_id(1), "content": "Count me in."},
        **flarum_headers(login(fresh_flarum.url, person.username)),
    )
    assert body["data"]["reply"] == {
        "number": len(seeded) + 1,
        "content": "Count me in.",
        "author": {"username": person.username},
        "discussion": {"id": discussion_id(1)},
    }


def test_bad_password_is_unauthenticated(gateway: Gateway, world: World) -> None:
    body = gateway.query(LOGIN, {"u": world.people[0].username, "p": "wrong"})
    assert body["data"] == {"login": None}
    error = errors_by_path(body)["login"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["extensions"]["source"] == "FLARUM"
    assert "wrong" not in error["message"]


def test_a_guest_cannot_start_a_discussion(gateway: Gateway) -> None:
    body = gateway.query(START, {"title": "Hello there", "content": "Hi", "tags": [tag_id(1)]})
    assert body["data"] == {"startDiscussion": None}
    extensions = errors_by_path(body)["startDiscussion"]["extensions"]
    # Flarum refuses a write without a valid token with 400 csrf_token_mismatch.
    assert extensions == {
        "code": "UNAUTHENTICATED",
        "source": "FLARUM",
        "upstreamCode": "csrf_token_mismatch",
    }


def test_replying_to_a_locked_discussion_is_forbidden(
    fresh_gateway: Gateway, fresh_flarum: Simulator, world: World
) -> None:
    locked = next(d for d in world.discussions if d.is_locked and not (d.is_hidden or d.is_private))
    member = next(p for p in world.people if not p.is_admin)
    body = fresh_gateway.query(
        REPLY,
        {"id": discussion_id(locked.id), "content": "Too late?"},
        **flarum_headers(login(fresh_flarum.url, member.username)),
    )
    extensions = errors_by_path(body)["reply"]["extensions"]
    assert extensions["code"] == "FORBIDDEN"
    assert extensions["source"] == "FLARUM"


def test_validation_errors_name_the_field(
    fresh_gateway: Gateway, fresh_flarum: Simulator, world: World
) -> None:
    token = login(fresh_flarum.url, world.people[8].username)
    body = fresh_gateway.query(
        START,
        {"title": "Hi", "content": "Too short a title", "tags": [tag_id(1)]},
        **flarum_headers(token),
    )
    error = errors_by_path(body)["startDiscussion"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "title"
    assert "title" in error["message"]


def test_posting_twice_quickly_is_flood_controlled(
    fresh_gateway: Gateway, fresh_flarum: Simulator, world: World
) -> None:
    token = login(fresh_flarum.url, world.people[9].username)
    first = fresh_gateway.query(
        REPLY, {"id": discussion_id(2), "content": "One"}, **flarum_headers(token)
    )
    assert "errors" not in first
    second = fresh_gateway.query(
        REPLY, {"id": discussion_id(2), "content": "Two"}, **flarum_headers(token)
    )
    assert errors_by_path(second)["reply"]["extensions"]["upstreamCode"] == "too_many_requests"
