"""JSON:API resources into the connector's dataclasses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec

from ..answers import Answer, typed_json
from ..errors import ProtocolError
from .jsonapi import SOURCE, Resource
from .models import Discussion, Post, Related, Tag, User

__all__ = [
    "TagAttributes",
    "UserAttributes",
    "discussion",
    "post",
    "related",
    "tag",
    "user",
]

PostOrDiscussion = TypeVar("PostOrDiscussion", Post, Discussion)
_is_set = msgspec.structs.force_setattr
"""Sets a field of a post or discussion, which is frozen once made."""


def _time(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise ProtocolError(SOURCE, f"Flarum sent an unreadable date {value!r}") from exc
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


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


class Written(Answer):
    """What tells a partial resource (included after a write) from a whole one."""

    createdAt: str | None = None


def user(resource: Resource) -> User:
    a = resource.attributes_as(UserAttributes)
    # `User(...)` less its frozen `__init__`, which sets each field through a call of
    # `object.__setattr__` (and costs more than decoding the attributes): a page includes many.
    made = object.__new__(User)
    object.__setattr__(
        made,
        "__dict__",
        {
            "id": resource.id,
            "username": a.username,
            "display_name": a.displayName or a.username,
            "avatar_url": a.avatarUrl,
            "slug": a.slug,
            "joined_at": _time(a.joinTime) if a.joinTime else None,
            "discussion_count": a.discussionCount,
            "comment_count": a.commentCount,
            "email": a.email,
            "is_full": a.joinTime is not None,
        },
    )
    return made


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


def post(resource: Resource) -> Post:
    """The resource's attributes decoded into a `Post`, given what the resource says."""
    found = _decode(resource, Post)
    relationships = resource.relationships
    if relationships:
        _is_set(found, "discussion_id", resource.to_one("discussion"))
        _is_set(found, "author_id", resource.to_one("user"))
        _is_set(found, "relationships", frozenset(relationships))
    return found


def discussion(resource: Resource) -> Discussion:
    """The resource's attributes decoded into a `Discussion`, given what the resource says."""
    found = _decode(resource, Discussion)
    relationships = resource.relationships
    if not found.slug:
        _is_set(found, "slug", resource.id)
    if relationships:
        # Only those the resource carries: an absent one leaves its field None (a list brings
        # a hundred discussions with one relationship or two).
        if "user" in relationships:
            _is_set(found, "author_id", resource.to_one("user"))
        if "tags" in relationships:
            _is_set(found, "tag_ids", resource.to_many("tags"))
        if "firstPost" in relationships:
            _is_set(found, "first_post_id", resource.to_one("firstPost"))
        if "posts" in relationships:
            _is_set(found, "post_ids", resource.to_many("posts"))
        _is_set(found, "relationships", frozenset(relationships))
    return found


def _decode(resource: Resource, model: type[PostOrDiscussion]) -> PostOrDiscussion:
    """The resource's attributes as `model`, with the resource's id. Where they cannot be read,
    one with no `createdAt` is said to be partial (asked only once reading failed: no call more
    for the many that read).

    It reads them as `Resource.attributes_as` does, one call fewer: a page of discussions decodes
    a hundred of them (and this call is one more than when each type read its own)."""
    try:
        found = typed_json(SOURCE, resource.raw_attributes, model, f"{resource.type} {resource.id}")
    except ProtocolError as error:
        if resource.attributes_as(Written).createdAt is None:
            raise ProtocolError(
                SOURCE, f"Flarum sent {resource.type} {resource.id} without createdAt"
            ) from error.__cause__
        raise
    _is_set(found, "id", resource.id)
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
        elif resource.type in ("posts", "discussions"):
            try:
                if resource.type == "posts":
                    found.posts[resource.id] = post(resource)
                else:
                    found.discussions[resource.id] = discussion(resource)
            except ProtocolError:
                if resource.attributes_as(Written).createdAt is not None:
                    raise  # a whole one that Flarum sent unlike its protocol
    return found
