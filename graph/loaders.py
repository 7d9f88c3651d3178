"""Per-request dataloaders: they batch and de-duplicate upstream calls within one request.

A loader lives for one request and one caller, so nothing it holds reaches another caller.
Resources that arrive in a document's `included` are primed into the loaders, so resolving an
author or a tag that came along costs no further request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar, cast

from aiodataloader import DataLoader

from connectors.errors import NotFound
from connectors.flarum import Discussion, Flarum, Page, Post, Related, Tag, User

__all__ = ["FlarumLoaders"]

K = TypeVar("K")
V = TypeVar("V")
BatchLoad = Callable[[list[K]], Awaitable[list[V | BaseException]]]


def loader(batch: BatchLoad[K, V]) -> DataLoader[K, V]:
    """A DataLoader over `batch`, which answers one slot per key: the value, or the exception
    that key failed with (the loader raises it to that key's caller only)."""
    return DataLoader(cast(Any, batch))


async def each(keys: Sequence[K], fetch: Callable[[K], Awaitable[V]]) -> list[V | BaseException]:
    """One concurrent call per key, for APIs with no batch form: a failure stays in its slot."""
    return list(await asyncio.gather(*(fetch(key) for key in keys), return_exceptions=True))


class FlarumLoaders:
    def __init__(self, flarum: Callable[[], Flarum]) -> None:
        self._flarum = flarum
        self.users: DataLoader[str, User] = loader(self._users)
        """Users as best known: the short form from `included`, else the full document."""
        self.full_users: DataLoader[str, User] = loader(self._full_users)
        self.posts: DataLoader[str, Post] = loader(self._posts)
        self.discussions: DataLoader[str, Discussion] = loader(self._discussions)
        self.tags: DataLoader[str, Tag] = loader(self._tags)
        self.discussion_posts: DataLoader[tuple[str, int, int], Page[Post]] = loader(
            self._discussion_posts
        )

    def remember(self, related: Related) -> None:
        for user in related.users.values():
            self.users.prime(user.id, user)
            if user.is_full:
                self.full_users.prime(user.id, user)
        for tag in related.tags.values():
            self.tags.prime(tag.id, tag)
        for post in related.posts.values():
            if "user" in post.relationships:  # a post in the loader always knows its author
                self.posts.prime(post.id, post)

    async def _users(self, ids: list[str]) -> list[User | BaseException]:
        return list(await self.full_users.load_many(ids))

    async def _full_users(self, ids: list[str]) -> list[User | BaseException]:
        return await each(ids, self._flarum().user)

    async def _posts(self, ids: list[str]) -> list[Post | BaseException]:
        page = await self._flarum().posts(ids)
        self.remember(page.related)
        found = {post.id: post for post in page.items}
        return [found.get(i) or NotFound("flarum", f"Flarum has no visible post {i}") for i in ids]

    async def _discussions(self, ids: list[str]) -> list[Discussion | BaseException]:
        async def fetch(discussion_id: str) -> Discussion:
            found = await self._flarum().discussion(discussion_id)
            self.remember(found.related)
            return found.item

        return await each(ids, fetch)

    async def _tags(self, ids: list[str]) -> list[Tag | BaseException]:
        found = {tag.id: tag for tag in await self._flarum().tags()}
        return [found.get(i) or NotFound("flarum", f"Flarum has no tag {i}") for i in ids]

    async def _discussion_posts(
        self, keys: list[tuple[str, int, int]]
    ) -> list[Page[Post] | BaseException]:
        async def fetch(key: tuple[str, int, int]) -> Page[Post]:
            discussion_id, offset, limit = key
            page = await self._flarum().discussion_posts(discussion_id, offset=offset, limit=limit)
            self.remember(page.related)
            return page

        return await each(keys, fetch)
