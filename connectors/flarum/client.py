"""The Flarum JSON:API client: typed async methods over one `Upstream`."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Iterable, Sequence
from typing import Any

from ..errors import BadRequest, Forbidden, ProtocolError, Unauthenticated
from ..http import Upstream, decode_json
from . import convert
from .jsonapi import SOURCE, Document, Resource, read_document
from .models import Discussion, Forum, Found, Page, Post, Related, Tag, Token, User

__all__ = ["PAGE_CAP", "Flarum", "in_discussion"]

PAGE_CAP = 50
"""Flarum silently caps `page[limit]` at 50; larger windows are fetched as several pages."""

DISCUSSION_INCLUDES = ("user", "tags", "firstPost")
"""Flarum 1.7 refuses nested includes on posts (`firstPost.user` is 400 `invalid_parameter`),
and included posts come without relationships: their authors are read with `posts(ids)`."""
GAMBIT_VALUE = re.compile(r"[^\s:]+")


class Flarum:
    """A Flarum forum, seen by the identity in `upstream.auth`."""

    def __init__(self, upstream: Upstream) -> None:
        self.upstream = upstream

    async def _get(self, path: str, params: dict[str, str] | None = None) -> Document:
        response = await self.upstream.request("GET", f"/api{path}", params=params)
        document = read_document(response)
        await self.upstream.keep(response)
        return document

    async def _post(self, path: str, document: dict[str, Any]) -> Document:
        response = await self.upstream.request(
            "POST",
            f"/api{path}",
            json_body=document,
            headers={"Accept": "application/vnd.api+json"},
        )
        return read_document(response)

    async def forum(self) -> Forum:
        """Forum info and the actor this request runs as (`GET /api?include=actor`)."""
        document = await self._get("", {"include": "actor"})
        resource = document.one()
        actor_id = resource.to_one("actor")
        actor = convert.related(document.included).users.get(actor_id) if actor_id else None
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
        the search as its `tag:slug` gambit, which Flarum applies.
        """
        params = {"include": ",".join(include)}
        if search and tag:
            if not GAMBIT_VALUE.fullmatch(tag):
                raise BadRequest(SOURCE, "A tag is a slug: no spaces or colons", field="tag")
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
        """Fetch `limit` items from `offset`, as concurrent upstream pages of at most 50."""
        if limit <= 0:
            return Page(items=[], related=Related(), has_next=False)
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


def in_discussion(post: Post, discussion_id: str) -> Post:
    """`post`, known to belong to `discussion_id` where Flarum did not link it."""
    if post.discussion_id is not None:
        return post
    return dataclasses.replace(post, discussion_id=discussion_id)


def _combine(documents: Sequence[Document], parse: Any, *, has_next: bool) -> Page[Any]:
    items: list[Any] = []
    related = Related()
    for document in documents:
        items.extend(parse(resource) for resource in document.many())
        related.merge(convert.related(document.included))
    return Page(items=items, related=related, has_next=has_next)
