"""Flarum discussions through the gateway, against the Flarum simulator on loopback."""

from __future__ import annotations

import asyncio
import secrets

import httpx

from graph.schema.ids import GlobalId
from simulators.world import DEMO_PASSWORD, World
from tests.conftest import Gateway, Simulator, errors_by_path, flarum_headers, login

FRONT_PAGE = """
query Front($after: String) {
  discussions(first: 20, after: $after) {
    edges { cursor }
    nodes {
      id title commentCount createdAt
      author { username displayName }
      tags { name slug }
      firstPost { contentHtml author { username } }
    }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}
"""


def discussion_id(upstream_id: int) -> str:
    return GlobalId("flarum", "Discussion", str(upstream_id)).encode()


def visible_to_guest(world: World) -> list[int]:
    return [d.id for d in world.discussions if not (d.is_hidden or d.is_private)]


def test_front_page_costs_two_upstream_requests(
    gateway: Gateway, flarum: Simulator, world: World
) -> None:
    """The list with authors, tags and first posts, then the first posts' authors in one
    `filter[id]` request: Flarum 1.7 refuses `include=firstPost.user`."""
    flarum.counter.reset()
    body = gateway.query(FRONT_PAGE)
    assert "errors" not in body
    assert flarum.counter.snapshot() == {"GET /api/discussions": 1, "GET /api/posts": 1}
    nodes = body["data"]["discussions"]["nodes"]
    assert len(nodes) == 20
    people = {p.id: p for p in world.people}
    by_id = {d.id: d for d in world.discussions}
    tags = {t.id: t for t in world.tags}
    for node in nodes:
        seeded = by_id[int(GlobalId.decode(node["id"]).upstream_id)]
        assert node["title"] == seeded.title
        assert node["author"]["username"] == people[seeded.author_id].username
        assert [t["slug"] for t in node["tags"]] == [tags[t].slug for t in seeded.tag_ids]
        assert node["firstPost"]["author"]["username"] == people[seeded.author_id].username
        assert node["firstPost"]["contentHtml"].startswith("<p>Let&#x27;s talk about")
    assert body["data"]["discussions"]["totalCount"] is None  # Flarum does not count
    assert body["data"]["discussions"]["pageInfo"]["hasNextPage"] is True


def test_front_page_without_the_first_posts_authors_costs_one_request(
    gateway: Gateway, flarum: Simulator
) -> None:
    flarum.counter.reset()
    body = gateway.query(
        "{ discussions(first: 7) { nodes { title author { username } tags { slug }"
        " firstPost { contentHtml discussion { title } } } } }"
    )
    assert "errors" not in body
    assert flarum.counter.snapshot() == {"GET /api/discussions": 1}
    for node in body["data"]["discussions"]["nodes"]:
        assert node["firstPost"]["discussion"]["title"] == node["title"]


def test_second_page_continues_after_the_cursor(gateway: Gateway, flarum: Simulator) -> None:
    first = gateway.query(FRONT_PAGE)["data"]["discussions"]
    second = gateway.query(FRONT_PAGE, {"after": first["pageInfo"]["endCursor"]})["data"][
        "discussions"
    ]
    direct = httpx.get(
        f"{flarum.url}/api/discussions", params={"page[offset]": "0", "page[limit]": "40"}
    ).json()
    expected = [discussion_id(int(item["id"])) for item in direct["data"]]
    assert [n["id"] for n in first["nodes"]] == expected[:20]
    assert [n["id"] for n in second["nodes"]] == expected[20:40]
    assert second["edges"][0]["cursor"] != first["edges"][0]["cursor"]


def test_first_above_flarum_cap_reads_several_pages(
    gateway: Gateway, flarum: Simulator, world: World
) -> None:
    flarum.counter.reset()
    body = gateway.query("{ discussions(first: 100) { nodes { id } pageInfo { hasNextPage } } }")
    ids = [int(GlobalId.decode(n["id"]).upstream_id) for n in body["data"]["discussions"]["nodes"]]
    assert sorted(ids) == sorted(visible_to_guest(world))
    assert len(set(ids)) == len(ids)
    assert body["data"]["discussions"]["pageInfo"]["hasNextPage"] is False
    assert flarum.counter.snapshot() == {"GET /api/discussions": 2}


def test_unselected_relationships_are_not_included(gateway: Gateway, flarum: Simulator) -> None:
    flarum.counter.reset()
    body = gateway.query("{ discussions(first: 5) { nodes { title tags { name } } } }")
    assert all(node["tags"] for node in body["data"]["discussions"]["nodes"])
    assert flarum.counter.snapshot() == {"GET /api/discussions": 1}


def test_search_and_tag_filters(gateway: Gateway, world: World) -> None:
    body = gateway.query('{ discussions(first: 50, tag: "events") { nodes { tags { slug } } } }')
    nodes = body["data"]["discussions"]["nodes"]
    assert nodes and all("events" in [t["slug"] for t in n["tags"]] for n in nodes)
    body = gateway.query('{ discussions(first: 50, search: "garden") { nodes { title } } }')
    assert body["data"]["discussions"]["nodes"]


def test_private_discussion_is_visible_to_its_owner_only(
    gateway: Gateway, flarum: Simulator, world: World
) -> None:
    private = next(d for d in world.discussions if d.is_private)
    owner = next(p for p in world.people if p.id == private.author_id)
    other = next(p for p in world.people if p.id != owner.id and not p.is_admin)
    query = "query($id: ID!) { discussion(id: $id) { title } }"
    variables = {"id": discussion_id(private.id)}

    as_guest = gateway.query(query, variables)
    assert as_guest["data"]["discussion"] is None
    assert errors_by_path(as_guest)["discussion"]["extensions"]["code"] == "NOT_FOUND"

    as_other = gateway.query(query, variables, **flarum_headers(login(flarum.url, other.username)))
    assert as_other["data"]["discussion"] is None

    as_owner = gateway.query(query, variables, **flarum_headers(login(flarum.url, owner.username)))
    assert as_owner["data"]["discussion"] == {"title": private.title}


def test_an_unknown_token_is_refused_on_every_read(
    gateway: Gateway, flarum: Simulator, world: World
) -> None:
    """Flarum reads with a token it does not know as a guest's: the gateway asks once who the
    token is (the same `GET /api` that `viewer` needs) and then remembers."""
    private = next(d for d in world.discussions if d.is_private)
    unknown = secrets.token_hex(20)
    flarum.counter.reset()
    body = gateway.query(
        "query($id: ID!) { discussion(id: $id) { title } viewer { flarum { username } } }",
        {"id": discussion_id(private.id)},
        **flarum_headers(unknown),
    )
    errors = errors_by_path(body)
    assert errors["discussion"]["extensions"]["code"] == "UNAUTHENTICATED"
    assert errors["viewer.flarum"]["extensions"]["code"] == "UNAUTHENTICATED"
    assert flarum.counter.snapshot() == {"GET /api": 1, "GET /api/discussions/{id}": 1}
    flarum.counter.reset()
    again = gateway.query(
        "{ discussions(first: 3) { nodes { title } } }", **flarum_headers(unknown)
    )
    assert again["data"]["discussions"] is None
    assert errors_by_path(again)["discussions"]["extensions"]["code"] == "UNAUTHENTICATED"
    assert flarum.counter.snapshot() == {}  # remembered: no request at all


def test_a_known_token_costs_one_extra_request_once(
    gateway: Gateway, flarum: Simulator, world: World
) -> None:
    token = login(flarum.url, world.people[5].username)
    flarum.counter.reset()
    page = "{ discussions(first: %d) { nodes { title } } }"
    assert "errors" not in gateway.query(page % 3, **flarum_headers(token))
    assert flarum.counter.snapshot() == {"GET /api": 1, "GET /api/discussions": 1}
    flarum.counter.reset()
    assert "errors" not in gateway.query(page % 4, **flarum_headers(token))  # not a cached one
    assert flarum.counter.snapshot() == {"GET /api/discussions": 1}


def test_viewer_is_the_token_owner(gateway: Gateway, flarum: Simulator, world: World) -> None:
    person = world.people[4]
    token = login(flarum.url, person.username)
    body = gateway.query(
        "{ viewer { flarum { username email joinedAt discussionCount } } }", **flarum_headers(token)
    )
    viewer = body["data"]["viewer"]["flarum"]
    assert viewer["username"] == person.username
    assert viewer["email"] == person.email  # a user sees their own e-mail
    assert viewer["discussionCount"] == sum(d.author_id == person.id for d in world.discussions)
    assert gateway.query("{ viewer { flarum { username } } }")["data"]["viewer"]["flarum"] is None


def test_email_is_visible_to_self_and_admin_only(
    gateway: Gateway, flarum: Simulator, world: World
) -> None:
    person = world.people[7]
    user_id = GlobalId("flarum", "FlarumUser", str(person.id)).encode()
    query = "query($id: ID!) { node(id: $id) { ... on FlarumUser { username email } } }"
    as_guest = gateway.query(query, {"id": user_id})["data"]["node"]
    assert as_guest == {"username": person.username, "email": None}
    admin_token = login(flarum.url, world.admin.username)
    as_admin = gateway.query(query, {"id": user_id}, **flarum_headers(admin_token))["data"]["node"]
    assert as_admin == {"username": person.username, "email": person.email}


def test_missing_discussion_fails_alone(gateway: Gateway) -> None:
    body = gateway.query(
        "query($a: ID!, $b: ID!) { a: discussion(id: $a) { title } b: discussion(id: $b) { title } }",
        {"a": discussion_id(1), "b": discussion_id(9999)},
    )
    assert body["data"]["a"]["title"]
    assert body["data"]["b"] is None
    errors = errors_by_path(body)
    assert set(errors) == {"b"}
    assert errors["b"]["extensions"]["code"] == "NOT_FOUND"
    assert errors["b"]["extensions"]["source"] == "FLARUM"


def test_bad_ids_and_cursors_are_bad_user_input(gateway: Gateway) -> None:
    body = gateway.query(
        '{ a: discussion(id: "not-an-id") { title } b: discussions(after: "bogus") { nodes { id } }'
        " c: discussions(first: -1) { nodes { id } } }"
    )
    errors = errors_by_path(body)
    assert {path: e["extensions"]["code"] for path, e in errors.items()} == {
        "a": "BAD_USER_INPUT",
        "b": "BAD_USER_INPUT",
        "c": "BAD_USER_INPUT",
    }


def test_nodes_resolves_each_type_and_fails_per_slot(
    gateway: Gateway, flarum: Simulator, world: World
) -> None:
    post = next(p for p in world.posts if p.discussion_id == 1 and p.number == 2)
    ids = [
        discussion_id(1),
        GlobalId("flarum", "Post", str(post.id)).encode(),
        GlobalId("flarum", "Tag", "3").encode(),
        GlobalId("flarum", "FlarumUser", "2").encode(),
        discussion_id(9999),
    ]
    body = gateway.query(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id __typename ... on Post { number author { username } } } }",
        {"ids": ids},
    )
    nodes = body["data"]["nodes"]
    assert [n and n["__typename"] for n in nodes] == [
        "Discussion",
        "Post",
        "Tag",
        "FlarumUser",
        None,
    ]
    assert [n["id"] for n in nodes[:4]] == ids[:4]
    assert nodes[1]["number"] == 2
    assert nodes[1]["author"]["username"] == world.people[post.author_id - 1].username
    assert errors_by_path(body)["nodes.4"]["extensions"]["code"] == "NOT_FOUND"


def test_posts_of_a_discussion_page_in_order(
    gateway: Gateway, flarum: Simulator, world: World
) -> None:
    seeded = sorted((p for p in world.posts if p.discussion_id == 60), key=lambda p: p.number)
    query = """query($id: ID!, $after: String) { discussion(id: $id) {
        posts(first: 7, after: $after) { nodes { number author { username } } pageInfo { hasNextPage endCursor } }
    } }"""
    flarum.counter.reset()
    first = gateway.query(query, {"id": discussion_id(60)})["data"]["discussion"]["posts"]
    assert [n["number"] for n in first["nodes"]] == [p.number for p in seeded[:7]]
    assert first["pageInfo"]["hasNextPage"] is (len(seeded) > 7)
    # One request for the discussion, one for its posts with their authors included.
    assert flarum.counter.snapshot() == {"GET /api/discussions/{id}": 1, "GET /api/posts": 1}
    after = gateway.query(query, {"id": discussion_id(60), "after": first["pageInfo"]["endCursor"]})
    assert [n["number"] for n in after["data"]["discussion"]["posts"]["nodes"]] == [
        p.number for p in seeded[7:14]
    ]


def test_two_callers_concurrently_see_only_their_own(
    gateway: Gateway, flarum: Simulator, world: World
) -> None:
    private = [d for d in world.discussions if d.is_private]
    first, second = private[0], next(d for d in private if d.author_id != private[0].author_id)
    tokens = {
        first.id: login(flarum.url, world.people[first.author_id - 1].username),
        second.id: login(flarum.url, world.people[second.author_id - 1].username),
    }
    query = "query($a: ID!, $b: ID!) { a: discussion(id: $a) { title } b: discussion(id: $b) { title } }"
    variables = {"a": discussion_id(first.id), "b": discussion_id(second.id)}

    async def ask(client: httpx.AsyncClient, own: int) -> tuple[int, dict[str, object]]:
        response = await client.post(
            f"{gateway.url}/graphql",
            json={"query": query, "variables": variables},
            headers=flarum_headers(tokens[own]),
        )
        return own, response.json()["data"]

    async def interleave() -> list[tuple[int, dict[str, object]]]:
        async with httpx.AsyncClient(timeout=30) as client:
            return await asyncio.gather(
                *(ask(client, d.id) for _ in range(10) for d in (first, second))
            )

    for own, data in asyncio.run(interleave()):
        if own == first.id:
            assert data == {"a": {"title": first.title}, "b": None}
        else:
            assert data == {"a": None, "b": {"title": second.title}}


def test_password_is_never_needed_twice(gateway: Gateway, world: World) -> None:
    body = gateway.query(
        "mutation($u: String!, $p: String!) { login(source: FLARUM, username: $u, password: $p)"
        " { token expiresAt account { username displayName } } }",
        {"u": world.people[3].email, "p": DEMO_PASSWORD},
    )
    payload = body["data"]["login"]
    assert len(payload["token"]) == 40
    assert payload["expiresAt"] is None
    assert payload["account"]["username"] == world.people[3].username


def test_a_first_post_without_its_author_still_costs_one_request(
    gateway: Gateway, flarum: Simulator
) -> None:
    flarum.counter.reset()
    body = gateway.query("{ discussions(first: 20) { nodes { firstPost { contentHtml } } } }")
    assert all(n["firstPost"]["contentHtml"] for n in body["data"]["discussions"]["nodes"])
    assert flarum.counter.snapshot() == {"GET /api/discussions": 1}


def test_a_member_beyond_flarums_first_page_of_users_finds_their_own_account(
    gateway: Gateway, flarum: Simulator, world: World
) -> None:
    """Flarum ignores a member's e-mail filter and answers its first 20 users: a member not
    among them is still linked to their own account, through the forum's actor."""
    member = next(p for p in world.people if p.id > 30 and not p.is_admin)
    body = gateway.query(
        "query($e: String!) { person(email: $e) { forumUser { username } } }",
        {"e": member.email},
        **flarum_headers(login(flarum.url, member.username)),
    )
    assert body["data"]["person"]["forumUser"] == {"username": member.username}


def test_an_administrator_reads_the_first_posts_source_text_from_the_list(
    gateway: Gateway, flarum: Simulator, world: World
) -> None:
    """Flarum includes a list's first posts in their short form, without `content` even for
    who may edit them: the gateway reads them by id, one request for all, with their authors."""
    token = login(flarum.url, world.admin.username)
    query = "{ discussions(first: 6) { nodes { id firstPost { content author { username } } } } }"
    gateway.query("{ viewer { flarum { username } } }", **flarum_headers(token))  # token known
    flarum.counter.reset()
    body = gateway.query(query, **flarum_headers(token))
    assert "errors" not in body
    assert flarum.counter.snapshot() == {"GET /api/discussions": 1, "GET /api/posts": 1}
    first_posts = {p.discussion_id: p for p in world.posts if p.number == 1}
    people = {p.id: p.username for p in world.people}
    for node in body["data"]["discussions"]["nodes"]:
        seeded = first_posts[int(GlobalId.decode(node["id"]).upstream_id)]
        assert node["firstPost"] == {
            "content": seeded.content,
            "author": {"username": people[seeded.author_id]},
        }
    # A guest may edit nothing: the source text stays null, at the same cost.
    flarum.counter.reset()
    guest = gateway.query(query)
    assert all(n["firstPost"]["content"] is None for n in guest["data"]["discussions"]["nodes"])
    assert flarum.counter.snapshot() == {"GET /api/discussions": 1, "GET /api/posts": 1}


def test_an_empty_page_still_says_whether_more_follow(gateway: Gateway, flarum: Simulator) -> None:
    """`first: 0` asks Flarum for one item past the cursor (Flarum reads `page[limit]=0` as its
    default page size)."""
    query = """query($id: ID!, $after: String) { discussion(id: $id) {
        posts(first: 0, after: $after) { nodes { number } pageInfo { hasNextPage endCursor } }
        all: posts(first: 50) { pageInfo { endCursor } } } }"""
    thread = gateway.query(query, {"id": discussion_id(60)})["data"]["discussion"]
    assert thread["posts"] == {"nodes": [], "pageInfo": {"hasNextPage": True, "endCursor": None}}
    end = thread["all"]["pageInfo"]["endCursor"]
    at_end = gateway.query(query, {"id": discussion_id(60), "after": end})["data"]["discussion"]
    assert at_end["posts"]["pageInfo"]["hasNextPage"] is False
    flarum.counter.reset()
    listed = gateway.query("{ discussions(first: 0) { pageInfo { hasNextPage } } }")
    assert listed["data"]["discussions"]["pageInfo"]["hasNextPage"] is True
    assert flarum.counter.snapshot() == {"GET /api/discussions": 1}


def test_a_token_the_gateway_saw_issued_is_not_asked_about(
    gateway: Gateway, flarum: Simulator, world: World
) -> None:
    """`login { account }` reads the account with the new token: Flarum has just issued it, so
    the gateway remembers it as known instead of asking."""
    signed_in = gateway.query(
        "mutation($u: String!, $p: String!) { login(source: FLARUM, username: $u, password: $p)"
        " { token account { username } } }",
        {"u": world.people[6].username, "p": DEMO_PASSWORD},
    )["data"]["login"]
    assert signed_in["account"] == {"username": world.people[6].username}
    flarum.counter.reset()
    page = gateway.query(
        "{ discussions(first: 2) { nodes { title } } }", **flarum_headers(signed_in["token"])
    )
    assert "errors" not in page
    assert flarum.counter.snapshot() == {"GET /api/discussions": 1}
