"""What Eqsash's module methods answer, as the connector reads them (`shared/protocols/eqsash.md`).

A list may come as an object keyed "0", "1", ... (a method whose format is `json_object`); the
connector turns it into a list before these models read the items.
"""

from __future__ import annotations

from typing import Any

from ..answers import Answer

__all__ = ["ArticleItem", "ArticlePage", "Login", "SectionItem", "UserItem"]


class Login(Answer):
    token: str
    user_id: int
    expires: int | None = None


class UserItem(Answer):
    id: int
    login: str
    name: str | None = None
    email: str | None = None
    roles: list[str] = []
    registered: str | None = None


class ArticleItem(Answer):
    id: int
    title: str = ""
    slug: str = ""
    summary: str | None = None
    body: str | None = None
    section_id: int | None = None
    author_id: int | None = None
    published: str | None = None


class ArticlePage(Answer):
    total: int = 0
    items: Any = None
    """The articles, as a list or a `json_object`."""


class SectionItem(Answer):
    id: int
    name: str = ""
    slug: str = ""
