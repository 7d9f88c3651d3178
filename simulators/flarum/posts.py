"""`/api/posts`: a page of posts (by id, discussion, author, type), one, and a reply; the
content's validation and flood control, which new discussions share."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .auth import Actor, actor_of, writer
from .document import Document, slugify
from .errors import ApiError, validation
from .parameters import include_tree, json_body, links, order, window
from .site import Site
from .store import iso
from .visibility import visibility, visible_discussion

__all__ = ["INSERT_POST", "check_flood", "content_of", "create_post", "list_posts", "show_post"]


POST_INCLUDES = {"user", "discussion", "discussion.user", "discussion.tags"}
INSERT_POST = (
    "INSERT INTO posts (discussion_id, number, user_id, content, created_at) VALUES (?,?,?,?,?)"
)
POST_SORTS = {"number": "p.number", "createdAt": "p.created_at"}


def check_flood(site: Site, actor: Actor) -> None:
    """Fact 28: one post per 10 s, unless the user may post without throttle."""
    assert actor.user is not None and actor.id is not None
    now = time.monotonic()
    exempt = actor.is_admin or actor.via_key or actor.user["post_without_throttle"]
    if (
        not exempt
        and now - site.last_post_at.get(actor.id, -site.flood_seconds) < site.flood_seconds
    ):
        raise ApiError(429, "too_many_requests")
    site.last_post_at[actor.id] = now


def content_of(attributes: Mapping[str, Any]) -> str:
    content = attributes.get("content")
    if not isinstance(content, str) or not content.strip():
        raise validation(("The content field is required.", "/data/attributes/content"))
    if len(content) > 65535:
        raise validation(
            (
                "The content may not be greater than 65535 characters.",
                "/data/attributes/content",
            )
        )
    return content


async def list_posts(site: Site, request: Request) -> Response:
    actor = actor_of(site.store, request)
    tree = include_tree(request, POST_INCLUDES, ("user", "discussion"))
    offset, limit = window(request)
    sort = order(request, POST_SORTS, "number")
    visible, params = visibility(actor)
    where = [visible]
    q = request.query_params
    if q.get("filter[id]"):
        ids = [i for i in q["filter[id]"].split(",") if i.strip().isdigit()]
        where.append(f"p.id IN ({','.join('?' * len(ids)) or 'NULL'})")
        params += ids
    if q.get("filter[discussion]"):
        where.append("p.discussion_id = ?")
        params.append(q["filter[discussion]"])
    if q.get("filter[author]"):
        where.append("p.user_id = (SELECT id FROM users WHERE username = ?)")
        params.append(q["filter[author]"])
    if q.get("filter[type]"):
        where.append("p.type = ?")
        params.append(q["filter[type]"])
    rows = site.store.all(
        f"SELECT p.* FROM posts p JOIN discussions d ON d.id = p.discussion_id"
        f" WHERE {' AND '.join(where)} ORDER BY {sort}, p.id LIMIT ? OFFSET ?",
        [*params, limit + 1, offset],
    )
    document = Document(site.store, request, actor)
    data = [document.post(row, tree) for row in rows[:limit]]
    return document.render(data, links(request, offset, limit, len(rows) > limit))


async def show_post(site: Site, request: Request) -> Response:
    actor = actor_of(site.store, request)
    tree = include_tree(request, POST_INCLUDES, ("user", "discussion"))
    row = site.store.one("SELECT * FROM posts WHERE id = ?", (request.path_params["id"],))
    if row is None:
        raise ApiError(404, "not_found")
    visible_discussion(site.store, actor, row["discussion_id"])
    document = Document(site.store, request, actor)
    return document.render(document.post(row, tree))


async def create_post(site: Site, request: Request) -> Response:
    actor = writer(site.store, request)
    data = (await json_body(request)).get("data") or {}
    target = (((data.get("relationships") or {}).get("discussion") or {}).get("data") or {}).get(
        "id"
    )
    discussion = visible_discussion(site.store, actor, target)
    if discussion["is_locked"] and not actor.moderates:
        raise ApiError(403, "permission_denied")
    content = content_of(data.get("attributes") or {})
    check_flood(site, actor)
    with site.store.transaction() as db:
        number = db.execute(
            "SELECT COALESCE(MAX(number), 0) + 1 FROM posts WHERE discussion_id = ?",
            (discussion["id"],),
        ).fetchone()[0]
        cursor = db.execute(
            INSERT_POST,
            (discussion["id"], number, actor.id, content, iso(site.store.clock())),
        )
    row = site.store.one("SELECT * FROM posts WHERE id = ?", (cursor.lastrowid,))
    assert row is not None
    document = Document(site.store, request, actor)
    post = document.post(row, {})
    # Fact 26: the author in full, the discussion partial.
    post["relationships"] = {
        "user": document.to_one_user(row["user_id"], {}, full=True),
        "discussion": {"data": {"type": "discussions", "id": str(discussion["id"])}},
        "mentionedBy": {"data": []},
        "likes": {"data": []},
    }
    ids = site.store.all(
        "SELECT id FROM posts WHERE discussion_id = ? ORDER BY number", (discussion["id"],)
    )
    document.add(
        {
            "type": "discussions",
            "id": str(discussion["id"]),
            "attributes": {
                "title": discussion["title"],
                "slug": f"{discussion['id']}-{slugify(discussion['title'])}",
                "isApproved": True,
            },
            "relationships": {
                "posts": {"data": [{"type": "posts", "id": str(p["id"])} for p in ids]},
                "lastPostedUser": {"data": {"type": "users", "id": str(actor.id)}},
            },
        }
    )
    return document.render(post, status=201)
