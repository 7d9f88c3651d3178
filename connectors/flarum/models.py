"""What the Flarum connector returns: plain dataclasses, parsed from JSON:API resources."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

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


@dataclass(frozen=True)
class Post:
    id: str
    number: int
    content_type: str
    """`comment`, or the kind of event a post records (`discussionRenamed`, ...)."""
    content_html: str | None
    content: str | None
    """The source text of a comment, only when the actor may edit the post."""
    created_at: datetime
    edited_at: datetime | None
    is_hidden: bool
    discussion_id: str | None
    author_id: str | None
    relationships: frozenset[str] = frozenset()
    """The relationships this document carried; an absent one was not loaded, not empty."""
    event: Any = None
    """What an event post records, as Flarum sends it in `content` (an object or a list):
    `{"sticky": true}`, `["old title", "new title"]`; None for comments."""
    is_full: bool = True
    """False for the short form Flarum includes beside a discussion (`firstPost`, `lastPost`:
    its BasicPostSerializer), which never carries `content`, `editedAt` or `isHidden`, even
    for a caller who may edit the post; the post read by id has them."""


@dataclass(frozen=True)
class Discussion:
    id: str
    title: str
    slug: str
    comment_count: int
    created_at: datetime
    last_posted_at: datetime | None
    is_locked: bool
    is_sticky: bool
    is_hidden: bool
    author_id: str | None
    tag_ids: tuple[str, ...] | None
    """None when the tags relationship was not loaded."""
    first_post_id: str | None
    post_ids: tuple[str, ...] | None = None
    """All visible post ids, in order: only in the single-discussion document."""
    relationships: frozenset[str] = frozenset()
    """The relationships this document carried; an absent one was not loaded, not empty."""


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
