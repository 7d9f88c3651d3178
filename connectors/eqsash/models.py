"""What the Eqsash connector returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["Article", "EqsashUser", "Section", "Token"]


@dataclass(frozen=True)
class EqsashUser:
    id: int
    login: str
    name: str
    email: str | None
    roles: tuple[str, ...]
    registered_at: datetime | None


@dataclass(frozen=True)
class Article:
    id: int
    title: str
    slug: str
    summary: str | None
    body_html: str | None
    section_id: int | None
    author_id: int | None
    published_at: datetime | None


@dataclass(frozen=True)
class Section:
    id: int
    name: str
    slug: str


@dataclass(frozen=True)
class Token:
    token: str
    user_id: int
    expires_at: datetime | None
