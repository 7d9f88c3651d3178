"""What the CiviCRM connector returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["Contact", "ContactFields", "Group", "Membership"]


@dataclass(frozen=True)
class Contact:
    id: int
    contact_type: str
    display_name: str
    sort_name: str
    first_name: str | None
    last_name: str | None
    organization_name: str | None
    household_name: str | None
    email: str | None
    phone: str | None
    street: str | None
    city: str | None
    postal_code: str | None
    country: str | None
    created_at: datetime | None
    modified_at: datetime | None


@dataclass(frozen=True)
class ContactFields:
    """What a create or update writes; None leaves a field as it is."""

    contact_type: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    organization_name: str | None = None
    household_name: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Group:
    id: int
    name: str
    title: str
    description: str | None
    is_active: bool
    group_types: tuple[str, ...]
    """Option values of `group_type` (1 Access Control, 2 Mailing List on every site)."""
    visibility: str | None


@dataclass(frozen=True)
class Membership:
    group_id: int
    contact_id: int
