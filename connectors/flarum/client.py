"""The Flarum JSON:API client: typed async methods over one `Upstream`."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec

from ..errors import BadRequest, Forbidden, ProtocolError, Unauthenticated, UpstreamError
from ..http import Upstream, decode_json
from ..memory import Recollection
from . import convert
from .jsonapi import SOURCE, Document, Resource, read_document
from .models import Discussion, Forum, Found, Page, Post, Related, Tag, Token, User

__all__ = ["PAGE_CAP", "Flarum", "in_discussion"]

PAGE_CAP = 50
"""Flarum silently caps `page[limit]` at 50; larger windows are fetched as several pages."""

DISCUSSION_INCLUDES = ("user", "tags", "firstPost")
"""Flarum 1.7 refuses nested includes on posts (`firstPost.user` is 400 `invalid_parameter`),
and included posts come without relationships: their authors are read with `posts(ids)`."""
NOT_IN_A_SLUG = re.compile(r"[\s/]")
"""Flarum's tags refuse a slug with a space or a slash (flarum/tags `TagValidator`), so no tag
has one; any whitespace would also split the `tag:slug` gambit of a search."""


class Flarum:
    """A Flarum forum, seen by the identity in `upstream.auth`.

    Flarum answers a read with a token it does not know (unknown, expired, revoked) as it
    answers a guest, with no error. Given `tokens` (for a caller's own token), the client asks
    who the token is (`GET /api?include=actor`) alongside its first read, remembers the answer
    there under a keyed hash of the token (`upstream.caller_key`, never the token) and raises
    `Unauthenticated` on every read with a token Flarum does not know: at most one extra request
    per token for as long as `tokens` keeps it, shared by the gateway's replicas.
    """

    def __init__(self, upstream: Upstream, *, tokens: Recollection | None = None) -> None:
        self.upstream = upstream
        self._tokens = tokens
        self._recalled: asyncio.Future[Any] | None = None
        self._asked: asyncio.Future[bool] | None = None
        self._forum: asyncio.Future[Forum] | None = None

    async def _get(self, path: str, params: dict[str, str] | None = None) -> Document:
        pending = await self._token_check()
        try:
            document = await self.upstream.request(
                "GET", f"/api{path}", params=params, decode=read_document
            )
        except UpstreamError:
            await _confirm(pending)  # a token Flarum does not know says why first
            raise
        await _confirm(pending)
        return document

    @property
    def _token_key(self) -> str | None:
        """Where the token's standing is remembered: a keyed hash of it, never the token."""
        caller_key = self.upstream.caller_key
        return f"token:{caller_key}" if caller_key else None

    async def _token_check(self) -> asyncio.Future[bool] | None:
        """None when there is nothing to wait for (no token to check, or one remembered as
        known), else the question to Flarum under way, shared by this client's reads. A token
        remembered unknown raises at once, with no request."""
        if self._tokens is None:
            return None
        key = self._token_key
        if self._recalled is None:
            recall = self._tokens.recall(key) if key else asyncio.sleep(0, None)
            self._recalled = asyncio.ensure_future(recall)
        known = await asyncio.shield(self._recalled)
        if known is True:
            return None
        if known is False:
            raise _unknown_token()
        if self._asked is None:
            self._asked = asyncio.ensure_future(self._ask_about_token())
        elif self._asked.done() and not self._asked.result():
            raise _unknown_token()
        return self._asked

    async def trust_token(self) -> None:
        """Take the caller's token as known without asking: Flarum has just issued it."""
        if self._tokens is None:
            return
        self._recalled = asyncio.ensure_future(asyncio.sleep(0, True))
        key = self._token_key
        if key is not None:
            await self._tokens.remember(key, True)

    async def _ask_about_token(self) -> bool:
        """Whether Flarum knows the token; True where it cannot say now (the read itself
        then tells what it can)."""
        try:
            forum = await self.forum()
        except UpstreamError:
            return True
        return forum.actor is not None

    async def _post(self, path: str, document: dict[str, Any]) -> Document:
        response = await self.upstream.request(
            "POST",
            f"/api{path}",
            json_body=document,
            headers={"Accept": "application/vnd.api+json"},
        )
        return read_document(response)

    async def forum(self) -> Forum:
        """Forum info and the actor this request runs as (`GET /api?include=actor`), asked
        once per client. With `tokens`, what it says of the token is remembered there."""
        if self._forum is None:
            self._forum = asyncio.ensure_future(self._read_forum())
        return await asyncio.shield(self._forum)

    async def _read_forum(self) -> Forum:
        document = await self.upstream.request(
            "GET", "/api", params={"include": "actor"}, decode=read_document
        )
        resource = document.one()
        actor_id = resource.to_one("actor")
        actor = convert.related(document.included).users.get(actor_id) if actor_id else None
        key = self._token_key
        if self._tokens is not None and key is not None:
            await self._tokens.remember(key, actor is not None)
        return Forum(
            title=str(resource.attributes.get("title", "")),
            version=resource.attributes.get("version"),
            actor=actor,
        )

    async def login(self, identification: str, password: str, *, remember: bool = False) -> Token:
        """Exchange a username (or e-mail) and password for an access token."""
        body: dict[str, Any] = {"identification": identification, "password": password}
        if remember:
            body["remember"] = 1
        response = await self.upstream.request("POST", "/api/token", json_body=body)
        if response.status_code >= 400:
            read_document(response)  # raises the mapped error
            raise Unauthenticated(SOURCE, "Flarum refused the login", status=response.status_code)
        payload = decode_json(response, SOURCE)
        if not isinstance(payload, dict) or "token" not in payload or "userId" not in payload:
            raise ProtocolError(SOURCE, "Flarum's token answer has no token and userId")
        return Token(token=str(payload["token"]), user_id=str(payload["userId"]))

    async def discussions(
        self,
        *,
        offset: int = 0,
        limit: int = 20,
        search: str | None = None,
        tag: str | None = None,
        author: str | None = None,
        sort: str | None = None,
        include: Iterable[str] = DISCUSSION_INCLUDES,
    ) -> Page[Discussion]:
        """A window of the discussion list, with the requested relationships included.

        Flarum drops `filter[tag]` when `filter[q]` is there; with a search, the tag goes into
        the search as its `tag:slug` gambit, which Flarum applies. A `tag` no slug can be (a
        space or a slash) is refused either way: Flarum would answer `[]` without a search.
        """
        params = {"include": ",".join(include)}
        if tag and NOT_IN_A_SLUG.search(tag):
            raise BadRequest(
                SOURCE,
                f"{tag!r} is not a tag slug: Flarum's slugs have no spaces or slashes",
                field="tag",
            )
        if search and tag:
            search, tag = f"{search} tag:{tag}", None
        for name, value in (("q", search), ("tag", tag), ("author", author)):
            if value:
                params[f"filter[{name}]"] = value
        if sort:
            params["sort"] = sort
        return await self._paged("/discussions", params, offset, limit, convert.discussion)

    async def discussion(
        self, discussion_id: str, *, include: Iterable[str] = DISCUSSION_INCLUDES
    ) -> Found[Discussion]:
        document = await self._get(f"/discussions/{discussion_id}", {"include": ",".join(include)})
        return Found(convert.discussion(document.one()), convert.related(document.included))

    async def posts(self, post_ids: Sequence[str]) -> Page[Post]:
        """Posts by id, with their authors: one request per 50 ids (`filter[id]=1,2,3`, in
        ascending order, so that the same ids make the same request)."""
        ordered = sorted(post_ids, key=lambda i: (len(i), i))
        chunks = [ordered[i : i + PAGE_CAP] for i in range(0, len(ordered), PAGE_CAP)]
        documents = await asyncio.gather(
            *(
                self._get(
                    "/posts",
                    {
                        "filter[id]": ",".join(chunk),
                        "include": "user",
                        "page[limit]": str(PAGE_CAP),
                    },
                )
                for chunk in chunks
            )
        )
        return _combine(documents, convert.post, has_next=False)

    async def discussion_posts(
        self, discussion_id: str, *, offset: int = 0, limit: int = 20
    ) -> Page[Post]:
        """The posts of one discussion in order, with their authors. Flarum links listed posts
        to their author only; their discussion is the one asked for."""
        params = {"filter[discussion]": discussion_id, "sort": "number", "include": "user"}

        def parse(resource: Resource) -> Post:
            return in_discussion(convert.post(resource), discussion_id)

        return await self._paged("/posts", params, offset, limit, parse)

    async def post(self, post_id: str) -> Found[Post]:
        """One post with its author and discussion (`GET /api/posts/{id}` includes both)."""
        document = await self._get(f"/posts/{post_id}")
        return Found(convert.post(document.one()), convert.related(document.included))

    async def user(self, user_id: str) -> User:
        """The full user document: join time, counts, and e-mail where the actor may see it."""
        document = await self._get(f"/users/{user_id}")
        return convert.user(document.one())

    async def users_by_email(self, email: str) -> list[User]:
        """Users with this e-mail (`filter[email]`, one address a call).

        Guests get `Forbidden`. For members and moderators Flarum 1.7 ignores the filter and
        answers a page of every user, e-mails hidden but the caller's own: only a row whose
        e-mail is the address asked for is a match, never the first row, and an answer that
        shows the filter was ignored (rows without the address) is `Forbidden` too: such a
        caller cannot find anyone by e-mail (the caller's own account is found another way).
        """
        document = await self._get("/users", {"filter[email]": email})
        wanted = email.strip().lower()
        found = [convert.user(resource) for resource in document.many()]
        matching = [u for u in found if u.email is not None and u.email.strip().lower() == wanted]
        if found and not matching:
            raise Forbidden(
                SOURCE,
                "Flarum ignores the e-mail filter for this caller: it cannot find users by e-mail",
                upstream_code="filter_ignored",
            )
        return matching

    async def tags(self) -> list[Tag]:
        document = await self._get("/tags")
        return [convert.tag(resource) for resource in document.many()]

    async def start_discussion(
        self, title: str, content: str, tag_ids: Sequence[str] = ()
    ) -> Found[Discussion]:
        relationships = {"tags": {"data": [{"type": "tags", "id": tag} for tag in tag_ids]}}
        document = await self._post(
            "/discussions",
            {
                "data": {
                    "type": "discussions",
                    "attributes": {"title": title, "content": content},
                    "relationships": relationships,
                }
            },
        )
        return Found(convert.discussion(document.one()), convert.related(document.included))

    async def reply(self, discussion_id: str, content: str) -> Found[Post]:
        document = await self._post(
            "/posts",
            {
                "data": {
                    "type": "posts",
                    "attributes": {"content": content},
                    "relationships": {
                        "discussion": {"data": {"type": "discussions", "id": discussion_id}}
                    },
                }
            },
        )
        return Found(convert.post(document.one()), convert.related(document.included))

    async def _paged(
        self,
        path: str,
        params: dict[str, str],
        offset: int,
        limit: int,
        parse: Any,
    ) -> Page[Any]:
        """Fetch `limit` items from `offset`, as concurrent upstream pages of at most 50.

        No items (`limit` 0) still asks for one, to tell whether any follow: Flarum reads
        `page[limit]=0` as its default page size.
        """
        if limit <= 0:
            probe = await self._get(
                path, {**params, "page[offset]": str(offset), "page[limit]": "1"}
            )
            return Page(items=[], related=Related(), has_next=bool(probe.many()))
        windows = [
            (start, min(PAGE_CAP, offset + limit - start))
            for start in range(offset, offset + limit, PAGE_CAP)
        ]
        documents = await asyncio.gather(
            *(
                self._get(path, {**params, "page[offset]": str(start), "page[limit]": str(size)})
                for start, size in windows
            )
        )
        return _combine(documents, parse, has_next=documents[-1].links.get("next") is not None)


async def _confirm(pending: asyncio.Future[bool] | None) -> None:
    if pending is not None and not await asyncio.shield(pending):
        raise _unknown_token()


def _unknown_token() -> Unauthenticated:
    return Unauthenticated(
        SOURCE,
        "Flarum does not know this token (unknown, expired or revoked): sign in again",
        upstream_code="unknown_token",
    )


def in_discussion(post: Post, discussion_id: str) -> Post:
    """`post`, known to belong to `discussion_id` where Flarum did not link it."""
    if post.discussion_id is not None:
        return post
    return msgspec.structs.replace(post, discussion_id=discussion_id)


def _combine(documents: Sequence[Document], parse: Any, *, has_next: bool) -> Page[Any]:
    items: list[Any] = []
    related = Related()
    for document in documents:
        items.extend(map(parse, document.many()))
        related.merge(convert.related(document.included))
    return Page(items=items, related=related, has_next=has_next)
