"""Eqsash in the graph: EqsashUser, Article, Section."""

from __future__ import annotations

import typing
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from connectors import eqsash
from graph.schema.errors import UserInputError
from graph.schema.pagination import Connection, connection
from graph.schema.types.common import (
    Account,
    Info,
    Node,
    SourceTypes,
    by_loader,
    global_id,
    number,
    own_account_field,
    page_window,
    person_account_field,
)
from graph.schema.types.source import Source
from graph.sources import EQSASH

__all__ = [
    "TYPES",
    "Article",
    "EqsashPersonAccount",
    "EqsashQuery",
    "EqsashUser",
    "EqsashViewer",
    "Section",
    "articles_connection",
]

SOURCE = Source("eqsash")


@strawberry.type(description="A user of the Eqsash site.")
class EqsashUser(Account):
    upstream_id: str
    login: str
    roles: list[str]
    registered_at: datetime | None
    data: strawberry.Private[eqsash.EqsashUser]

    @classmethod
    def of(cls, user: eqsash.EqsashUser) -> EqsashUser:
        return cls(
            id=global_id(SOURCE, "EqsashUser", str(user.id)),
            source=SOURCE,
            upstream_id=str(user.id),
            username=user.login,
            display_name=user.name,
            login=user.login,
            roles=list(user.roles),
            registered_at=user.registered_at,
            data=user,
        )

    async def account_email(self, info: Info) -> str | None:
        return self.data.email


@strawberry.type(description="A section of the Eqsash site.")
class Section(Node):
    source: Source
    upstream_id: str
    name: str
    slug: str
    data: strawberry.Private[eqsash.Section]

    @classmethod
    def of(cls, section: eqsash.Section) -> Section:
        return cls(
            id=global_id(SOURCE, "Section", str(section.id)),
            source=SOURCE,
            upstream_id=str(section.id),
            name=section.name,
            slug=section.slug,
            data=section,
        )

    @strawberry.field(description="Its articles, newest first.")
    async def articles(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[Article, strawberry.lazy(__name__)]] | None:
        return await articles_connection(info, first, after, section=self.data.id)


@strawberry.type(description="An article published on the Eqsash site.")
class Article(Node):
    source: Source
    upstream_id: str
    title: str
    slug: str
    summary: str | None
    body_html: str | None
    published_at: datetime | None
    data: strawberry.Private[eqsash.Article]

    @classmethod
    def of(cls, article: eqsash.Article) -> Article:
        return cls(
            id=global_id(SOURCE, "Article", str(article.id)),
            source=SOURCE,
            upstream_id=str(article.id),
            title=article.title,
            slug=article.slug,
            summary=article.summary,
            body_html=article.body_html,
            published_at=article.published_at,
            data=article,
        )

    @strawberry.field
    async def author(self, info: Info) -> EqsashUser | None:
        if self.data.author_id is None:
            return None
        return EqsashUser.of(await info.context.loaders(EQSASH).users.load(self.data.author_id))

    @strawberry.field
    async def section(self, info: Info) -> Section | None:
        if self.data.section_id is None:
            return None
        return Section.of(await info.context.loaders(EQSASH).sections.load(self.data.section_id))


async def articles_connection(
    info: Info,
    first: int | None,
    after: str | None,
    *,
    search: str | None = None,
    section: int | None = None,
) -> Connection[Article]:
    at = page_window(info, first, after)
    total, found = await info.context.loaders(EQSASH).article_list(
        limit=at.limit, offset=at.offset, search=search, section=section
    )
    return connection(
        found, at, has_next=at.offset + len(found) < total, node=Article.of, total_count=total
    )


@strawberry.type
class EqsashViewer:
    """`Viewer.eqsash`."""

    eqsash: EqsashUser | None = own_account_field(
        "eqsash", EqsashUser, "Null when the request carries no Eqsash token."
    )


@strawberry.type
class EqsashPersonAccount:
    """`Person.eqsashUser`."""

    eqsash_user: EqsashUser | None = person_account_field(
        "eqsash", EqsashUser, "The Eqsash account, where the caller may find it."
    )


@strawberry.type
class EqsashQuery:
    @strawberry.field(description="Eqsash articles, newest first.")
    async def articles(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        search: str | None = None,
    ) -> Connection[Article] | None:
        return await articles_connection(info, first, after, search=search)

    @strawberry.field(
        description="Call an Eqsash method the graph does not type, as the caller. Only the "
        "`module.method` pairs the operator allowed (`[sources.eqsash] callable`) are accepted."
    )
    async def eqsash_call(
        self, info: Info, module: str, method: str, data: JSON | None = None
    ) -> JSON | None:
        settings = info.context.settings.sources.of(EQSASH)
        if settings is None or f"{module}.{method}" not in settings.callable:
            raise UserInputError(
                f"{module}.{method} is not on this gateway's list of callable Eqsash methods",
                field="method",
            )
        if data is not None and not isinstance(data, dict):
            raise UserInputError("data: must be a JSON object", field="data")
        return typing.cast(JSON, await info.context.site(EQSASH).call(module, method, data))


TYPES = SourceTypes(
    account=EqsashUser,
    nodes={
        Article: by_loader(lambda c: c.loaders(EQSASH).articles, Article.of, number),
        EqsashUser: by_loader(lambda c: c.loaders(EQSASH).users, EqsashUser.of, number),
        Section: by_loader(lambda c: c.loaders(EQSASH).sections, Section.of, number),
    },
)
"""The type of a person's account here, and how `Query.node` finds each type by its id (there
are no groups)."""
