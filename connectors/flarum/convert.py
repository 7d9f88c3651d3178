"""JSON:API resources into the connector's dataclasses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..errors import ProtocolError
from .jsonapi import SOURCE, Resource
from .models import Discussion, Post, Related, Tag, User

__all__ = ["discussion", "post", "related", "tag", "user"]


def _time(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise ProtocolError(SOURCE, f"Flarum sent an unreadable date {value!r}") from exc
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def user(resource: Resource) -> User:
    a = resource.attributes
    return User(
        id=resource.id,
        username=str(a.get("username", "")),
        display_name=str(a.get("displayName") or a.get("username", "")),
        avatar_url=a.get("avatarUrl"),
        slug=a.get("slug"),
        joined_at=_time(a.get("joinTime")),
        discussion_count=_int(a.get("discussionCount")),
        comment_count=_int(a.get("commentCount")),
        email=a.get("email"),
        is_full="joinTime" in a,
    )


def tag(resource: Resource) -> Tag:
    a = resource.attributes
    return Tag(
        id=resource.id,
        name=str(a.get("name", "")),
        slug=str(a.get("slug", "")),
        description=a.get("description"),
        color=a.get("color") or None,
        discussion_count=_int(a.get("discussionCount")),
    )


def post(resource: Resource) -> Post:
    a = resource.attributes
    created = _time(a.get("createdAt"))
    if created is None:
        raise ProtocolError(SOURCE, f"Flarum sent post {resource.id} without createdAt")
    content = a.get("content")
    return Post(
        id=resource.id,
        number=int(a.get("number", 0)),
        content_type=str(a.get("contentType", "comment")),
        content_html=a.get("contentHtml"),
        # Event posts carry what happened in `content`, as an object or a list (not text).
        content=content if isinstance(content, str) or content is None else None,
        event=None if isinstance(content, str) else content,
        created_at=created,
        edited_at=_time(a.get("editedAt")),
        is_hidden=bool(a.get("isHidden", False)),
        discussion_id=resource.to_one("discussion"),
        author_id=resource.to_one("user"),
        relationships=frozenset(resource.relationships),
    )


def discussion(resource: Resource) -> Discussion:
    a = resource.attributes
    created = _time(a.get("createdAt"))
    if created is None:
        raise ProtocolError(SOURCE, f"Flarum sent discussion {resource.id} without createdAt")
    return Discussion(
        id=resource.id,
        title=str(a.get("title", "")),
        slug=str(a.get("slug", resource.id)),
        comment_count=int(a.get("commentCount", 0)),
        created_at=created,
        last_posted_at=_time(a.get("lastPostedAt")),
        is_locked=bool(a.get("isLocked", False)),
        is_sticky=bool(a.get("isSticky", False)),
        is_hidden=bool(a.get("isHidden", False)),
        author_id=resource.to_one("user"),
        tag_ids=resource.to_many("tags"),
        first_post_id=resource.to_one("firstPost"),
        post_ids=resource.to_many("posts"),
        relationships=frozenset(resource.relationships),
    )


def related(resources: list[Resource]) -> Related:
    """Sort `included` resources by type; types the gateway does not use are skipped.

    Included resources may be partial, as JSON:API allows: after `POST /api/posts` Flarum
    includes the discussion with its title, slug and `isApproved` only. A partial post or
    discussion (no `createdAt`) is left out: it is known by id, and read whole when needed.
    """
    found = Related()
    for resource in resources:
        if resource.type == "users":
            found.users[resource.id] = user(resource)
        elif resource.type == "tags":
            found.tags[resource.id] = tag(resource)
        elif resource.type == "posts" and "createdAt" in resource.attributes:
            found.posts[resource.id] = post(resource)
        elif resource.type == "discussions" and "createdAt" in resource.attributes:
            found.discussions[resource.id] = discussion(resource)
    return found
