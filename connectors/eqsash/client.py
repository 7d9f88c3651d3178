"""The Eqsash client: `key`, `module`, `method`, `data` and the caller's token, one endpoint.

Eqsash documents little beyond that call shape; the answer and error shapes here are the
provisional ones the simulator documents, kept in `read` so they can be aligned with a real site.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from ..answers import typed
from ..errors import (
    BadRequest,
    Forbidden,
    NotFound,
    ProtocolError,
    Unauthenticated,
    Unavailable,
    UpstreamError,
)
from ..http import Upstream, decode_json
from . import answers as a
from .models import Article, EqsashUser, Section, Token

__all__ = ["Eqsash", "read"]

SOURCE = "eqsash"
T = TypeVar("T")


def read(response: httpx.Response) -> Any:
    """A method's answer: JSON (`json` and `json_object` formats) or text (raw format)."""
    if response.status_code >= 500:
        raise Unavailable(SOURCE, f"Eqsash failed (HTTP {response.status_code})")
    if response.status_code >= 400:
        raise _error(response)
    content_type = response.headers.get("content-type", "")
    if "json" in content_type:
        return decode_json(response, SOURCE)
    if "html" in content_type:
        raise ProtocolError(SOURCE, "Eqsash answered an HTML page, not its API")
    return response.text


def _error(response: httpx.Response) -> UpstreamError:
    try:
        body = response.json()
        code, message = str(body.get("error", "")), str(body.get("message", ""))
    except (ValueError, AttributeError):
        code, message = "", ""
    text = message or f"Eqsash refused the call (HTTP {response.status_code})"
    if code == "invalid_key":
        return Unauthenticated(SOURCE, "Eqsash refused the gateway's site key", upstream_code=code)
    kind: type[UpstreamError] = {
        401: Unauthenticated,
        403: Forbidden,
        404: NotFound if code == "not_found" else BadRequest,
    }.get(response.status_code, BadRequest)
    return kind(SOURCE, text, upstream_code=code or None, status=response.status_code)


class Eqsash:
    """An Eqsash site, as the caller whose token is in `upstream.auth` (or anonymously)."""

    def __init__(
        self, upstream: Upstream, *, path: str = "/api/", get_methods: Collection[str] = ()
    ) -> None:
        self.upstream = upstream
        self.path = path
        self.get_methods = frozenset(get_methods)

    async def call(
        self,
        module: str,
        method: str,
        data: Mapping[str, Any] | None = None,
        *,
        reads: bool = False,
    ) -> Any:
        """Any external method, with `data` sent as a JSON document. `reads` says it changes
        nothing, so it may be tried again (an arbitrary method is not assumed to)."""
        fields = {"module": module, "method": method, "data": json.dumps(dict(data or {}))}
        if f"{module}.{method}" in self.get_methods:
            return await self.upstream.request(
                "GET", self.path, params=fields, call=f"{module}.{method}", decode=read
            )
        return await self.upstream.request(
            "POST",
            self.path,
            form=fields,
            call=f"{module}.{method}",
            idempotent=reads,
            decode=read,
        )

    async def login(self, login: str, password: str) -> Token:
        found = await self.call("users", "login", {"login": login, "password": password})
        answer = _typed(found, a.Login, "a login")
        return Token(
            token=answer.token,
            user_id=answer.user_id,
            expires_at=datetime.fromtimestamp(answer.expires, UTC) if answer.expires else None,
        )

    async def current_user(self) -> EqsashUser:
        return _user(await self.call("users", "current", reads=True))

    async def users(self, ids: Sequence[int]) -> list[EqsashUser]:
        """Users by id, in one call (`users.get_many`)."""
        return [
            _user(u)
            for u in _list(await self.call("users", "get_many", {"ids": list(ids)}, reads=True))
        ]

    async def users_by_email(self, emails: Sequence[str]) -> list[EqsashUser]:
        """Users by e-mail in one call (`users.get_by_email`)."""
        if not emails:
            return []
        found = await self.call("users", "get_by_email", {"emails": list(emails)}, reads=True)
        return [_user(u) for u in _list(found)]

    async def articles(
        self,
        *,
        limit: int = 10,
        offset: int = 0,
        search: str | None = None,
        section: int | None = None,
    ) -> tuple[int, list[Article]]:
        data: dict[str, Any] = {"limit": limit, "offset": offset}
        if search:
            data["search"] = search
        if section is not None:
            data["section_id"] = section
        page = _typed(
            await self.call("articles", "list", data, reads=True), a.ArticlePage, "a page"
        )
        return page.total, [_article(item) for item in _list(page.items or [])]

    async def articles_by_ids(self, ids: Sequence[int]) -> list[Article]:
        return [
            _article(x)
            for x in _list(await self.call("articles", "get_many", {"ids": list(ids)}, reads=True))
        ]

    async def sections(self) -> list[Section]:
        return [_section(s) for s in _list(await self.call("sections", "list", reads=True))]


def _list(value: Any) -> list[Any]:
    """A list, also when the method's format is `json_object` (a list sent as {"0": ..., ...})."""
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return value
    raise ProtocolError(SOURCE, "Eqsash answered something else where a list was expected")


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError as exc:
        raise ProtocolError(SOURCE, f"Eqsash sent an unreadable date {value!r}") from exc


def _typed(value: Any, model: type[T], what: str) -> T:
    return typed(SOURCE, value, model, what)


def _user(raw: Any) -> EqsashUser:
    u = _typed(raw, a.UserItem, "a user")
    return EqsashUser(
        id=u.id,
        login=u.login,
        name=u.name or u.login,
        email=u.email or None,
        roles=tuple(u.roles),
        registered_at=_time(u.registered),
    )


def _article(raw: Any) -> Article:
    x = _typed(raw, a.ArticleItem, "an article")
    return Article(
        id=x.id,
        title=x.title,
        slug=x.slug,
        summary=x.summary or None,
        body_html=x.body or None,
        section_id=x.section_id or None,
        author_id=x.author_id or None,
        published_at=_time(x.published),
    )


def _section(raw: Any) -> Section:
    x = _typed(raw, a.SectionItem, "a section")
    return Section(id=x.id, name=x.name, slug=x.slug)
