"""Flarum in the graph: FlarumUser, Discussion, Post, Tag.

Fields that only copy a value are plain attributes, filled in by `of()`; fields that may need an
upstream call are resolvers. (Plain attributes also resolve several times faster.)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, TypeVar

import strawberry
from strawberry.scalars import JSON

from connectors import flarum
from graph.schema.ids import GlobalId
from graph.schema.pagination import Connection, connection
from graph.schema.selection import node_paths
from graph.schema.types.common import (
    Account,
    Info,
    MaybeAwaitable,
    Node,
    PersonRoot,
    SourceTypes,
    by_loader,
    global_id,
    own_account_field,
    page_window,
    person_account_field,
)
from graph.schema.types.source import Source
from graph.sources import FLARUM

__all__ = [
    "TYPES",
    "Discussion",
    "FlarumMutation",
    "FlarumPersonAccount",
    "FlarumPersonFields",
    "FlarumQuery",
    "FlarumUser",
    "FlarumViewer",
    "Post",
    "PostEvent",
    "Tag",
]

SOURCE = Source("flarum")
T = TypeVar("T")


@strawberry.type(description="A member of the Flarum forum.")
class FlarumUser(Account):
    upstream_id: str
    avatar_url: str | None
    data: strawberry.Private[flarum.User]

    @classmethod
    def of(cls, user: flarum.User) -> FlarumUser:
        # Made as `cls(...)` makes it, less the dataclass `__init__`: one per item of a page.
        made = cls.__new__(cls)
        made.__dict__ = {
            "id": global_id(SOURCE, "FlarumUser", user.id),
            "source": SOURCE,
            "upstream_id": user.id,
            "username": user.username,
            "display_name": user.display_name,
            "avatar_url": user.avatar_url,
            "data": user,
        }
        return made

    async def _full(self, info: Info) -> flarum.User:
        """The full user document; lists include only the short form."""
        if self.data.is_full:
            return self.data
        return await info.context.loaders(FLARUM).full_users.load(self.data.id)

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
    return FlarumUser.of(await info.context.loaders(FLARUM).users.load(user_id))


def author_of(
    info: Info,
    item: flarum.Post | flarum.Discussion,
    otherwise: Callable[[Info], Awaitable[FlarumUser | None]],
) -> MaybeAwaitable[FlarumUser | None]:
    """The author of `item` at once when it came along with it (no task), else
    `otherwise(info)`."""
    if "user" in item.relationships:
        if item.author_id is None:
            return None
        user = info.context.loaders(FLARUM).user_held(item.author_id)
        if user is not None:
            return FlarumUser.of(user)
    return otherwise(info)


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


@strawberry.type(
    description="What an event post records: a discussion renamed, stickied, locked..."
)
class PostEvent:
    kind: str = strawberry.field(
        description="Flarum's name for it: discussionRenamed, discussionStickied, "
        "discussionLocked, discussionTagged, ..."
    )
    summary: str = strawberry.field(description="In words, e.g. 'Renamed from “A” to “B”'.")
    data: JSON = strawberry.field(description="What Flarum sent, as it sent it.")

    @classmethod
    def of(cls, post: flarum.Post) -> PostEvent:
        return cls(kind=post.content_type, summary=event_summary(post), data=post.event)


TOGGLES = {"sticky": ("Stickied", "Unstickied"), "locked": ("Locked", "Unlocked")}


def event_summary(post: flarum.Post) -> str:
    event, kind = post.event, post.content_type
    if kind == "discussionRenamed" and isinstance(event, list) and len(event) == 2:
        return f"Renamed from “{event[0]}” to “{event[1]}”"
    if isinstance(event, dict) and len(event) == 1:
        ((name, value),) = event.items()
        if name in TOGGLES and isinstance(value, bool):
            return TOGGLES[name][0 if value else 1]
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in kind).strip()
    return words[:1].upper() + words[1:]


# A discussion's first post comes in Flarum's short form, without `content` and `editedAt`, even
# for a caller who may edit it: where a query asks for them, such posts are read by id (one
# request for all of them, with their authors).


def post_content(root: Post, info: Info) -> MaybeAwaitable[str | None]:
    post = root.data
    if post.is_full or post.content_type != "comment":
        return post.content
    return _in_full(info, post, lambda full: full.content)


def post_edited_at(root: Post, info: Info) -> MaybeAwaitable[datetime | None]:
    post = root.data
    if post.is_full or post.content_type != "comment":
        return post.edited_at
    return _in_full(info, post, lambda full: full.edited_at)


async def _in_full(info: Info, post: flarum.Post, field: Callable[[flarum.Post], T]) -> T:
    return field(await info.context.loaders(FLARUM).posts.load(post.id))


@strawberry.type(description="A post in a Flarum discussion: a comment, or an event.")
class Post(Node):
    source: Source
    upstream_id: str
    number: int = strawberry.field(description="Its position in the discussion, from 1.")
    content_type: str = strawberry.field(
        description="`comment`, or the kind of event the post records (see `event`)."
    )
    content_html: str | None
    content: MaybeAwaitable[str | None] = strawberry.field(
        resolver=post_content,
        graphql_type=str | None,
        description="A comment's source text; only where the caller may edit the post.",
    )
    event: PostEvent | None = strawberry.field(description="Null for comments.")
    created_at: datetime
    edited_at: MaybeAwaitable[datetime | None] = strawberry.field(
        resolver=post_edited_at, graphql_type=datetime | None
    )
    data: strawberry.Private[flarum.Post]
    parent: strawberry.Private[flarum.Discussion | None]
    """The discussion, where the post was reached through it."""

    @classmethod
    def of(cls, post: flarum.Post, parent: flarum.Discussion | None = None) -> Post:
        return cls(
            id=global_id(SOURCE, "Post", post.id),
            source=SOURCE,
            upstream_id=post.id,
            number=post.number,
            content_type=post.content_type,
            content_html=post.content_html,
            event=PostEvent.of(post) if post.event is not None else None,
            created_at=post.created_at,
            data=post,
            parent=parent,
        )

    @strawberry.field(graphql_type=FlarumUser | None)
    def author(self, info: Info) -> MaybeAwaitable[FlarumUser | None]:
        return author_of(info, self.data, self._author)

    async def _author(self, info: Info) -> FlarumUser | None:
        post = self.data
        if "user" not in post.relationships:
            post = await info.context.loaders(FLARUM).posts.load(post.id)
        return await load_user(info, post.author_id)

    @strawberry.field
    async def discussion(
        self, info: Info
    ) -> Annotated[Discussion, strawberry.lazy(__name__)] | None:
        if self.parent is not None:
            return Discussion.of(self.parent)
        loaders = info.context.loaders(FLARUM)
        discussion_id = self.data.discussion_id
        if discussion_id is None and "discussion" not in self.data.relationships:
            # Listed by id, the post came without its discussion: the post alone names it.
            discussion_id = await loaders.discussion_id_of(self.data.id)
        if discussion_id is None:
            return None
        return Discussion.of(await loaders.discussions.load(discussion_id))


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
        # Made as `cls(...)` makes it, less the dataclass `__init__`: one per item of a page.
        made = cls.__new__(cls)
        made.__dict__ = {
            "id": global_id(SOURCE, "Discussion", discussion.id),
            "source": SOURCE,
            "upstream_id": discussion.id,
            "title": discussion.title,
            "slug": discussion.slug,
            "created_at": discussion.created_at,
            "last_posted_at": discussion.last_posted_at,
            "comment_count": discussion.comment_count,
            "is_locked": discussion.is_locked,
            "is_sticky": discussion.is_sticky,
            "is_hidden": discussion.is_hidden,
            "data": discussion,
        }
        return made

    async def _with(self, info: Info, relationship: str) -> flarum.Discussion:
        """This discussion with `relationship` loaded: fetched again if the list left it out."""
        if relationship in self.data.relationships:
            return self.data
        return await info.context.loaders(FLARUM).discussions.load(self.data.id)

    # The three below answer at once when the list brought their data along (Flarum's
    # `include`), and only otherwise make a task that may call Flarum.

    @strawberry.field(graphql_type=FlarumUser | None)
    def author(self, info: Info) -> MaybeAwaitable[FlarumUser | None]:
        return author_of(info, self.data, self._author)

    async def _author(self, info: Info) -> FlarumUser | None:
        return await load_user(info, (await self._with(info, "user")).author_id)

    @strawberry.field(graphql_type=list[Tag] | None)
    def tags(self, info: Info) -> MaybeAwaitable[list[Tag] | None]:
        if "tags" in self.data.relationships:
            loader = info.context.loaders(FLARUM).tags
            held = [loader.held(tag_id) for tag_id in self.data.tag_ids or ()]
            if all(tag is not None for tag in held):
                return [Tag.of(tag) for tag in held if tag is not None]
        return self._tags(info)

    async def _tags(self, info: Info) -> list[Tag] | None:
        tag_ids = (await self._with(info, "tags")).tag_ids or ()
        return [Tag.of(tag) for tag in await info.context.loaders(FLARUM).tags.load_many(tag_ids)]

    @strawberry.field(graphql_type=Post | None)
    def first_post(self, info: Info) -> MaybeAwaitable[Post | None]:
        if "firstPost" in self.data.relationships:
            if self.data.first_post_id is None:
                return None
            post = info.context.loaders(FLARUM).post_held(self.data.first_post_id)
            if post is not None:
                return Post.of(flarum.in_discussion(post, self.data.id), self.data)
        return self._first_post(info)

    async def _first_post(self, info: Info) -> Post | None:
        post_id = (await self._with(info, "firstPost")).first_post_id
        if post_id is None:
            return None
        post = await info.context.loaders(FLARUM).posts.load(post_id)
        return Post.of(flarum.in_discussion(post, self.data.id), self.data)

    @strawberry.field(
        description="The posts in order; `first` above 50 reads several upstream pages."
    )
    async def posts(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Post] | None:
        at = page_window(info, first, after)
        key = (self.data.id, at.offset, at.limit)
        page = await info.context.loaders(FLARUM).discussion_posts.load(key)
        return connection(page.items, at, has_next=page.has_next, node=Post.of)


@strawberry.type
class FlarumViewer:
    """`Viewer.flarum`."""

    flarum: FlarumUser | None = own_account_field(
        "flarum", FlarumUser, "Null when the request carries no Flarum token."
    )


@strawberry.type
class FlarumPersonAccount:
    """`Person.forumUser`."""

    forum_user: FlarumUser | None = person_account_field(
        "flarum", FlarumUser, "The forum account, where the caller may find it."
    )


# GraphQL fields below a Discussion, and the Flarum relationships that bring them in the same
# request. Flarum 1.7 allows no `firstPost.user`: the first posts' authors, where the query asks
# for them, are one more request for all of them (`Post.author`).
DISCUSSION_INCLUDES = {
    "author": ("user",),
    "tags": ("tags",),
    "firstPost": ("firstPost",),
}


def discussion_includes(info: Info, *, connection: bool) -> list[str]:
    paths = node_paths(info.selected_fields, connection=connection)
    return [
        include
        for path, includes in DISCUSSION_INCLUDES.items()
        if path in paths
        for include in includes
    ]


@strawberry.type
class FlarumQuery:
    @strawberry.field(
        description="Flarum discussions, most recently active first. `totalCount` is null: "
        "Flarum 1.7 does not count its lists."
    )
    async def discussions(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        search: str | None = None,
        tag: Annotated[str | None, strawberry.argument(description="A tag's slug.")] = None,
    ) -> Connection[Discussion] | None:
        at = page_window(info, first, after)
        page = await info.context.loaders(FLARUM).discussion_list(
            offset=at.offset,
            limit=at.limit,
            search=search,
            tag=tag,
            include=discussion_includes(info, connection=True),
        )
        return connection(page.items, at, has_next=page.has_next, node=Discussion.of)

    @strawberry.field
    async def discussion(self, info: Info, id: strawberry.ID) -> Discussion | None:
        upstream_id = GlobalId.expect(id, "flarum", "Discussion")
        return Discussion.of(await info.context.loaders(FLARUM).discussions.load(upstream_id))


@strawberry.type
class FlarumMutation:
    @strawberry.mutation(description="Start a Flarum discussion as the caller.")
    async def start_discussion(
        self, info: Info, title: str, content: str, tags: list[strawberry.ID] | None = None
    ) -> Discussion | None:
        tag_ids = [GlobalId.expect(tag, "flarum", "Tag") for tag in tags or ()]
        started = await info.context.loaders(FLARUM).start_discussion(title, content, tag_ids)
        return Discussion.of(started)

    @strawberry.mutation(description="Reply to a Flarum discussion as the caller.")
    async def reply(self, info: Info, discussion_id: strawberry.ID, content: str) -> Post | None:
        upstream_id = GlobalId.expect(discussion_id, "flarum", "Discussion")
        return Post.of(await info.context.loaders(FLARUM).reply(upstream_id, content))


async def _discussions_of_person(
    root: PersonRoot, info: Info, first: int | None = None, after: str | None = None
) -> Connection[Discussion] | None:
    user = await info.context.people_loaders.of("flarum").load(root.email)
    at = page_window(info, first, after)
    if user is None:
        return connection([], at, has_next=False, node=Discussion.of, total_count=0)
    page = await info.context.loaders(FLARUM).discussion_list(
        offset=at.offset, limit=at.limit, author=user.username, include=("user", "tags")
    )
    return connection(page.items, at, has_next=page.has_next, node=Discussion.of)


@strawberry.type
class FlarumPersonFields:
    """This source's other fields of `Person`."""

    discussions: Connection[Discussion] | None = strawberry.field(
        resolver=_discussions_of_person, description="Forum discussions this person started."
    )


TYPES = SourceTypes(
    account=FlarumUser,
    nodes={
        Discussion: by_loader(lambda c: c.loaders(FLARUM).discussions, Discussion.of),
        Post: by_loader(lambda c: c.loaders(FLARUM).posts, Post.of),
        FlarumUser: by_loader(lambda c: c.loaders(FLARUM).users, FlarumUser.of),
        Tag: by_loader(lambda c: c.loaders(FLARUM).tags, Tag.of),
    },
)
"""The type of a person's account here, and how `Query.node` finds each type by its id (there
are no groups)."""
