"""What the Flarum connector returns: plain dataclasses, parsed from JSON:API resources, and
the discussion and the post, structs decoded straight from their resources' attributes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import msgspec

__all__ = [
    "Discussion",
    "Forum",
    "Found",
    "Page",
    "Post",
    "Related",
    "Tag",
    "Token",
    "User",
]

T = TypeVar("T")


@dataclass(frozen=True)
class User:
    id: str
    username: str
    display_name: str
    avatar_url: str | None
    slug: str | None
    # Present only in the full user document (GET /api/users/{id}), not in included users:
    joined_at: datetime | None = None
    discussion_count: int | None = None
    comment_count: int | None = None
    email: str | None = None
    """Only when the actor is this user or may edit their credentials."""
    is_full: bool = False


@dataclass(frozen=True)
class Tag:
    id: str
    name: str
    slug: str
    description: str | None
    color: str | None
    discussion_count: int | None


class Post(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A post: its resource's `attributes` decoded straight into it, as `Discussion` is; then
    `convert.post` sets its id and what its relationships link."""

    created_at: datetime = msgspec.field(name="createdAt")
    """Absent only in a partial post (included after a write): such a one is not read."""
    number: int = 0
    content_type: str = msgspec.field(name="contentType", default="comment")
    """`comment`, or the kind of event a post records (`discussionRenamed`, ...)."""
    content_html: str | None = msgspec.field(name="contentHtml", default=None)
    sent: Any = msgspec.field(name="content", default=None)
    """What Flarum sent as `content`: a comment's source text, or what an event records (see
    `content` and `event`)."""
    edited_at: datetime | None = msgspec.field(name="editedAt", default=None)
    is_hidden: bool = msgspec.field(name="isHidden", default=False)
    can_edit: bool | None = msgspec.field(name="canEdit", default=None)
    """Sent by the full serializer only (see `is_full`)."""
    # What the resource says beside its attributes (set by `convert.post`):
    id: str = ""
    discussion_id: str | None = None
    author_id: str | None = None
    relationships: frozenset[str] = frozenset()
    """The relationships this document carried; an absent one was not loaded, not empty."""

    def __post_init__(self) -> None:
        edited = self.edited_at
        if self.created_at.tzinfo is not UTC or (edited is not None and edited.tzinfo is not UTC):
            in_utc(self, "created_at", "edited_at")

    @property
    def content(self) -> str | None:
        """The source text of a comment, only when the actor may edit the post."""
        return self.sent if isinstance(self.sent, str) else None

    @property
    def event(self) -> Any:
        """What an event post records, as Flarum sends it in `content` (an object or a list):
        `{"sticky": true}`, `["old title", "new title"]`; None for comments."""
        return None if isinstance(self.sent, str) else self.sent

    @property
    def is_full(self) -> bool:
        """False for the short form Flarum includes beside a discussion (`firstPost`,
        `lastPost`: its BasicPostSerializer), which never carries `content`, `editedAt` or
        `isHidden`, even for a caller who may edit the post; the post read by id has them."""
        return self.can_edit is not None


class Discussion(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A discussion: its resource's `attributes` decoded straight into it (each field names the
    attribute Flarum sends), with no dict and no copy in between; then `convert.discussion`
    sets what the resource itself says: its id, and what its relationships link. (JSON:API keeps
    `id` and `relationships` out of the attributes, so no attribute can fill those fields.)

    `gc=False`, as `Post`: made from JSON, it holds strings, numbers, times and tuples of ids,
    nothing that can lead back to it, so the cycle collector need not track it (a page of a
    hundred made its collections cost 0.33M of the 9.27M instructions of Q1)."""

    title: str
    created_at: datetime = msgspec.field(name="createdAt")
    """Absent only in a partial discussion (included after a write): such a one is not read."""
    slug: str = ""
    """The resource's id where Flarum sends none."""
    comment_count: int = msgspec.field(name="commentCount", default=0)
    last_posted_at: datetime | None = msgspec.field(name="lastPostedAt", default=None)
    is_locked: bool = msgspec.field(name="isLocked", default=False)
    is_sticky: bool = msgspec.field(name="isSticky", default=False)
    is_hidden: bool = msgspec.field(name="isHidden", default=False)
    # What the resource says beside its attributes (set by `convert.discussion`):
    id: str = ""
    author_id: str | None = None
    tag_ids: tuple[str, ...] | None = None
    """None when the tags relationship was not loaded."""
    first_post_id: str | None = None
    post_ids: tuple[str, ...] | None = None
    """All visible post ids, in order: only in the single-discussion document."""
    relationships: frozenset[str] = frozenset()
    """The relationships this document carried; an absent one was not loaded, not empty."""

    def __post_init__(self) -> None:
        last = self.last_posted_at
        if self.created_at.tzinfo is not UTC or (last is not None and last.tzinfo is not UTC):
            in_utc(self, "created_at", "last_posted_at")


def in_utc(struct: msgspec.Struct, *names: str) -> None:
    """Flarum writes UTC (`+00:00`); a date with another offset, or none, is read as the time
    it names in UTC, as every other Flarum date is (`convert._time`)."""
    for name in names:
        moment = getattr(struct, name)
        if moment is not None and moment.tzinfo is not UTC:
            fixed = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
            msgspec.structs.force_setattr(struct, name, fixed.astimezone(UTC))


@dataclass
class Related:
    """Resources that came along in a document's `included`, by id."""

    users: dict[str, User] = field(default_factory=dict)
    tags: dict[str, Tag] = field(default_factory=dict)
    posts: dict[str, Post] = field(default_factory=dict)
    discussions: dict[str, Discussion] = field(default_factory=dict)

    def merge(self, other: Related) -> None:
        self.users.update(other.users)
        self.tags.update(other.tags)
        self.posts.update(other.posts)
        self.discussions.update(other.discussions)


@dataclass(frozen=True)
class Found(Generic[T]):
    """One resource and what was included with it."""

    item: T
    related: Related


@dataclass(frozen=True)
class Page(Generic[T]):
    """A window of a list, what was included with it, and whether more follow."""

    items: Sequence[T]
    related: Related
    has_next: bool


@dataclass(frozen=True)
class Forum:
    title: str
    version: str | None
    """Shown to administrators only."""
    actor: User | None
    """Who the request acted as; None for a guest."""


@dataclass(frozen=True)
class Token:
    token: str
    user_id: str
