"""Flarum (discussions): `Authorization: Token`, guests allowed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import httpx
from aiodataloader import DataLoader

from connectors.errors import NotFound, Unauthenticated
from connectors.flarum import Discussion, Flarum, FlarumAuth, Page, Post, Related, Tag, User
from connectors.http import Upstream
from connectors.memory import Recollection
from graph.doctor.report import Need
from graph.loaders import Loader, each, loader
from graph.sources.flarum.doctor import EDIT_USERS, diagnose
from graph.sources.flarum.settings import FlarumSettings
from graph.sources.spec import (
    Acting,
    Connection,
    Memory,
    PeopleLookup,
    SignedIn,
    SourceSpec,
    caller_only,
)

__all__ = ["FLARUM", "FlarumLoaders"]


def acting(settings: FlarumSettings, token: str | None) -> Acting:
    """As the caller's token, else the service key if allowed, else a guest."""
    if token:
        return Acting(FlarumAuth(token=token), f"token:{token}")
    if settings.allow_service_fallback:
        return Acting(
            FlarumAuth(api_key=settings.api_key, user_id=settings.api_user_id),
            f"service:{settings.api_key}:{settings.api_user_id}",
        )
    return Acting(FlarumAuth(), "guest")


def connect(upstream: Upstream, settings: FlarumSettings, memory: Recollection | None) -> Flarum:
    """Flarum reads with a token it does not know as a guest's: a caller's token is checked
    once per `TOKENS_KEPT_S` (its memory, shared by replicas), and refused where Flarum does not
    know it."""
    auth = upstream.auth
    caller_token = isinstance(auth, FlarumAuth) and auth.is_user_token
    return Flarum(upstream, tokens=memory if caller_token else None)


TOKENS_KEPT_S = 60.0
"""How long whether Flarum knows a caller's token is remembered: a token that expires is
refused at most this much later, and each token costs at most one extra request this often."""


async def ping(name: str, settings: FlarumSettings, client: httpx.AsyncClient) -> str:
    service = settings.allow_service_fallback
    auth = (
        FlarumAuth(api_key=settings.api_key, user_id=settings.api_user_id)
        if service
        else FlarumAuth()
    )
    forum = await Flarum(Upstream(name, client, settings.url, auth)).forum()
    if service and forum.actor is None:
        raise Unauthenticated(name, "Flarum did not accept the configured api_key/api_user_id")
    who = f"service user {forum.actor.username}" if forum.actor else "guest"
    version = forum.version or "version hidden (shown to administrators only)"
    return f"reachable, auth ok as {who}, Flarum {version}"


async def login(site: Flarum, settings: FlarumSettings, username: str, password: str) -> SignedIn:
    token = await site.login(username, password)
    return SignedIn(token.token, user_id=token.user_id)


async def account(site: Flarum, user_id: str | None) -> Any:
    if user_id:  # from the login that has just issued the token
        await site.trust_token()
        return await site.user(user_id)
    forum = await site.forum()  # who the token belongs to
    return forum.actor


def people(loaders: FlarumLoaders) -> PeopleLookup:
    """One address a call; a member (whose filter Flarum ignores) links their own account."""
    return PeopleLookup(find=loaders.users_by_email, one_at_a_time=True, own=loaders.actor)


def over_simulator(url: str) -> FlarumSettings:
    return FlarumSettings(url=url)


class FlarumLoaders:
    """Flarum's reads for one request. What a document brings along in `included` (authors,
    tags, first posts) is kept here, by `_remember`, whichever read brought it: the batch
    functions and the reads of lists and writes below, never a resolver."""

    def __init__(self, flarum: Connection[Flarum]) -> None:
        self._flarum = flarum.site
        self.users: Loader[str, User] = loader(self._users)
        """Users as best known: the short form from `included`, else the full document."""
        self.full_users: DataLoader[str, User] = loader(self._full_users)
        self.included_users: dict[str, User] = {}
        """The users `users` holds from `included`, as a plain dict: a page's discussions look
        their authors up here, one each (`user_held`)."""
        self.posts: Loader[str, Post] = loader(self._posts)
        """Posts with their author linked."""
        self.included_posts: dict[str, Post] = {}
        """Posts that came along without relationships (a list's `firstPost`)."""
        self.discussions: DataLoader[str, Discussion] = loader(self._discussions)
        self.tags: Loader[str, Tag] = loader(self._tags)
        self.discussion_posts: DataLoader[tuple[str, int, int], Page[Post]] = loader(
            self._discussion_posts
        )

    async def discussion_list(
        self,
        *,
        offset: int,
        limit: int,
        include: Iterable[str],
        search: str | None = None,
        tag: str | None = None,
        author: str | None = None,
    ) -> Page[Discussion]:
        """A window of the discussion list (`Flarum.discussions`)."""
        page = await self._flarum().discussions(
            offset=offset, limit=limit, search=search, tag=tag, author=author, include=include
        )
        self._remember(page.related)
        return page

    async def discussion_id_of(self, post_id: str) -> str | None:
        """The discussion of a post listed by id without it (one `GET /api/posts/{id}`)."""
        found = await self._flarum().post(post_id)
        self._remember(found.related)
        return found.item.discussion_id

    async def start_discussion(
        self, title: str, content: str, tag_ids: Sequence[str]
    ) -> Discussion:
        """Start a discussion as the caller; what Flarum's answer includes is kept."""
        found = await self._flarum().start_discussion(title, content, tag_ids)
        self._remember(found.related)
        return found.item

    async def reply(self, discussion_id: str, content: str) -> Post:
        """Reply as the caller; what Flarum's answer includes is kept."""
        found = await self._flarum().reply(discussion_id, content)
        self._remember(found.related)
        return found.item

    async def actor(self) -> User | None:
        """The caller's own Flarum account (None for a guest): `GET /api?include=actor`, asked
        once per connector."""
        return (await self._flarum().forum()).actor

    async def viewer(self) -> User:
        """The caller's own account, in full; a token Flarum does not know is refused."""
        found = await self.actor()
        if found is None:
            raise Unauthenticated("flarum", "Flarum does not know this token (unknown or expired)")
        self.full_users.prime(found.id, found)
        return found

    async def users_by_email(self, emails: list[str]) -> list[User]:
        """The users with the one address in `emails` (`people`: one address a call)."""
        return await self._flarum().users_by_email(emails[0])

    def _remember(self, related: Related) -> None:
        held = self.users.futures
        for user in related.users.values():
            if user.id not in held:  # as `prime`, which keeps what the loader holds already
                self.users.prime(user.id, user)
                self.included_users[user.id] = user
            if user.is_full:
                self.full_users.prime(user.id, user)
        for tag in related.tags.values():
            self.tags.prime(tag.id, tag)
        for post in related.posts.values():
            if "user" in post.relationships:  # a post in the loader always knows its author
                self.posts.prime(post.id, post)
            else:
                self.included_posts[post.id] = post

    def user_held(self, user_id: str) -> User | None:
        """The user, if the loader holds them (`Loader.held`), looked up first where `included`
        brought them."""
        return self.included_users.get(user_id) or self.users.held(user_id)

    def post_held(self, post_id: str) -> Post | None:
        """The post, if a document brought it along, with or without its author."""
        return self.posts.held(post_id) or self.included_posts.get(post_id)

    async def _users(self, ids: list[str]) -> list[User | BaseException]:
        # Each user answers for itself: one missing user is NotFound alone.
        return await each(ids, self.full_users.load)

    async def _full_users(self, ids: list[str]) -> list[User | BaseException]:
        return await each(ids, self._flarum().user)

    async def _posts(self, ids: list[str]) -> list[Post | BaseException]:
        page = await self._flarum().posts(ids)
        self._remember(page.related)
        found = {post.id: post for post in page.items}
        return [found.get(i) or NotFound("flarum", f"Flarum has no visible post {i}") for i in ids]

    async def _discussions(self, ids: list[str]) -> list[Discussion | BaseException]:
        async def fetch(discussion_id: str) -> Discussion:
            found = await self._flarum().discussion(discussion_id)
            self._remember(found.related)
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
            self._remember(page.related)
            return page

        return await each(keys, fetch)


NEEDS = (
    Need("Viewer.flarum", ("GET /api",)),
    Need("Query.discussions", ("GET /api/discussions",), "canViewForum"),
    Need("Query.discussions(tag)", ("GET /api/discussions", "GET /api/tags"), "canViewForum"),
    Need("Query.discussion", ("GET /api/discussions/{id}",), "canViewForum"),
    Need("Discussion.tags", ("GET /api/tags",)),
    Need("Mutation.startDiscussion", ("POST /api/discussions",), "canStartDiscussion"),
    Need("Mutation.reply", ("POST /api/posts",), "reply in that discussion"),
    Need("Person.forumUser", ("GET /api/users",), EDIT_USERS),
)
"""The endpoints each field calls, and the forum permission it needs (a member without
`user.edit` finds only their own account by e-mail)."""

FLARUM = SourceSpec(
    name="flarum",
    label="Flarum",
    header="X-Flarum-Token",
    settings=FlarumSettings,
    credential=caller_only,
    acting=acting,
    connect=connect,
    loaders=FlarumLoaders,
    ping=ping,
    login=login,
    account=account,
    people=people,
    viewer=FlarumLoaders.viewer,
    demo_port=9104,
    over_simulator=over_simulator,
    memory=Memory(size=10_000, ttl_s=TOKENS_KEPT_S),
    needs=NEEDS,
    diagnose=diagnose,
)
