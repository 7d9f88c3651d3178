"""The Flarum simulator speaks Flarum's JSON:API as the protocol reference describes it.

These tests use raw HTTP, not the connector, so a bug the two share cannot hide.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from simulators.counting import route_key
from simulators.flarum import SERVICE_API_KEY
from simulators.world import World, build_world
from tests.conftest import Simulator, login


def get(sim: Simulator, path: str, token: str | None = None, **params: str) -> httpx.Response:
    headers = {"Authorization": f"Token {token}"} if token else {}
    return httpx.get(f"{sim.url}/api{path}", params=params, headers=headers)


def error_of(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/vnd.api+json")
    error: dict[str, Any] = response.json()["errors"][0]
    assert error["status"] == str(response.status_code)  # a string, as Flarum writes it
    return error


def test_the_world_is_deterministic_and_big_enough() -> None:
    world = build_world()
    assert world == build_world.__wrapped__()  # type: ignore[attr-defined]
    assert len(world.people) >= 40 and len(world.tags) >= 8 and len(world.discussions) >= 60
    per_discussion = {d.id: 0 for d in world.discussions}
    for post in world.posts:
        per_discussion[post.discussion_id] += 1
    assert min(per_discussion.values()) >= 1 and max(per_discussion.values()) <= 30
    assert len({p.email for p in world.people}) == len(world.people)
    assert len(build_world(scale=3).discussions) == 180


def test_ids_are_strings_and_included_is_deduplicated(flarum: Simulator) -> None:
    body = get(flarum, "/discussions", include="user,firstPost", **{"page[limit]": "50"}).json()
    assert all(isinstance(item["id"], str) for item in body["data"])
    keys = [(r["type"], r["id"]) for r in body["included"]]
    assert len(keys) == len(set(keys))
    assert {t for t, _ in keys} == {"users", "posts"}
    user = next(r for r in body["included"] if r["type"] == "users")
    assert "joinTime" not in user["attributes"]  # included users are the short form


def test_default_includes_apply_only_without_an_include_parameter(flarum: Simulator) -> None:
    default = get(flarum, "/discussions").json()
    assert set(default["data"][0]["relationships"]) == {
        "user",
        "lastPostedUser",
        "mostRelevantPost",
        "tags",
    }
    explicit = get(flarum, "/discussions", include="tags").json()
    assert set(explicit["data"][0]["relationships"]) == {"tags"}
    bad = get(flarum, "/discussions", include="secrets")
    assert bad.status_code == 400 and error_of(bad)["code"] == "invalid_parameter"


def test_pagination_caps_at_50_and_links_next_only_when_more(
    flarum: Simulator, world: World
) -> None:
    big = get(flarum, "/discussions", include="", **{"page[limit]": "500"}).json()
    assert len(big["data"]) == 50 and "next" in big["links"]
    tail = get(flarum, "/discussions", include="", **{"page[offset]": "50"}).json()
    visible = sum(not (d.is_hidden or d.is_private) for d in world.discussions)
    assert len(tail["data"]) == visible - 50
    assert "next" not in tail["links"] and "prev" in tail["links"]
    assert len(get(flarum, "/discussions").json()["data"]) == 20


def test_sorting_is_whitelisted(flarum: Simulator) -> None:
    by_created = get(flarum, "/discussions", include="", sort="createdAt").json()["data"]
    stamps = [d["attributes"]["createdAt"] for d in by_created]
    assert stamps == sorted(stamps)
    bad = get(flarum, "/discussions", sort="title")
    assert bad.status_code == 400 and error_of(bad)["code"] == "invalid_parameter"


def test_an_unknown_token_is_a_guest_not_an_error(flarum: Simulator, world: World) -> None:
    as_guest = get(flarum, "/discussions", include="", **{"page[limit]": "50"})
    as_unknown = get(flarum, "/discussions", "f" * 40, include="", **{"page[limit]": "50"})
    assert as_unknown.status_code == 200
    assert as_unknown.json()["data"] == as_guest.json()["data"]
    forum = get(flarum, "", "f" * 40, include="actor").json()
    assert "relationships" not in forum["data"] and "included" not in forum


def test_hidden_and_private_discussions_are_for_author_and_admin(
    flarum: Simulator, world: World
) -> None:
    for secret in (
        next(d for d in world.discussions if d.is_hidden),
        next(d for d in world.discussions if d.is_private),
    ):
        author = world.people[secret.author_id - 1]
        missing = get(flarum, f"/discussions/{secret.id}")
        assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
        assert (
            get(flarum, f"/discussions/{secret.id}", login(flarum.url, author.username)).status_code
            == 200
        )
        assert (
            get(
                flarum, f"/discussions/{secret.id}", login(flarum.url, world.admin.username)
            ).status_code
            == 200
        )
        listed = get(
            flarum,
            "/discussions",
            include="",
            **{"page[limit]": "50", "filter[author]": author.username},
        )
        assert str(secret.id) not in [d["id"] for d in listed.json()["data"]]


def test_show_discussion_lists_every_post_id(flarum: Simulator, world: World) -> None:
    body = get(flarum, "/discussions/60").json()
    ids = [p["id"] for p in body["data"]["relationships"]["posts"]["data"]]
    assert ids == [str(p.id) for p in world.posts if p.discussion_id == 60]
    included_posts = [r for r in body["included"] if r["type"] == "posts"]
    assert 0 < len(included_posts) <= 20


def test_posts_filter_by_id_list(flarum: Simulator, world: World) -> None:
    wanted = [str(p.id) for p in world.posts[:5]]
    body = get(flarum, "/posts", **{"filter[id]": ",".join(wanted)}).json()
    assert sorted(p["id"] for p in body["data"]) == sorted(wanted)
    assert "content" not in body["data"][0]["attributes"]  # a guest may not edit


def test_user_list_is_for_members_and_the_email_filter_for_administrators(
    flarum: Simulator, world: World
) -> None:
    denied = get(flarum, "/users")
    assert denied.status_code == 403 and error_of(denied)["code"] == "permission_denied"
    member = get(
        flarum, "/users", login(flarum.url, world.people[3].username),
        **{"filter[email]": world.people[4].email},
    )  # fmt: skip
    assert len(member.json()["data"]) > 1  # the filter ignored, as Flarum 1.7 does for members
    admin = login(flarum.url, world.admin.username)
    found = get(flarum, "/users", admin, **{"filter[email]": world.people[3].email}).json()
    assert [u["attributes"]["username"] for u in found["data"]] == [world.people[3].username]


def test_login_and_its_refusal(flarum: Simulator, world: World) -> None:
    ok = httpx.post(
        f"{flarum.url}/api/token",
        json={"identification": world.people[2].email, "password": "demo-password"},
    )
    assert ok.status_code == 200
    assert set(ok.json()) == {"token", "userId"} and len(ok.json()["token"]) == 40
    refused = httpx.post(
        f"{flarum.url}/api/token",
        json={"identification": world.people[2].username, "password": "x"},
    )
    assert refused.status_code == 401
    assert error_of(refused) == {"status": "401", "code": "not_authenticated"}


def test_a_write_without_valid_auth_fails_the_csrf_check(flarum: Simulator) -> None:
    for headers in ({}, {"Authorization": "Token unknown"}):
        response = httpx.post(f"{flarum.url}/api/posts", json={"data": {}}, headers=headers)
        assert response.status_code == 400 and error_of(response)["code"] == "csrf_token_mismatch"


def test_the_api_key_impersonates_the_named_user(fresh_flarum: Simulator, world: World) -> None:
    person = world.people[10]
    headers = {"Authorization": f"Token {SERVICE_API_KEY}; userId={person.id}"}
    forum = httpx.get(
        f"{fresh_flarum.url}/api", params={"include": "actor"}, headers=headers
    ).json()
    assert forum["data"]["relationships"]["actor"]["data"]["id"] == str(person.id)
    reply = httpx.post(
        f"{fresh_flarum.url}/api/posts",
        headers=headers,
        json={
            "data": {
                "type": "posts",
                "attributes": {"content": "Hi"},
                "relationships": {"discussion": {"data": {"type": "discussions", "id": "1"}}},
            }
        },
    )
    assert reply.status_code == 201
    assert reply.json()["data"]["relationships"]["user"]["data"]["id"] == str(person.id)


def test_validation_errors_have_one_object_per_field(fresh_flarum: Simulator, world: World) -> None:
    token = login(fresh_flarum.url, world.people[11].username)
    response = httpx.post(
        f"{fresh_flarum.url}/api/discussions",
        headers={"Authorization": f"Token {token}"},
        json={"data": {"type": "discussions", "attributes": {"title": "", "content": ""}}},
    )
    assert response.status_code == 422
    pointers = [e["source"]["pointer"] for e in response.json()["errors"]]
    # Flarum checks the tags first, then the title, then the content: one error at a time.
    assert pointers == [
        "/data/relationships/tags",
    ]


def test_requests_are_counted_per_route(fresh_flarum: Simulator) -> None:
    get(fresh_flarum, "/discussions/3")
    get(fresh_flarum, "/discussions/4")
    get(fresh_flarum, "/tags")
    counts = httpx.get(f"{fresh_flarum.url}/_simulator/requests").json()
    assert counts == {"GET /api/discussions/{id}": 2, "GET /api/tags": 1}
    assert httpx.delete(f"{fresh_flarum.url}/_simulator/requests").json() == {}
    assert fresh_flarum.counter.total == 0


@pytest.mark.parametrize(
    ("method", "path", "key"),
    [
        ("GET", "/api/discussions/12", "GET /api/discussions/{id}"),
        ("GET", "/api", "GET /api"),
        ("POST", "/api/v2x/3/a", "POST /api/v2x/{id}/a"),
    ],
)
def test_route_keys(method: str, path: str, key: str) -> None:
    assert route_key(method, path) == key
