"""What the Elgg connector returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["Activity", "ElggGroup", "ElggUser", "MethodInfo", "Token"]


@dataclass(frozen=True)
class ElggUser:
    guid: int | None
    """None where the site's method does not tell (the rest_api plugin's profiles)."""
    username: str
    name: str
    email: str | None
    """Only for the user themself and administrators."""
    avatar_url: str | None
    location: str | None


@dataclass(frozen=True)
class ElggGroup:
    guid: int
    name: str
    description: str | None
    is_open: bool
    member_count: int | None
    owner_guid: int | None
    created_at: datetime | None


@dataclass(frozen=True)
class Activity:
    id: int
    action: str
    subject: ElggUser
    object_guid: int | None
    object_title: str | None
    summary: str
    created_at: datetime | None


@dataclass(frozen=True)
class MethodInfo:
    name: str
    call_method: str
    """GET or POST; `GET,POST` where the site exposes the name with both verbs (Elgg 5)."""
    require_user_auth: bool
    require_api_auth: bool = False
    required: tuple[str, ...] = ()
    """Its required parameters."""

    @property
    def verbs(self) -> tuple[str, ...]:
        return tuple(self.call_method.split(","))


@dataclass(frozen=True)
class Token:
    token: str
    expires_at: datetime
