"""A Flarum 1.7 forum's JSON:API (`/api`), served by Starlette over `FlarumStore`.

It reproduces what a client of a real Flarum 1.7.2 observes (`tests/recordings/flarum-1.7.2`):
documents and `included` (included posts without relationships, partial resources after writes),
the includes Flarum allows and the 400 for others, offset pagination capped at 50 with
`links.next` only when more follow, whitelisted sorts and sticky discussions pinned only when no
sort is given, `filter[q]` with its gambits (and `filter[tag]` dropped beside it), event posts,
error objects of only `status` and `code`, token and API-key header auth (an unknown token is a
guest), the CSRF refusal of a guest's write, flood control, and who may see what.
"""

from __future__ import annotations

import html
import json
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
GAMBIT = re.compile(r"(?:^|\s)(tag|author|is):(\S+)")
"""`filter[q]` words that filter instead of searching text."""


class ApiError(Exception):
    """A Flarum error document: `status` and `code`, and only for `validation_error` a `detail`
    and `source.pointer` per error (fact 2)."""

    def __init__(self, status: int, code: str, *details: tuple[str, str]) -> None:
        self.status = status
        self.code = code
        self.details = details


def validation(*fields: tuple[str, str]) -> ApiError:
    return ApiError(422, "validation_error", *fields)


@dataclass(frozen=True)
class Actor:
    user: sqlite3.Row | None
    via_header: bool
    """Authenticated by token or API key, which bypasses Flarum's CSRF check."""
    via_key: bool = False
    """An API key acting as a user: exempt from flood control (fact 5)."""

    @property
    def id(self) -> int | None:
        return None if self.user is None else int(self.user["id"])

    @property
    def is_admin(self) -> bool:
        return bool(self.user and self.user["is_admin"])

    @property
    def moderates(self) -> bool:
        return bool(self.user and (self.user["is_admin"] or self.user["is_moderator"]))


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
            return Actor(user, via_header=user is not None, via_key=user is not None)
        user = store.user_for_token(credential)  # an unknown token is a guest (fact 3)
        return Actor(user, via_header=user is not None)

    def visibility(actor: Actor) -> tuple[str, list[Any]]:
        """SQL visibility of discussions `d` (facts 12, 13): hidden ones to their author and
        moderators, unapproved ones to their author, restricted tags' to administrators."""
        if actor.is_admin:
            return "1", []
        restricted = (
            "NOT EXISTS (SELECT 1 FROM discussion_tag rt JOIN tags t ON t.id = rt.tag_id"
            " WHERE rt.discussion_id = d.id AND t.is_restricted = 1)"
        )
        hidden = "(d.is_hidden = 0 OR d.user_id = ? OR ?)"
        private = "(d.is_private = 0 OR d.user_id = ?)"
        me = actor.id or -1
        return f"{restricted} AND {hidden} AND {private}", [me, int(actor.moderates), me]

    # Serialisation -------------------------------------------------------------------------------

    class Document:
        def __init__(self, request: Request, actor: Actor) -> None:
            self.request = request
            self.actor = actor
            self.included: dict[tuple[str, str], dict[str, Any]] = {}

        def add(self, resource: dict[str, Any]) -> None:
            key = (resource["type"], resource["id"])
            held = self.included.get(key)
            # A post both in `posts` and as `firstPost` is included in its full form.
            if held is None or ("canEdit" in resource["attributes"]) > (
                "canEdit" in held["attributes"]
            ):
                self.included[key] = resource

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
                    "SELECT COUNT(*) FROM posts WHERE user_id = ? AND type = 'comment'", (uid,)
                )
                may_edit = self.actor.is_admin
                attributes["canEdit"] = may_edit
                attributes["canDelete"] = may_edit
                if may_edit or self.actor.id == uid:  # fact 21
                    attributes["isEmailConfirmed"] = bool(row["is_email_confirmed"])
                    attributes["email"] = row["email"]
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
                    "isRestricted": bool(row["is_restricted"]),
                    "canStartDiscussion": self.actor.user is not None,
                    "canAddToDiscussion": self.actor.user is not None,
                },
            }

        def post(
            self, row: sqlite3.Row, tree: Mapping[str, Any], *, short: bool = False
        ) -> dict[str, Any]:
            attributes: dict[str, Any] = {
                "number": row["number"],
                "createdAt": row["created_at"],
                "contentType": row["type"],
            }
            if short:  # Flarum's BasicPostSerializer, for `firstPost` and `lastPost`
                if row["type"] == "comment":
                    attributes |= {"contentHtml": render(row["content"]), "renderFailed": False}
                else:
                    attributes["content"] = json.loads(row["content"])
                return {"type": "posts", "id": str(row["id"]), "attributes": attributes}
            if row["type"] == "comment":
                latest = store.scalar(
                    "SELECT MAX(number) FROM posts WHERE discussion_id = ?",
                    (row["discussion_id"],),
                )
                # Authors may edit their post until someone replies (fact 19).
                may_edit = self.actor.is_admin or (
                    self.actor.id == row["user_id"] and row["number"] == latest
                )
                attributes |= {
                    "contentHtml": render(row["content"]),
                    "renderFailed": False,
                    "editedAt": row["edited_at"],
                    "isHidden": False,
                }
                if may_edit:
                    attributes["content"] = row["content"]
            else:  # an event: what happened, as data (fact 18)
                may_edit = False
                attributes["content"] = json.loads(row["content"])
            attributes |= {
                "canEdit": may_edit,
                "canDelete": self.actor.is_admin,
                "canHide": self.actor.moderates,
                "isApproved": True,
            }
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

        def to_one_user(
            self, user_id: int | None, tree: Mapping[str, Any], *, full: bool = False
        ) -> dict[str, Any]:
            user = store.user(user_id) if user_id is not None else None
            if user is None:
                return {"data": None}
            self.add(self.user(user, full=full))
            return {"data": {"type": "users", "id": str(user_id)}}

        def to_one_post(self, post_id: int | None, tree: Mapping[str, Any]) -> dict[str, Any]:
            row = store.one("SELECT * FROM posts WHERE id = ?", (post_id,)) if post_id else None
            if row is None:
                return {"data": None}
            self.add(self.post(row, tree, short=True))
            return {"data": {"type": "posts", "id": str(row["id"])}}

        def discussion(
            self, row: sqlite3.Row, tree: Mapping[str, Any], *, near: int = 0
        ) -> dict[str, Any]:
            posts = store.all(
                "SELECT id, number, user_id, created_at, type FROM posts WHERE discussion_id = ?"
                " ORDER BY number",
                (row["id"],),
            )
            comments = [p for p in posts if p["type"] == "comment"]
            first, last = (comments[0], comments[-1]) if comments else (None, None)
            may_moderate = self.actor.moderates
            attributes = {
                "title": row["title"],
                "slug": f"{row['id']}-{slugify(row['title'])}",
                "commentCount": len(comments),
                "participantCount": len({p["user_id"] for p in comments}),
                "createdAt": row["created_at"],
                "lastPostedAt": last["created_at"] if last else None,
                "lastPostNumber": last["number"] if last else None,
                "canReply": self.actor.user is not None and (not row["is_locked"] or may_moderate),
                "canRename": may_moderate or self.actor.id == row["user_id"],
                "canDelete": self.actor.is_admin,
                "canHide": may_moderate,
                "isApproved": not row["is_private"],
                "canTag": may_moderate,
                "isHidden": bool(row["is_hidden"]),
                "isSticky": bool(row["is_sticky"]),
                "isLocked": bool(row["is_locked"]),
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
                    " WHERE dt.discussion_id = ? ORDER BY t.position IS NULL, t.position, t.id",
                    (row["id"],),
                )
                for tag in tags:
                    self.add(self.tag(tag))
                relationships["tags"] = {
                    "data": [{"type": "tags", "id": str(t["id"])} for t in tags]
                }
            if "posts" in tree:
                # Every visible post id, but only one window of posts included (fact 9).
                start = max(0, near - PAGE_DEFAULT // 2 - 1) if near else 0
                for post_row in store.all(
                    "SELECT * FROM posts WHERE discussion_id = ? ORDER BY number LIMIT ? OFFSET ?",
                    (row["id"], PAGE_DEFAULT, start),
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
        """The include paths as a tree; any path not allowed is 400 before anything else."""
        raw = request.query_params.get("include")
        paths = default if raw is None else tuple(p for p in raw.split(",") if p)
        tree: dict[str, Any] = {}
        for path in paths:
            if path not in allowed:
                raise ApiError(400, "invalid_parameter")
            node = tree
            for part in path.split("."):
                node = node.setdefault(part, {})
        return tree

    def window(request: Request) -> tuple[int, int]:
        """`page[offset]` or `page[number]`, and `page[limit]` capped at 50 (0: the default)."""
        q = request.query_params
        try:
            limit = int(q.get("page[limit]", PAGE_DEFAULT)) or PAGE_DEFAULT
            if "page[number]" in q:
                offset = (int(q["page[number]"]) - 1) * min(limit, PAGE_CAP)
            else:
                offset = int(q.get("page[offset]", 0))
        except ValueError:
            raise ApiError(400, "invalid_parameter") from None
        if offset < 0 or limit < 0:
            raise ApiError(400, "invalid_parameter")
        return offset, min(limit, PAGE_CAP)

    def order(request: Request, allowed: Mapping[str, str], default: str) -> str:
        clauses = []
        for field in (request.query_params.get("sort") or default).split(","):
            name = field.lstrip("-")
            if name not in allowed:
                raise ApiError(400, "invalid_parameter")
            clauses.append(f"{allowed[name]} {'DESC' if field.startswith('-') else 'ASC'}")
        return ", ".join(clauses)

    def links(request: Request, offset: int, limit: int, more: bool) -> dict[str, str]:
        base = str(request.url.replace(query=""))
        params = {k: v for k, v in request.query_params.items() if k != "page[offset]"}

        def at(start: int) -> str:
            return (
                base
                + "?"
                + urlencode({**params, **({"page[offset]": str(start)} if start else {})})
            )

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
            raise ApiError(400, "invalid_parameter") from None
        if not isinstance(body, dict):
            raise ApiError(400, "invalid_parameter")
        return body

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

    # Routes ---------------------------------------------------------------------------------------

    async def show_forum(request: Request) -> Response:
        """Fact 4: the actor only where there is one; without `include`, groups and tags."""
        actor = actor_of(request)
        document = Document(request, actor)
        tree = include_tree(request, {"actor", "groups", "tags"}, ("groups", "tags"))
        attributes: dict[str, Any] = {
            "title": "Legacygraph Community Forum",
            "description": "A simulated Flarum forum.",
            "apiUrl": str(request.url_for("forum")),
            "canStartDiscussion": actor.user is not None,
            "canSearchUsers": actor.user is not None,
            "minPrimaryTags": "1",
            "maxPrimaryTags": "1",
        }
        if actor.is_admin:
            attributes["version"] = "1.7.2"
        relationships: dict[str, Any] = {}
        if "actor" in tree and actor.user is not None:
            document.add(document.user(actor.user, full=True))
            relationships["actor"] = {"data": {"type": "users", "id": str(actor.id)}}
        if "groups" in tree:
            relationships["groups"] = {"data": []}
        if "tags" in tree:
            rows = store.all("SELECT * FROM tags WHERE is_restricted = 0 ORDER BY position")
            for row in rows:
                document.add(document.tag(row))
            relationships["tags"] = {"data": [{"type": "tags", "id": str(r["id"])} for r in rows]}
        resource: dict[str, Any] = {"type": "forums", "id": "1", "attributes": attributes}
        if relationships:
            resource["relationships"] = relationships
        return document.render(resource)

    async def create_token(request: Request) -> Response:
        """Fact 1: a body without `password` is Flarum's 500."""
        body = await json_body(request)
        if "password" not in body:
            raise ApiError(500, "unknown")
        user = store.check_password(
            str(body.get("identification", "")), str(body.get("password", ""))
        )
        if user is None:
            raise ApiError(401, "not_authenticated")
        token = store.issue_token(user["id"], remember=bool(body.get("remember")))
        return JSONResponse({"token": token, "userId": user["id"]})

    async def list_discussions(request: Request) -> Response:
        actor = actor_of(request)
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
        rows = store.all(
            "SELECT d.*,"
            " (SELECT MAX(created_at) FROM posts WHERE discussion_id = d.id AND type = 'comment')"
            " AS last_posted_at,"
            " (SELECT COUNT(*) FROM posts WHERE discussion_id = d.id AND type = 'comment')"
            " AS comment_count"
            f" FROM discussions d WHERE {' AND '.join(where)}"
            f" ORDER BY {pinned}{sort}, d.id DESC LIMIT ? OFFSET ?",
            [*params, limit + 1, offset],
        )
        document = Document(request, actor)
        data = [document.discussion(row, tree) for row in rows[:limit]]
        return document.render(data, links(request, offset, limit, len(rows) > limit))

    def visible_discussion(actor: Actor, discussion_id: Any) -> sqlite3.Row:
        visible, params = visibility(actor)
        row = store.one(
            f"SELECT * FROM discussions d WHERE d.id = ? AND {visible}", [discussion_id, *params]
        )
        if row is None:
            raise ApiError(404, "not_found")
        return row

    async def show_discussion(request: Request) -> Response:
        actor = actor_of(request)
        tree = include_tree(request, SHOW_INCLUDES, SHOW_DISCUSSION_DEFAULT)
        tree.setdefault("posts", {})  # Flarum always sends the list of post ids here
        key = request.path_params["id"]
        if request.query_params.get("bySlug"):
            key = key.split("-", 1)[0]
        if not key.isdigit():
            raise ApiError(404, "not_found")
        row = visible_discussion(actor, key)
        near = request.query_params.get("page[near]", "0")
        document = Document(request, actor)
        discussion = document.discussion(row, tree, near=int(near) if near.isdigit() else 0)
        return document.render(discussion)

    async def list_posts(request: Request) -> Response:
        actor = actor_of(request)
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
        """Fact 22: guests may not list users; for anyone but an administrator Flarum ignores
        `filter[email]` (and finds nobody by an `email:` search)."""
        actor = actor_of(request)
        if actor.user is None:
            raise ApiError(403, "permission_denied")
        offset, limit = window(request)
        where, params = ["1"], []
        q = request.query_params
        search = q.get("filter[q]", "")
        if search.startswith("email:"):
            where.append("email = ? COLLATE NOCASE" if actor.is_admin else "0")
            params += [search[len("email:") :]] if actor.is_admin else []
        elif search:
            where.append("(username LIKE ? OR display_name LIKE ?)")
            params += [f"%{search}%"] * 2
        if q.get("filter[email]") and actor.is_admin:
            where.append("email = ? COLLATE NOCASE")
            params.append(q["filter[email]"])
        rows = store.all(
            f"SELECT * FROM users WHERE {' AND '.join(where)} ORDER BY id LIMIT ? OFFSET ?",
            [*params, limit + 1, offset],
        )
        document = Document(request, actor)
        data = []
        for row in rows[:limit]:
            user = document.user(row, full=True)
            user["relationships"] = {"groups": {"data": []}}
            data.append(user)
        return document.render(data, links(request, offset, limit, len(rows) > limit))

    async def show_user(request: Request) -> Response:
        actor = actor_of(request)
        key = request.path_params["id"]
        if request.query_params.get("bySlug"):
            row = store.one("SELECT * FROM users WHERE username = ? COLLATE NOCASE", (key,))
        else:
            row = store.user(key) if key.isdigit() else None
        if row is None:
            raise ApiError(404, "not_found")
        document = Document(request, actor)
        return document.render(document.user(row, full=True))

    async def list_tags(request: Request) -> Response:
        actor = actor_of(request)
        document = Document(request, actor)
        rows = store.all(
            "SELECT * FROM tags WHERE is_restricted = 0 OR ? ORDER BY position IS NULL, position",
            (int(actor.is_admin),),
        )
        return document.render([document.tag(row) for row in rows])

    def writer(request: Request) -> Actor:
        """The actor of a write: Flarum's CSRF check refuses one not authenticated by header,
        and an unconfirmed user may not write (facts 3, 5, 6, 25)."""
        actor = actor_of(request)
        if not actor.via_header or actor.user is None:
            raise ApiError(400, "csrf_token_mismatch")
        if not actor.user["is_email_confirmed"]:
            raise ApiError(403, "permission_denied")
        return actor

    def check_flood(actor: Actor) -> None:
        """Fact 28: one post per 10 s, unless the user may post without throttle."""
        assert actor.user is not None and actor.id is not None
        now = time.monotonic()
        exempt = actor.is_admin or actor.via_key or actor.user["post_without_throttle"]
        if not exempt and now - last_post_at.get(actor.id, -flood_seconds) < flood_seconds:
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
        # In Flarum's order (fact 25): the tags (the tags extension, on saving), the title (the
        # discussion's validator), the content (the first post's).
        linkage = ((data.get("relationships") or {}).get("tags") or {}).get("data") or []
        tag_ids = [str(item.get("id")) for item in linkage if isinstance(item, dict)]
        tags = {str(r["id"]): r for r in store.all("SELECT * FROM tags")}
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
        check_flood(actor)
        now = iso(store.clock())
        with store.transaction() as db:
            cursor = db.execute(
                "INSERT INTO discussions (title, user_id, created_at) VALUES (?,?,?)",
                (title, actor.id, now),
            )
            discussion_id = cursor.lastrowid
            db.executemany(
                "INSERT INTO discussion_tag VALUES (?,?)", [(discussion_id, t) for t in tag_ids]
            )
            db.execute(INSERT_POST, (discussion_id, 1, actor.id, content, now))
        row = store.one("SELECT * FROM discussions WHERE id = ?", (discussion_id,))
        assert row is not None
        document = Document(request, actor)
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

    async def create_post(request: Request) -> Response:
        actor = writer(request)
        data = (await json_body(request)).get("data") or {}
        target = (
            ((data.get("relationships") or {}).get("discussion") or {}).get("data") or {}
        ).get("id")
        discussion = visible_discussion(actor, target)
        if discussion["is_locked"] and not actor.moderates:
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
        post = document.post(row, {})
        # Fact 26: the author in full, the discussion partial.
        post["relationships"] = {
            "user": document.to_one_user(row["user_id"], {}, full=True),
            "discussion": {"data": {"type": "discussions", "id": str(discussion["id"])}},
            "mentionedBy": {"data": []},
            "likes": {"data": []},
        }
        ids = store.all(
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

    async def set_permission(request: Request) -> Response:
        """`POST /api/permission` (administrators): 204 with no body."""
        actor = actor_of(request)
        if not actor.via_header or actor.user is None:
            raise ApiError(400, "csrf_token_mismatch")
        if not actor.is_admin:
            raise ApiError(403, "permission_denied")
        body = await json_body(request)
        if body.get("permission") == "postWithoutThrottle":
            groups = {str(g) for g in body.get("groupIds") or []}
            store.execute(
                "UPDATE users SET post_without_throttle = ? WHERE is_admin = 0",
                (int("3" in groups),),  # 3: the Members group
            )
        return Response(status_code=204)

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        errors: list[dict[str, Any]] = [
            {
                "status": str(exc.status),
                "code": exc.code,
                "detail": detail,
                "source": {"pointer": pointer},
            }
            for detail, pointer in exc.details
        ] or [{"status": str(exc.status), "code": exc.code}]
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
        Route("/api/discussions/{id}", show_discussion),
        Route("/api/posts", list_posts),
        Route("/api/posts", create_post, methods=["POST"]),
        Route("/api/posts/{id:int}", show_post),
        Route("/api/users", list_users),
        Route("/api/users/{id}", show_user),
        Route("/api/tags", list_tags),
        Route("/api/permission", set_permission, methods=["POST"]),
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
