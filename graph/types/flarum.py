"""Flarum in the graph: FlarumUser, Discussion, Post, Tag."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from connectors import flarum

from ..pagination import Connection, connection, window
from .common import Account, Info, Node, Source, global_id

__all__ = ["Discussion", "FlarumUser", "Post", "Tag"]

SOURCE = Source.FLARUM


@strawberry.type(description="A member of the Flarum forum.")
class FlarumUser(Account):
    data: strawberry.Private[flarum.User]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id(SOURCE, "FlarumUser", self.data.id)

    @strawberry.field
    def source(self) -> Source:
        return SOURCE

    @strawberry.field
    def upstream_id(self) -> str:
        return self.data.id

    @strawberry.field
    def username(self) -> str | None:
        return self.data.username

    @strawberry.field
    def display_name(self) -> str:
        return self.data.display_name

    @strawberry.field
    def avatar_url(self) -> str | None:
        return self.data.avatar_url

    async def _full(self, info: Info) -> flarum.User:
        if self.data.is_full:
            return self.data
        user: flarum.User = await info.context.flarum_loaders.full_users.load(self.data.id)
        return user

    @strawberry.field(description="Only where the caller is this user or may edit their account.")
    async def email(self, info: Info) -> str | None:
        return (await self._full(info)).email

    @strawberry.field
    async def joined_at(self, info: Info) -> datetime | None:
        return (await self._full(info)).joined_at

    @strawberry.field
    async def discussion_count(self, info: Info) -> int | None:
        return (await self._full(info)).discussion_count

    @strawberry.field
    async def comment_count(self, info: Info) -> int | None:
        return (await self._full(info)).comment_count


async def load_user(info: Info, user_id: str | None) -> FlarumUser | None:
    if user_id is None:
        return None
    return FlarumUser(data=await info.context.flarum_loaders.users.load(user_id))


@strawberry.type(description="A Flarum tag (category) that discussions are filed under.")
class Tag(Node):
    data: strawberry.Private[flarum.Tag]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id(SOURCE, "Tag", self.data.id)

    @strawberry.field
    def source(self) -> Source:
        return SOURCE

    @strawberry.field
    def upstream_id(self) -> str:
        return self.data.id

    @strawberry.field
    def name(self) -> str:
        return self.data.name

    @strawberry.field
    def slug(self) -> str:
        return self.data.slug

    @strawberry.field
    def description(self) -> str | None:
        return self.data.description

    @strawberry.field
    def color(self) -> str | None:
        return self.data.color

    @strawberry.field
    def discussion_count(self) -> int | None:
        return self.data.discussion_count


@strawberry.type(description="A post in a Flarum discussion.")
class Post(Node):
    data: strawberry.Private[flarum.Post]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id(SOURCE, "Post", self.data.id)

    @strawberry.field
    def source(self) -> Source:
        return SOURCE

    @strawberry.field
    def upstream_id(self) -> str:
        return self.data.id

    @strawberry.field(description="Its position in the discussion, from 1.")
    def number(self) -> int:
        return self.data.number

    @strawberry.field
    def content_html(self) -> str | None:
        return self.data.content_html

    @strawberry.field(description="The source text; only where the caller may edit the post.")
    def content(self) -> str | None:
        return self.data.content

    @strawberry.field
    def created_at(self) -> datetime:
        return self.data.created_at

    @strawberry.field
    def edited_at(self) -> datetime | None:
        return self.data.edited_at

    @strawberry.field
    async def author(self, info: Info) -> FlarumUser | None:
        post = self.data
        if "user" not in post.relationships:
            post = await info.context.flarum_loaders.posts.load(post.id)
        return await load_user(info, post.author_id)

    @strawberry.field
    async def discussion(
        self, info: Info
    ) -> Annotated[Discussion, strawberry.lazy(__name__)] | None:
        if self.data.discussion_id is None:
            return None
        return Discussion(
            data=await info.context.flarum_loaders.discussions.load(self.data.discussion_id)
        )


@strawberry.type(description="A Flarum discussion: a title and a thread of posts.")
class Discussion(Node):
    data: strawberry.Private[flarum.Discussion]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return global_id(SOURCE, "Discussion", self.data.id)

    @strawberry.field
    def source(self) -> Source:
        return SOURCE

    @strawberry.field
    def upstream_id(self) -> str:
        return self.data.id

    @strawberry.field
    def title(self) -> str:
        return self.data.title

    @strawberry.field
    def slug(self) -> str:
        return self.data.slug

    @strawberry.field
    def created_at(self) -> datetime:
        return self.data.created_at

    @strawberry.field
    def last_posted_at(self) -> datetime | None:
        return self.data.last_posted_at

    @strawberry.field
    def comment_count(self) -> int:
        return self.data.comment_count

    @strawberry.field
    def is_locked(self) -> bool:
        return self.data.is_locked

    @strawberry.field
    def is_sticky(self) -> bool:
        return self.data.is_sticky

    @strawberry.field
    def is_hidden(self) -> bool:
        return self.data.is_hidden

    async def _with(self, info: Info, relationship: str) -> flarum.Discussion:
        """This discussion with `relationship` loaded: fetched again if the list left it out."""
        if relationship in self.data.relationships:
            return self.data
        found: flarum.Discussion = await info.context.flarum_loaders.discussions.load(self.data.id)
        return found

    @strawberry.field
    async def author(self, info: Info) -> FlarumUser | None:
        return await load_user(info, (await self._with(info, "user")).author_id)

    @strawberry.field
    async def tags(self, info: Info) -> list[Tag] | None:
        loaded = await info.context.flarum_loaders.tags.load_many(
            (await self._with(info, "tags")).tag_ids or ()
        )
        return [Tag(data=tag) for tag in loaded]

    @strawberry.field
    async def first_post(self, info: Info) -> Post | None:
        post_id = (await self._with(info, "firstPost")).first_post_id
        if post_id is None:
            return None
        return Post(data=await info.context.flarum_loaders.posts.load(post_id))

    @strawberry.field(
        description="The posts in order; `first` above 50 reads several upstream pages."
    )
    async def posts(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Post] | None:
        limits = info.context.settings.graphql
        at = window(first, after, default=limits.default_page_size, cap=limits.max_page_size)
        page = await info.context.flarum_loaders.discussion_posts.load(
            (self.data.id, at.offset, at.limit)
        )
        return connection(page.items, at, has_next=page.has_next, node=lambda p: Post(data=p))
