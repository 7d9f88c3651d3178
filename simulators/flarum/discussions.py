"""`/api/discussions`: a page of discussions (searched, filtered, sorted), one, and a new one."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .auth import actor_of, writer
from .document import Document
from .errors import ApiError, validation
from .parameters import include_tree, json_body, links, order, window
from .posts import INSERT_POST, check_flood, content_of
from .site import Site
from .store import iso
from .visibility import visibility, visible_discussion

__all__ = ["create_discussion", "list_discussions", "show_discussion"]


LIST_INCLUDES = {
    "user",
    "lastPostedUser",
    "mostRelevantPost",
    "mostRelevantPost.user",
    "firstPost",
    "lastPost",
    "tags",
    "tags.parent",
    "tags.state",
}
"""What `GET /api/discussions` may include (fact 7): no `firstPost.user`, no `posts`."""
SHOW_INCLUDES = LIST_INCLUDES | {"posts", "posts.user", "posts.discussion"}
LIST_DISCUSSIONS_DEFAULT = ("user", "lastPostedUser", "mostRelevantPost", "tags")
SHOW_DISCUSSION_DEFAULT = ("user", "posts", "posts.user", "tags")
DISCUSSION_SORTS = {
    "lastPostedAt": "last_posted_at",
    "commentCount": "comment_count",
    "createdAt": "d.created_at",
}
GAMBIT = re.compile(r"(?:^|\s)(tag|author|is):(\S+)")
"""`filter[q]` words that filter instead of searching text."""


def tag_filter(slugs: str) -> tuple[str, list[Any]]:
    """Discussions in any of the comma-separated tag slugs (a tag id matches nothing)."""
    wanted = [s for s in slugs.split(",") if s]
    marks = ",".join("?" * len(wanted)) or "NULL"
    return (
        "EXISTS (SELECT 1 FROM discussion_tag dt JOIN tags t ON t.id = dt.tag_id"
        f" WHERE dt.discussion_id = d.id AND t.slug IN ({marks}))",
        wanted,
    )


def author_filter(username: str) -> tuple[str, list[Any]]:
    return "d.user_id = (SELECT id FROM users WHERE username = ?)", [username]


async def list_discussions(site: Site, request: Request) -> Response:
    actor = actor_of(site.store, request)
    tree = include_tree(request, LIST_INCLUDES, LIST_DISCUSSIONS_DEFAULT)
    offset, limit = window(request)
    given = request.query_params.get("sort")
    sort = order(request, DISCUSSION_SORTS, "-lastPostedAt")
    visible, params = visibility(actor)
    where = [visible]
    q = request.query_params
    if q.get("filter[q]"):
        # A search drops `filter[tag]` (fact 15); its gambits filter (facts 15, 16).
        text = q["filter[q]"]
        for name, value in GAMBIT.findall(text):
            if name == "tag":
                clause, args = tag_filter(value)
            elif name == "author":
                clause, args = author_filter(value)
            else:
                column = {"hidden": "is_hidden", "locked": "is_locked", "sticky": "is_sticky"}
                clause, args = (f"d.{column[value]} = 1", []) if value in column else ("0", [])
            where.append(clause)
            params += args
        words = GAMBIT.sub(" ", text).strip()
        if words:
            needle = f"%{words}%"
            where.append(
                "(d.title LIKE ? OR EXISTS (SELECT 1 FROM posts p WHERE p.discussion_id = d.id"
                " AND p.type = 'comment' AND p.content LIKE ?))"
            )
            params += [needle, needle]
    elif q.get("filter[tag]"):
        clause, args = tag_filter(q["filter[tag]"])
        where.append(clause)
        params += args
    if q.get("filter[author]"):
        clause, args = author_filter(q["filter[author]"])
        where.append(clause)
        params += args
    # Sticky discussions first only when no sort is given (fact 11).
    pinned = "d.is_sticky DESC, " if not given else ""
    rows = site.store.all(
        "SELECT d.*,"
        " (SELECT MAX(created_at) FROM posts WHERE discussion_id = d.id AND type = 'comment')"
        " AS last_posted_at,"
        " (SELECT COUNT(*) FROM posts WHERE discussion_id = d.id AND type = 'comment')"
        " AS comment_count"
        f" FROM discussions d WHERE {' AND '.join(where)}"
        f" ORDER BY {pinned}{sort}, d.id DESC LIMIT ? OFFSET ?",
        [*params, limit + 1, offset],
    )
    document = Document(site.store, request, actor)
    data = [document.discussion(row, tree) for row in rows[:limit]]
    return document.render(data, links(request, offset, limit, len(rows) > limit))


async def show_discussion(site: Site, request: Request) -> Response:
    actor = actor_of(site.store, request)
    tree = include_tree(request, SHOW_INCLUDES, SHOW_DISCUSSION_DEFAULT)
    tree.setdefault("posts", {})  # Flarum always sends the list of post ids here
    key = request.path_params["id"]
    if request.query_params.get("bySlug"):
        key = key.split("-", 1)[0]
    if not key.isdigit():
        raise ApiError(404, "not_found")
    row = visible_discussion(site.store, actor, key)
    near = request.query_params.get("page[near]", "0")
    document = Document(site.store, request, actor)
    discussion = document.discussion(row, tree, near=int(near) if near.isdigit() else 0)
    return document.render(discussion)


async def create_discussion(site: Site, request: Request) -> Response:
    actor = writer(site.store, request)
    data = (await json_body(request)).get("data") or {}
    attributes = data.get("attributes") or {}
    # In Flarum's order (fact 25): the tags (the tags extension, on saving), the title (the
    # discussion's validator), the content (the first post's).
    linkage = ((data.get("relationships") or {}).get("tags") or {}).get("data") or []
    tag_ids = [str(item.get("id")) for item in linkage if isinstance(item, dict)]
    tags = {str(r["id"]): r for r in site.store.all("SELECT * FROM tags")}
    if any(tags[t]["is_restricted"] for t in tag_ids if t in tags) and not actor.is_admin:
        raise ApiError(403, "permission_denied")
    primary = [t for t in tag_ids if t in tags and tags[t]["position"] is not None]
    if len(primary) != 1 or not set(tag_ids) <= set(tags):
        raise validation(("The tag count primary must be 1.", "/data/relationships/tags"))
    title = str(attributes.get("title") or "").strip()
    if not title:
        raise validation(("The title field is required.", "/data/attributes/title"))
    if len(title) < 3:
        raise validation(("The title must be at least 3 characters.", "/data/attributes/title"))
    if len(title) > 80:
        raise validation(
            ("The title may not be greater than 80 characters.", "/data/attributes/title")
        )
    content = content_of(attributes)
    check_flood(site, actor)
    now = iso(site.store.clock())
    with site.store.transaction() as db:
        cursor = db.execute(
            "INSERT INTO discussions (title, user_id, created_at) VALUES (?,?,?)",
            (title, actor.id, now),
        )
        discussion_id = cursor.lastrowid
        db.executemany(
            "INSERT INTO discussion_tag VALUES (?,?)", [(discussion_id, t) for t in tag_ids]
        )
        db.execute(INSERT_POST, (discussion_id, 1, actor.id, content, now))
    row = site.store.one("SELECT * FROM discussions WHERE id = ?", (discussion_id,))
    assert row is not None
    document = Document(site.store, request, actor)
    tree: dict[str, Any] = {
        "posts": {},
        "user": {},
        "lastPostedUser": {},
        "firstPost": {},
        "lastPost": {},
        "tags": {},
    }
    # Fact 24: the author with basic attributes only; the first post with its content.
    return document.render(document.discussion(row, tree), status=201)
