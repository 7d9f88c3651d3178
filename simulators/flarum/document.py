"""Serialisation: a JSON:API document and its resources (users, tags, posts, discussions), with
the `included` resources Flarum sends (included posts without relationships)."""

from __future__ import annotations

import html
import json
import re
import sqlite3
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .auth import Actor
from .errors import JSONAPI
from .parameters import PAGE_DEFAULT
from .store import FlarumStore

__all__ = ["Document", "render", "slugify"]


def slugify(text: str) -> str:
    return "-".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def render(content: str) -> str:
    return "".join(f"<p>{html.escape(part)}</p>" for part in content.split("\n\n") if part)


class Document:
    """One JSON:API document being built: its primary data and its `included` resources, each
    once, serialised for one actor."""

    def __init__(self, store: FlarumStore, request: Request, actor: Actor) -> None:
        self.store = store
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
            attributes["discussionCount"] = self.store.scalar(
                "SELECT COUNT(*) FROM discussions WHERE user_id = ?", (uid,)
            )
            attributes["commentCount"] = self.store.scalar(
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
        count = self.store.scalar(
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
            latest = self.store.scalar(
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
            discussion = self.store.one(
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
        user = self.store.user(user_id) if user_id is not None else None
        if user is None:
            return {"data": None}
        self.add(self.user(user, full=full))
        return {"data": {"type": "users", "id": str(user_id)}}

    def to_one_post(self, post_id: int | None, tree: Mapping[str, Any]) -> dict[str, Any]:
        row = self.store.one("SELECT * FROM posts WHERE id = ?", (post_id,)) if post_id else None
        if row is None:
            return {"data": None}
        self.add(self.post(row, tree, short=True))
        return {"data": {"type": "posts", "id": str(row["id"])}}

    def discussion(
        self, row: sqlite3.Row, tree: Mapping[str, Any], *, near: int = 0
    ) -> dict[str, Any]:
        posts = self.store.all(
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
            tags = self.store.all(
                "SELECT t.* FROM tags t JOIN discussion_tag dt ON dt.tag_id = t.id"
                " WHERE dt.discussion_id = ? ORDER BY t.position IS NULL, t.position, t.id",
                (row["id"],),
            )
            for tag in tags:
                self.add(self.tag(tag))
            relationships["tags"] = {"data": [{"type": "tags", "id": str(t["id"])} for t in tags]}
        if "posts" in tree:
            # Every visible post id, but only one window of posts included (fact 9).
            start = max(0, near - PAGE_DEFAULT // 2 - 1) if near else 0
            for post_row in self.store.all(
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
