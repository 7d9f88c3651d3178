"""JSON:API resources into the connector's dataclasses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec

from ..answers import Answer
from ..errors import ProtocolError
from .jsonapi import SOURCE, Resource
from .models import Discussion, Post, Related, Tag, User

__all__ = [
    "PostAttributes",
    "TagAttributes",
    "UserAttributes",
    "discussion",
    "post",
    "related",
    "tag",
    "user",
]

T = TypeVar("T")


def _time(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise ProtocolError(SOURCE, f"Flarum sent an unreadable date {value!r}") from exc
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _created(resource: Resource, value: str | None) -> datetime:
    created = _time(value)
    if created is None:
        raise ProtocolError(SOURCE, f"Flarum sent {resource.type} {resource.id} without createdAt")
    return created


class UserAttributes(Answer):
    username: str
    displayName: str | None = None
    avatarUrl: str | None = None
    slug: str | None = None
    joinTime: str | None = None
    """Only in the full user document, not in included users."""
    discussionCount: int | None = None
    commentCount: int | None = None
    email: str | None = None


class TagAttributes(Answer):
    name: str
    slug: str
    description: str | None = None
    color: str | None = None
    discussionCount: int | None = None


class PostAttributes(Answer):
    createdAt: str | None = None
    """None only in a partial post (included after a write): such a post is not read."""
    number: int = 0
    contentType: str = "comment"
    contentHtml: str | None = None
    content: Any = None
    """A comment's source text; an event post's data (an object or a list)."""
    editedAt: str | None = None
    isHidden: bool = False
    canEdit: bool | None = None
    """Sent by the full serializer only: its absence marks the short form of an included post."""


class Written(Answer):
    """What tells a partial resource (included after a write) from a whole one."""

    createdAt: str | None = None


def user(resource: Resource) -> User:
    a = resource.attributes_as(UserAttributes)
    return User(
        id=resource.id,
        username=a.username,
        display_name=a.displayName or a.username,
        avatar_url=a.avatarUrl,
        slug=a.slug,
        joined_at=_time(a.joinTime),
        discussion_count=a.discussionCount,
        comment_count=a.commentCount,
        email=a.email,
        is_full=a.joinTime is not None,
    )


def tag(resource: Resource) -> Tag:
    a = resource.attributes_as(TagAttributes)
    return Tag(
        id=resource.id,
        name=a.name,
        slug=a.slug,
        description=a.description,
        color=a.color or None,
        discussion_count=a.discussionCount,
    )


def post(resource: Resource, attributes: PostAttributes | None = None) -> Post:
    a = attributes or resource.attributes_as(PostAttributes)
    created = _created(resource, a.createdAt)
    content = a.content
    return Post(
        id=resource.id,
        number=a.number,
        content_type=a.contentType,
        content_html=a.contentHtml,
        # Event posts carry what happened in `content`, as an object or a list (not text).
        content=content if isinstance(content, str) or content is None else None,
        event=None if isinstance(content, str) else content,
        created_at=created,
        edited_at=_time(a.editedAt),
        is_hidden=a.isHidden,
        discussion_id=resource.to_one("discussion"),
        author_id=resource.to_one("user"),
        relationships=frozenset(resource.relationships),
        is_full=a.canEdit is not None,
    )


def discussion(resource: Resource) -> Discussion:
    """The resource's attributes decoded into a `Discussion`, given what the resource says."""
    try:
        found = resource.attributes_as(Discussion)
    except ProtocolError:
        if resource.attributes_as(Written).createdAt is None:
            raise ProtocolError(
                SOURCE, f"Flarum sent {resource.type} {resource.id} without createdAt"
            ) from None
        raise
    is_set = msgspec.structs.force_setattr  # a Discussion is frozen once made
    relationships = resource.relationships
    is_set(found, "id", resource.id)
    if not found.slug:
        is_set(found, "slug", resource.id)
    if relationships:
        is_set(found, "author_id", resource.to_one("user"))
        is_set(found, "tag_ids", resource.to_many("tags"))
        is_set(found, "first_post_id", resource.to_one("firstPost"))
        is_set(found, "post_ids", resource.to_many("posts"))
        is_set(found, "relationships", frozenset(relationships))
    return found


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
        elif resource.type == "posts":
            post_attributes = resource.attributes_as(PostAttributes)
            if post_attributes.createdAt is not None:
                found.posts[resource.id] = post(resource, post_attributes)
        elif resource.type == "discussions":
            try:
                found.discussions[resource.id] = discussion(resource)
            except ProtocolError:
                if resource.attributes_as(Written).createdAt is not None:
                    raise  # a whole discussion Flarum sent unlike its protocol
    return found
