"""Relay connections over offset-paged upstream lists."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import strawberry

__all__ = [
    "Connection",
    "Edge",
    "InvalidPage",
    "PageInfo",
    "Window",
    "connection",
    "sliced",
    "window",
]

T = TypeVar("T")
U = TypeVar("U")
CURSOR_PREFIX = "offset:"


class InvalidPage(ValueError):
    """`first` or `after` cannot be used."""


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    """A page; its edges (a cursor each) are made only where a query asks for them."""

    items: strawberry.Private[list[T]]
    offset: strawberry.Private[int]
    page: strawberry.Private[PageInfo]
    count: strawberry.Private[int | None]

    @strawberry.field
    def edges(self) -> list[Edge[T]]:
        return [
            Edge(cursor=encode_cursor(self.offset + i), node=n) for i, n in enumerate(self.items)
        ]

    @strawberry.field
    def page_info(self) -> PageInfo:
        return self.page

    @strawberry.field(
        description="How many there are in all; null where the system does not count them: "
        "Flarum's lists (Flarum 1.7 counts none), CiviCRM's in the q= style (API v2). Where it "
        "costs a call of its own (CiviCRM's getcount), it is made only when this is asked for."
    )
    def total_count(self) -> int | None:
        return self.count

    @strawberry.field
    def nodes(self) -> list[T]:
        return self.items


@dataclass(frozen=True)
class Window:
    offset: int
    limit: int


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{offset}".encode()).rstrip(b"=").decode()


def window(first: int | None, after: str | None, *, default: int, cap: int) -> Window:
    """Where a page starts upstream and how many items it takes; `first` is capped at `cap`."""
    if first is not None and first < 0:
        raise InvalidPage("first must not be negative")
    offset = 0
    if after is not None:
        try:
            text = base64.urlsafe_b64decode(after + "=" * (-len(after) % 4)).decode()
            if not text.startswith(CURSOR_PREFIX):
                raise ValueError
            offset = int(text[len(CURSOR_PREFIX) :]) + 1
        except (binascii.Error, UnicodeError, ValueError):
            raise InvalidPage(f"after: {after!r} is not a cursor of this list") from None
        if offset < 1:
            raise InvalidPage(f"after: {after!r} is not a cursor of this list")
    return Window(offset=offset, limit=min(default if first is None else first, cap))


def connection(
    items: Sequence[U],
    at: Window,
    *,
    has_next: bool,
    node: Callable[[U], T],
    total_count: int | None = None,
) -> Connection[T]:
    end = encode_cursor(at.offset + len(items) - 1) if items else None
    return Connection(
        items=[node(item) for item in items],
        offset=at.offset,
        page=PageInfo(has_next_page=has_next, end_cursor=end),
        count=total_count,
    )


def sliced(items: Sequence[U], at: Window, *, node: Callable[[U], T]) -> Connection[T]:
    """A window of a list the gateway holds whole (the upstream has no paging for it)."""
    return connection(
        items[at.offset : at.offset + at.limit],
        at,
        has_next=at.offset + at.limit < len(items),
        node=node,
        total_count=len(items),
    )
