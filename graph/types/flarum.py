"""Flarum in the graph: FlarumUser, Discussion, Post, Tag.

Fields that only copy a value are plain attributes, filled in by `of()`; fields that may need an
upstream call are resolvers. (Plain attributes also resolve several times faster.)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

import strawberry

from connectors import flarum

from ..pagination import Connection, connection
from .common import Account, Info, MaybeAwaitable, Node, Source, global_id, page_window

__all__ = ["Discussion", "FlarumUser", "Post", "Tag"]

SOURCE = Source.FLARUM


@strawberry.type(description="A member of the Flarum forum.")
class FlarumUser(Account):
    upstream_id: str
    avatar_url: str | None
    data: strawberry.Private[flarum.User]

    @classmethod
    def of(cls, user: flarum.User) -> FlarumUser:
        return cls(
            id=global_id(SOURCE, "FlarumUser", user.id),
            source=SOURCE,
            upstream_id=user.id,
            username=user.username,
            display_name=user.display_name,
            avatar_url=user.avatar_url,
            data=user,
        )

    async def _full(self, info: Info) -> flarum.User:
        """The full user document; lists include only the short form."""
        if self.data.is_full:
            return self.data
        return await info.context.flarum_loaders.full_users.load(self.data.id)

    async def account_email(self, info: Info) -> str | None:
        """Flarum shows it to the user themself and to those who may edit their account."""
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
    return FlarumUser.of(await info.context.flarum_loaders.users.load(user_id))


def author_of(
    info: Info,
    item: flarum.Post | flarum.Discussion,
    otherwise: Callable[[], Awaitable[FlarumUser | None]],
) -> MaybeAwaitable[FlarumUser | None]:
    """The author of `item` at once when it came along with it (no task), else `otherwise()`."""
    if "user" in item.relationships:
        if item.author_id is None:
            return None
        user = info.context.flarum_loaders.users.held(item.author_id)
        if user is not None:
            return FlarumUser.of(user)
    return otherwise()


@strawberry.type(description="A Flarum tag (category) that discussions are filed under.")
class Tag(Node):
    source: Source
    upstream_id: str
    name: str
    slug: str
    description: str | None
    color: str | None
    discussion_count: int | None

    @classmethod
    def of(cls, tag: flarum.Tag) -> Tag:
        return cls(
            id=global_id(SOURCE, "Tag", tag.id),
            source=SOURCE,
            upstream_id=tag.id,
            name=tag.name,
            slug=tag.slug,
            description=tag.description,
            color=tag.color,
            discussion_count=tag.discussion_count,
        )


@strawberry.type(description="A post in a Flarum discussion.")
class Post(Node):
    source: Source
    upstream_id: str
    number: int = strawberry.field(description="Its position in the discussion, from 1.")
    content_html: str | None
    content: str | None = strawberry.field(
        description="The source text; only where the caller may edit the post."
    )
    created_at: datetime
    edited_at: datetime | None
    data: strawberry.Private[flarum.Post]

    @classmethod
    def of(cls, post: flarum.Post) -> Post:
        return cls(
            id=global_id(SOURCE, "Post", post.id),
            source=SOURCE,
            upstream_id=post.id,
            number=post.number,
            content_html=post.content_html,
            content=post.content,
            created_at=post.created_at,
            edited_at=post.edited_at,
            data=post,
        )

    @strawberry.field(graphql_type=FlarumUser | None)
    def author(self, info: Info) -> MaybeAwaitable[FlarumUser | None]:
        return author_of(info, self.data, lambda: self._author(info))

    async def _author(self, info: Info) -> FlarumUser | None:
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
        loaders = info.context.flarum_loaders
        return Discussion.of(await loaders.discussions.load(self.data.discussion_id))


@strawberry.type(description="A Flarum discussion: a title and a thread of posts.")
class Discussion(Node):
    source: Source
    upstream_id: str
    title: str
    slug: str
    created_at: datetime
    last_posted_at: datetime | None
    comment_count: int
    is_locked: bool
    is_sticky: bool
    is_hidden: bool
    data: strawberry.Private[flarum.Discussion]

    @classmethod
    def of(cls, discussion: flarum.Discussion) -> Discussion:
        return cls(
            id=global_id(SOURCE, "Discussion", discussion.id),
            source=SOURCE,
            upstream_id=discussion.id,
            title=discussion.title,
            slug=discussion.slug,
            created_at=discussion.created_at,
            last_posted_at=discussion.last_posted_at,
            comment_count=discussion.comment_count,
            is_locked=discussion.is_locked,
            is_sticky=discussion.is_sticky,
            is_hidden=discussion.is_hidden,
            data=discussion,
        )

    async def _with(self, info: Info, relationship: str) -> flarum.Discussion:
        """This discussion with `relationship` loaded: fetched again if the list left it out."""
        if relationship in self.data.relationships:
            return self.data
        return await info.context.flarum_loaders.discussions.load(self.data.id)

    # The three below answer at once when the list brought their data along (Flarum's
    # `include`), and only otherwise make a task that may call Flarum.

    @strawberry.field(graphql_type=FlarumUser | None)
    def author(self, info: Info) -> MaybeAwaitable[FlarumUser | None]:
        return author_of(info, self.data, lambda: self._author(info))

    async def _author(self, info: Info) -> FlarumUser | None:
        return await load_user(info, (await self._with(info, "user")).author_id)

    @strawberry.field(graphql_type=list[Tag] | None)
    def tags(self, info: Info) -> MaybeAwaitable[list[Tag] | None]:
        if "tags" in self.data.relationships:
            loader = info.context.flarum_loaders.tags
            held = [loader.held(tag_id) for tag_id in self.data.tag_ids or ()]
            if all(tag is not None for tag in held):
                return [Tag.of(tag) for tag in held if tag is not None]
        return self._tags(info)

    async def _tags(self, info: Info) -> list[Tag] | None:
        tag_ids = (await self._with(info, "tags")).tag_ids or ()
        return [Tag.of(tag) for tag in await info.context.flarum_loaders.tags.load_many(tag_ids)]

    @strawberry.field(graphql_type=Post | None)
    def first_post(self, info: Info) -> MaybeAwaitable[Post | None]:
        if "firstPost" in self.data.relationships:
            if self.data.first_post_id is None:
                return None
            post = info.context.flarum_loaders.posts.held(self.data.first_post_id)
            if post is not None:
                return Post.of(post)
        return self._first_post(info)

    async def _first_post(self, info: Info) -> Post | None:
        post_id = (await self._with(info, "firstPost")).first_post_id
        if post_id is None:
            return None
        return Post.of(await info.context.flarum_loaders.posts.load(post_id))

    @strawberry.field(
        description="The posts in order; `first` above 50 reads several upstream pages."
    )
    async def posts(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Post] | None:
        at = page_window(info, first, after)
        key = (self.data.id, at.offset, at.limit)
        page = await info.context.flarum_loaders.discussion_posts.load(key)
        return connection(page.items, at, has_next=page.has_next, node=Post.of)
