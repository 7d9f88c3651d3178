"""What the CiviCRM connector returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

__all__ = [
    "Contact",
    "ContactFields",
    "ContactFilter",
    "CustomField",
    "CustomOption",
    "Group",
    "Membership",
    "Relationship",
    "RelationshipType",
]


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
    custom: Mapping[str, str] | None = field(default=None, compare=False)
    """The values of the custom fields asked for, by key (`custom_3`), as CiviCRM keeps them;
    None where none were asked for, a key absent where the caller may not see the field."""


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


@dataclass(frozen=True)
class ContactFilter:
    """What `Contact.get` filters on, each as CiviCRM matches it (recorded on 5.77): e-mail,
    names and city whole and in any case, the country by its name, a group by id (smart groups
    too), and the contacts changed at or after a moment. None: not filtered on."""

    email: str | None = None
    contact_type: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    city: str | None = None
    country: str | None = None
    group_id: int | None = None
    modified_since: datetime | None = None


@dataclass(frozen=True)
class RelationshipType:
    id: int
    name_a_b: str
    label_a_b: str
    name_b_a: str
    label_b_a: str
    is_active: bool


@dataclass(frozen=True)
class Relationship:
    """A relationship between contact A and contact B ("A is Employee of B")."""

    id: int
    type_id: int
    contact_id_a: int
    contact_id_b: int
    is_active: bool
    start_date: str | None
    end_date: str | None
    """CiviCRM's dates as it writes them (`2023-04-01`), None where not set."""


@dataclass(frozen=True)
class CustomOption:
    value: str
    label: str


@dataclass(frozen=True)
class CustomField:
    """A custom field on contacts, as `CustomField.get` describes it: `key` is the name the
    API reads and writes its values under (`custom_3`)."""

    id: int
    name: str
    label: str
    group: str
    extends: str
    """Contact, Individual, Organization or Household: the contacts that have the field."""
    data_type: str
    """CiviCRM's: String, Int, Float, Money, Memo, Date, Boolean, Link, Country, ..."""
    html_type: str
    options: tuple[CustomOption, ...] = ()
    """Where the field takes one of a list of values (Select, Radio, CheckBox)."""
    multiple: bool = False

    @property
    def key(self) -> str:
        return f"custom_{self.id}"
