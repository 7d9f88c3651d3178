"""A Flarum 1.x forum's JSON:API (`/api`), served by Starlette over `FlarumStore`.

It reproduces what a client can observe: documents and `included`, default and optional includes,
offset pagination capped at 50 with `links.next` only when more follow, whitelisted sorts, the error
objects and HTTP statuses Flarum uses, token and API-key header auth (an unknown token is a guest),
the CSRF refusal of a guest's write, flood control, and who may see what.
"""

from __future__ import annotations

import html
import re
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..counting import CountRequests, RequestCounter
from ..world import World, build_world
from .store import FlarumStore, iso

__all__ = ["create_app"]

JSONAPI = "application/vnd.api+json"
PAGE_DEFAULT = 20
PAGE_CAP = 50

DISCUSSION_INCLUDES = {
    "user",
    "lastPostedUser",
    "firstPost",
    "firstPost.user",
    "lastPost",
    "lastPost.user",
    "mostRelevantPost",
    "mostRelevantPost.user",
    "posts",
    "posts.user",
    "posts.discussion",
    "tags",
}
LIST_DISCUSSIONS_DEFAULT = (
    "user",
    "lastPostedUser",
    "mostRelevantPost",
    "mostRelevantPost.user",
    "tags",
)
SHOW_DISCUSSION_DEFAULT = ("user", "posts", "posts.user", "posts.discussion", "tags")
POST_INCLUDES = {"user", "discussion", "discussion.user", "discussion.tags"}
DISCUSSION_SORTS = {
    "lastPostedAt": "last_posted_at",
    "commentCount": "comment_count",
    "createdAt": "d.created_at",
}
INSERT_POST = (
    "INSERT INTO posts (discussion_id, number, user_id, content, created_at) VALUES (?,?,?,?,?)"
)
POST_SORTS = {"number": "p.number", "createdAt": "p.created_at"}


class ApiError(Exception):
    """A Flarum error document: one error object per entry of `errors`."""

    def __init__(self, status: int, code: str, *details: tuple[str | None, str | None]) -> None:
        self.status = status
        self.code = code
        self.details = details or ((None, None),)


def validation(*fields: tuple[str | None, str | None]) -> ApiError:
    return ApiError(422, "validation_error", *fields)


@dataclass(frozen=True)
class Actor:
    user: sqlite3.Row | None
    via_header: bool
    """Authenticated by token or API key, which bypasses Flarum's CSRF check."""

    @property
    def id(self) -> int | None:
        return None if self.user is None else int(self.user["id"])

    @property
    def is_admin(self) -> bool:
        return bool(self.user and self.user["is_admin"])


def slugify(text: str) -> str:
    return "-".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def render(content: str) -> str:
    return "".join(f"<p>{html.escape(part)}</p>" for part in content.split("\n\n") if part)


def create_app(
    world: World | None = None,
    *,
    database: str = ":memory:",
    flood_seconds: float = 10.0,
) -> Starlette:
    """The simulator app; `app.state.counter` counts the requests it served."""
    store = FlarumStore(world or build_world(), database)
    last_post_at: dict[int, float] = {}

    def actor_of(request: Request) -> Actor:
        parts = request.headers.get("authorization", "").split(";")
        if not parts[0].startswith("Token "):
            return Actor(None, via_header=False)
        credential = parts[0][len("Token ") :]
        key = store.api_key(credential)
        if key is not None:
            user_id = key["user_id"]
            if user_id is None and len(parts) > 1:
                name, _, value = parts[1].strip().partition("=")
                user_id = value if name == "userId" else None
            user = store.user(user_id) if user_id is not None else None
            return Actor(user, via_header=user is not None)
        user = store.user_for_token(credential)
        return Actor(user, via_header=user is not None)

    def can_see_hidden(actor: Actor) -> tuple[str, list[Any]]:
        """SQL visibility of discussions `d` for the actor."""
        if actor.is_admin:
            return "1", []
        return "(d.is_hidden = 0 AND d.is_private = 0 OR d.user_id = ?)", [actor.id or -1]

    # Serialisation -------------------------------------------------------------------------------

    class Document:
        def __init__(self, request: Request, actor: Actor) -> None:
            self.request = request
            self.actor = actor
            self.included: dict[tuple[str, str], dict[str, Any]] = {}

        def add(self, resource: dict[str, Any]) -> None:
            self.included.setdefault((resource["type"], resource["id"]), resource)

        def render(
            self, data: Any, links: Mapping[str, str] | None = None, status: int = 200
        ) -> Response:
            primary = data if isinstance(data, list) else [data]
            keys = {(r["type"], r["id"]) for r in primary if r}
            body: dict[str, Any] = {}
            if links:
                body["links"] = dict(links)
            body["data"] = data
            included = [r for k, r in self.included.items() if k not in keys]
            if included:
                body["included"] = included
            return JSONResponse(body, status_code=status, media_type=JSONAPI)

        def user(self, row: sqlite3.Row, *, full: bool = False) -> dict[str, Any]:
            attributes: dict[str, Any] = {
                "username": row["username"],
                "displayName": row["display_name"],
                "avatarUrl": None,
                "slug": row["username"],
            }
            if full:
                uid = row["id"]
                attributes["joinTime"] = row["joined_at"]
                attributes["discussionCount"] = store.scalar(
                    "SELECT COUNT(*) FROM discussions WHERE user_id = ?", (uid,)
                )
                attributes["commentCount"] = store.scalar(
                    "SELECT COUNT(*) FROM posts WHERE user_id = ?", (uid,)
                )
                may_edit = self.actor.is_admin
                attributes["canEdit"] = may_edit
                attributes["canDelete"] = may_edit
                if may_edit or self.actor.id == uid:
                    attributes["email"] = row["email"]
                    attributes["isEmailConfirmed"] = True
            return {"type": "users", "id": str(row["id"]), "attributes": attributes}

        def tag(self, row: sqlite3.Row) -> dict[str, Any]:
            count = store.scalar(
                "SELECT COUNT(*) FROM discussion_tag dt"
                " JOIN discussions d ON d.id = dt.discussion_id"
                " WHERE dt.tag_id = ? AND d.is_hidden = 0 AND d.is_private = 0",
                (row["id"],),
            )
            return {
                "type": "tags",
                "id": str(row["id"]),
                "attributes": {
                    "name": row["name"],
                    "description": row["description"],
                    "slug": row["slug"],
                    "color": row["color"],
                    "icon": None,
                    "discussionCount": count,
                    "position": row["position"],
                    "isChild": False,
                    "isHidden": False,
                    "isRestricted": False,
                    "canStartDiscussion": self.actor.user is not None,
                    "canAddToDiscussion": self.actor.user is not None,
                },
            }

        def post(self, row: sqlite3.Row, tree: Mapping[str, Any]) -> dict[str, Any]:
            may_edit = self.actor.is_admin or self.actor.id == row["user_id"]
            attributes: dict[str, Any] = {
                "number": row["number"],
                "createdAt": row["created_at"],
                "contentType": "comment",
                "contentHtml": render(row["content"]),
                "editedAt": row["edited_at"],
                "isHidden": False,
                "canEdit": may_edit,
                "canDelete": self.actor.is_admin,
                "canHide": self.actor.is_admin,
            }
            if may_edit:
                attributes["content"] = row["content"]
            resource = {"type": "posts", "id": str(row["id"]), "attributes": attributes}
            relationships: dict[str, Any] = {}
            if "user" in tree:
                relationships["user"] = self.to_one_user(row["user_id"], tree["user"])
            if "discussion" in tree:
                discussion = store.one(
                    "SELECT * FROM discussions WHERE id = ?", (row["discussion_id"],)
                )
                if discussion is not None:
                    self.add(self.discussion(discussion, tree["discussion"]))
                relationships["discussion"] = {
                    "data": {"type": "discussions", "id": str(row["discussion_id"])}
                }
            if relationships:
                resource["relationships"] = relationships
            return resource

        def to_one_user(self, user_id: int | None, tree: Mapping[str, Any]) -> dict[str, Any]:
            user = store.user(user_id) if user_id is not None else None
            if user is None:
                return {"data": None}
            self.add(self.user(user))
            return {"data": {"type": "users", "id": str(user_id)}}

        def to_one_post(self, post_id: int | None, tree: Mapping[str, Any]) -> dict[str, Any]:
            row = store.one("SELECT * FROM posts WHERE id = ?", (post_id,)) if post_id else None
            if row is None:
                return {"data": None}
            self.add(self.post(row, tree))
            return {"data": {"type": "posts", "id": str(row["id"])}}

        def discussion(self, row: sqlite3.Row, tree: Mapping[str, Any]) -> dict[str, Any]:
            posts = store.all(
                "SELECT id, number, user_id, created_at FROM posts WHERE discussion_id = ?"
                " ORDER BY number",
                (row["id"],),
            )
            first, last = (posts[0], posts[-1]) if posts else (None, None)
            may_moderate = self.actor.is_admin
            attributes = {
                "title": row["title"],
                "slug": f"{row['id']}-{slugify(row['title'])}",
                "commentCount": len(posts),
                "participantCount": len({p["user_id"] for p in posts}),
                "createdAt": row["created_at"],
                "lastPostedAt": last["created_at"] if last else None,
                "lastPostNumber": last["number"] if last else None,
                "isHidden": bool(row["is_hidden"]),
                "isLocked": bool(row["is_locked"]),
                "isSticky": bool(row["is_sticky"]),
                "isApproved": not row["is_private"],
                "canReply": self.actor.user is not None and (not row["is_locked"] or may_moderate),
                "canRename": may_moderate or self.actor.id == row["user_id"],
                "canDelete": may_moderate,
                "canHide": may_moderate,
                "canTag": may_moderate,
            }
            relationships: dict[str, Any] = {}
            if "user" in tree:
                relationships["user"] = self.to_one_user(row["user_id"], tree["user"])
            if "lastPostedUser" in tree:
                relationships["lastPostedUser"] = self.to_one_user(
                    last["user_id"] if last else None, tree["lastPostedUser"]
                )
            for name, post in (
                ("firstPost", first),
                ("lastPost", last),
                ("mostRelevantPost", first),
            ):
                if name in tree:
                    relationships[name] = self.to_one_post(post["id"] if post else None, tree[name])
            if "tags" in tree:
                tags = store.all(
                    "SELECT t.* FROM tags t JOIN discussion_tag dt ON dt.tag_id = t.id"
                    " WHERE dt.discussion_id = ? ORDER BY t.position",
                    (row["id"],),
                )
                for tag in tags:
                    self.add(self.tag(tag))
                relationships["tags"] = {
                    "data": [{"type": "tags", "id": str(t["id"])} for t in tags]
                }
            if "posts" in tree:
                # Flarum lists every visible post id but includes only the first window of posts.
                for post_row in store.all(
                    "SELECT * FROM posts WHERE discussion_id = ? ORDER BY number LIMIT ?",
                    (row["id"], PAGE_DEFAULT),
                ):
                    self.add(self.post(post_row, tree["posts"]))
                relationships["posts"] = {
                    "data": [{"type": "posts", "id": str(p["id"])} for p in posts]
                }
            resource = {"type": "discussions", "id": str(row["id"]), "attributes": attributes}
            if relationships:
                resource["relationships"] = relationships
            return resource

    # Request parsing ------------------------------------------------------------------------------

    def include_tree(
        request: Request, allowed: set[str], default: tuple[str, ...]
    ) -> dict[str, Any]:
        raw = request.query_params.get("include")
        paths = default if raw is None else tuple(p for p in raw.split(",") if p)
        tree: dict[str, Any] = {}
        for path in paths:
            if path not in allowed:
                raise ApiError(400, "invalid_parameter", (f"Invalid include [{path}]", "include"))
            node = tree
            for part in path.split("."):
                node = node.setdefault(part, {})
        return tree

    def window(request: Request) -> tuple[int, int]:
        try:
            offset = int(request.query_params.get("page[offset]", 0))
            limit = int(request.query_params.get("page[limit]", PAGE_DEFAULT))
        except ValueError:
            raise ApiError(400, "invalid_parameter", ("page must be an integer", "page")) from None
        if offset < 0 or limit < 1:
            raise ApiError(400, "invalid_parameter", ("page out of range", "page"))
        return offset, min(limit, PAGE_CAP)

    def order(request: Request, allowed: Mapping[str, str], default: str) -> str:
        clauses = []
        for field in (request.query_params.get("sort") or default).split(","):
            name = field.lstrip("-")
            if name not in allowed:
                raise ApiError(400, "invalid_parameter", (f"Invalid sort field [{name}]", "sort"))
            clauses.append(f"{allowed[name]} {'DESC' if field.startswith('-') else 'ASC'}")
        return ", ".join(clauses)

    def links(request: Request, offset: int, limit: int, more: bool) -> dict[str, str]:
        base = str(request.url.replace(query=""))
        params = dict(request.query_params)

        def at(start: int) -> str:
            return base + "?" + urlencode({**params, "page[offset]": str(start)})

        found = {"first": at(0)}
        if offset > 0:
            found["prev"] = at(max(0, offset - limit))
        if more:
            found["next"] = at(offset + limit)
        return found

    async def json_body(request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise ApiError(400, "invalid_parameter", ("Malformed JSON body", None)) from None
        if not isinstance(body, dict):
            raise ApiError(400, "invalid_parameter", ("Malformed JSON body", None))
        return body

    # Routes ---------------------------------------------------------------------------------------

    async def show_forum(request: Request) -> Response:
        actor = actor_of(request)
        document = Document(request, actor)
        tree = include_tree(request, {"actor", "groups"}, ("groups", "actor"))
        attributes: dict[str, Any] = {
            "title": "Legacygraph Community Forum",
            "description": "A simulated Flarum forum.",
            "apiUrl": str(request.url_for("forum")),
            "canStartDiscussion": actor.user is not None,
            "canSearchUsers": bool(actor.user and actor.user["can_search_users"]),
        }
        if actor.is_admin:
            attributes["version"] = "1.8.5"
        relationships: dict[str, Any] = {}
        if "actor" in tree:
            relationships["actor"] = {"data": None}
            if actor.user is not None:
                document.add(document.user(actor.user, full=True))
                relationships["actor"] = {"data": {"type": "users", "id": str(actor.id)}}
        if "groups" in tree:
            relationships["groups"] = {"data": []}
        resource = {
            "type": "forums",
            "id": "1",
            "attributes": attributes,
            "relationships": relationships,
        }
        return document.render(resource)

    async def create_token(request: Request) -> Response:
        body = await json_body(request)
        user = store.check_password(
            str(body.get("identification", "")), str(body.get("password", ""))
        )
        if user is None:
            raise ApiError(401, "not_authenticated")
        token = store.issue_token(user["id"], remember=bool(body.get("remember")))
        return JSONResponse({"token": token, "userId": user["id"]})

    async def list_discussions(request: Request) -> Response:
        actor = actor_of(request)
        tree = include_tree(request, DISCUSSION_INCLUDES, LIST_DISCUSSIONS_DEFAULT)
        offset, limit = window(request)
        sort = order(request, DISCUSSION_SORTS, "-lastPostedAt")
        visible, params = can_see_hidden(actor)
        where = [visible]
        q = request.query_params
        if q.get("filter[q]"):
            needle = f"%{q['filter[q]']}%"
            where.append(
                "(d.title LIKE ? OR EXISTS (SELECT 1 FROM posts p WHERE p.discussion_id = d.id"
                " AND p.content LIKE ?))"
            )
            params += [needle, needle]
        if q.get("filter[tag]"):
            where.append(
                "EXISTS (SELECT 1 FROM discussion_tag dt JOIN tags t ON t.id = dt.tag_id"
                " WHERE dt.discussion_id = d.id AND t.slug = ?)"
            )
            params.append(q["filter[tag]"])
        if q.get("filter[author]"):
            where.append("d.user_id = (SELECT id FROM users WHERE username = ?)")
            params.append(q["filter[author]"])
        rows = store.all(
            "SELECT d.*,"
            " (SELECT MAX(created_at) FROM posts WHERE discussion_id = d.id) AS last_posted_at,"
            " (SELECT COUNT(*) FROM posts WHERE discussion_id = d.id) AS comment_count"
            f" FROM discussions d WHERE {' AND '.join(where)}"
            f" ORDER BY {sort}, d.id DESC LIMIT ? OFFSET ?",
            [*params, limit + 1, offset],
        )
        document = Document(request, actor)
        data = [document.discussion(row, tree) for row in rows[:limit]]
        return document.render(data, links(request, offset, limit, len(rows) > limit))

    def visible_discussion(actor: Actor, discussion_id: Any) -> sqlite3.Row:
        visible, params = can_see_hidden(actor)
        row = store.one(
            f"SELECT * FROM discussions d WHERE d.id = ? AND {visible}", [discussion_id, *params]
        )
        if row is None:
            raise ApiError(404, "not_found")
        return row

    async def show_discussion(request: Request) -> Response:
        actor = actor_of(request)
        tree = include_tree(request, DISCUSSION_INCLUDES, SHOW_DISCUSSION_DEFAULT)
        tree.setdefault("posts", {})  # Flarum always sends the list of post ids here
        row = visible_discussion(actor, request.path_params["id"])
        document = Document(request, actor)
        return document.render(document.discussion(row, tree))

    async def list_posts(request: Request) -> Response:
        actor = actor_of(request)
        tree = include_tree(request, POST_INCLUDES, ("user", "discussion"))
        offset, limit = window(request)
        sort = order(request, POST_SORTS, "number")
        visible, params = can_see_hidden(actor)
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
        if q.get("filter[type]") and q["filter[type]"] != "comment":
            where.append("0")
        rows = store.all(
            f"SELECT p.* FROM posts p JOIN discussions d ON d.id = p.discussion_id"
            f" WHERE {' AND '.join(where)} ORDER BY {sort}, p.id LIMIT ? OFFSET ?",
            [*params, limit + 1, offset],
        )
        document = Document(request, actor)
        data = [document.post(row, tree) for row in rows[:limit]]
        return document.render(data, links(request, offset, limit, len(rows) > limit))

    async def show_post(request: Request) -> Response:
        actor = actor_of(request)
        tree = include_tree(request, POST_INCLUDES, ("user", "discussion"))
        row = store.one("SELECT * FROM posts WHERE id = ?", (request.path_params["id"],))
        if row is None:
            raise ApiError(404, "not_found")
        visible_discussion(actor, row["discussion_id"])
        document = Document(request, actor)
        return document.render(document.post(row, tree))

    async def list_users(request: Request) -> Response:
        actor = actor_of(request)
        if not (actor.user and actor.user["can_search_users"]):
            raise ApiError(403, "permission_denied")
        offset, limit = window(request)
        where, params = ["1"], []
        q = request.query_params
        if q.get("filter[q]"):
            where.append("(username LIKE ? OR display_name LIKE ?)")
            params += [f"%{q['filter[q]']}%"] * 2
        if q.get("filter[email]"):
            where.append("email = ?")
            params.append(q["filter[email]"])
        rows = store.all(
            f"SELECT * FROM users WHERE {' AND '.join(where)} ORDER BY username LIMIT ? OFFSET ?",
            [*params, limit + 1, offset],
        )
        document = Document(request, actor)
        data = [document.user(row, full=True) for row in rows[:limit]]
        return document.render(data, links(request, offset, limit, len(rows) > limit))

    async def show_user(request: Request) -> Response:
        actor = actor_of(request)
        row = store.user(request.path_params["id"])
        if row is None:
            raise ApiError(404, "not_found")
        document = Document(request, actor)
        return document.render(document.user(row, full=True))

    async def list_tags(request: Request) -> Response:
        document = Document(request, actor_of(request))
        return document.render(
            [document.tag(row) for row in store.all("SELECT * FROM tags ORDER BY position")]
        )

    def writer(request: Request) -> Actor:
        """The actor of a write: Flarum's CSRF check refuses one not authenticated by header."""
        actor = actor_of(request)
        if not actor.via_header or actor.user is None:
            raise ApiError(400, "csrf_token_mismatch")
        return actor

    def check_flood(actor: Actor) -> None:
        assert actor.id is not None
        now = time.monotonic()
        if not actor.is_admin and now - last_post_at.get(actor.id, -flood_seconds) < flood_seconds:
            raise ApiError(429, "too_many_requests")
        last_post_at[actor.id] = now

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

    async def create_discussion(request: Request) -> Response:
        actor = writer(request)
        data = (await json_body(request)).get("data") or {}
        attributes = data.get("attributes") or {}
        problems: list[tuple[str | None, str | None]] = []
        title = str(attributes.get("title") or "")
        if not title.strip():
            problems.append(("The title field is required.", "/data/attributes/title"))
        elif not 3 <= len(title.strip()) <= 80:
            problems.append(
                ("The title must be between 3 and 80 characters.", "/data/attributes/title")
            )
        try:
            content = content_of(attributes)
        except ApiError as error:
            problems.extend(error.details)
        linkage = ((data.get("relationships") or {}).get("tags") or {}).get("data") or []
        tag_ids = [str(item.get("id")) for item in linkage if isinstance(item, dict)]
        known = {str(r["id"]) for r in store.all("SELECT id FROM tags")}
        if not tag_ids or not set(tag_ids) <= known:
            problems.append(("You must select at least 1 primary tag.", "/data/relationships/tags"))
        if problems:
            raise validation(*problems)
        check_flood(actor)
        now = iso(store.clock())
        with store.transaction() as db:
            cursor = db.execute(
                "INSERT INTO discussions (title, user_id, created_at) VALUES (?,?,?)",
                (title.strip(), actor.id, now),
            )
            discussion_id = cursor.lastrowid
            db.executemany(
                "INSERT INTO discussion_tag VALUES (?,?)", [(discussion_id, t) for t in tag_ids]
            )
            db.execute(
                INSERT_POST,
                (discussion_id, 1, actor.id, content, now),
            )
        row = store.one("SELECT * FROM discussions WHERE id = ?", (discussion_id,))
        assert row is not None
        document = Document(request, actor)
        tree: dict[str, Any] = {"user": {}, "firstPost": {"user": {}}, "tags": {}, "posts": {}}
        return document.render(document.discussion(row, tree), status=201)

    async def create_post(request: Request) -> Response:
        actor = writer(request)
        data = (await json_body(request)).get("data") or {}
        target = (
            ((data.get("relationships") or {}).get("discussion") or {}).get("data") or {}
        ).get("id")
        discussion = visible_discussion(actor, target)
        if discussion["is_locked"] and not actor.is_admin:
            raise ApiError(403, "permission_denied")
        content = content_of(data.get("attributes") or {})
        check_flood(actor)
        with store.transaction() as db:
            number = db.execute(
                "SELECT COALESCE(MAX(number), 0) + 1 FROM posts WHERE discussion_id = ?",
                (discussion["id"],),
            ).fetchone()[0]
            cursor = db.execute(
                INSERT_POST,
                (discussion["id"], number, actor.id, content, iso(store.clock())),
            )
        row = store.one("SELECT * FROM posts WHERE id = ?", (cursor.lastrowid,))
        assert row is not None
        document = Document(request, actor)
        return document.render(document.post(row, {"user": {}, "discussion": {}}), status=201)

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        errors = []
        for detail, pointer in exc.details:
            error: dict[str, Any] = {"status": str(exc.status), "code": exc.code}
            if detail:
                error["detail"] = detail
            if pointer and pointer.startswith("/"):
                error["source"] = {"pointer": pointer}
            elif pointer:
                error["source"] = {"parameter": pointer}
            errors.append(error)
        return JSONResponse({"errors": errors}, status_code=exc.status, media_type=JSONAPI)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "unknown")
        return await api_error(request, ApiError(exc.status_code, code))

    async def unknown_error(request: Request, exc: Exception) -> Response:
        return await api_error(request, ApiError(500, "unknown"))

    routes = [
        Route("/api", show_forum, name="forum"),
        Route("/api/token", create_token, methods=["POST"]),
        Route("/api/discussions", list_discussions),
        Route("/api/discussions", create_discussion, methods=["POST"]),
        Route("/api/discussions/{id:int}", show_discussion),
        Route("/api/posts", list_posts),
        Route("/api/posts", create_post, methods=["POST"]),
        Route("/api/posts/{id:int}", show_post),
        Route("/api/users", list_users),
        Route("/api/users/{id:int}", show_user),
        Route("/api/tags", list_tags),
    ]
    counter = RequestCounter()
    app = Starlette(
        routes=[*routes, *counter.routes()],
        exception_handlers={
            ApiError: api_error,
            HTTPException: http_error,
            Exception: unknown_error,
        },
        middleware=[Middleware(CountRequests, counter=counter)],
    )
    app.state.counter = counter
    app.state.store = store
    return app
