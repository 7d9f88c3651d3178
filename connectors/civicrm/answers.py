"""What CiviCRM's API answers, record by record, as the connector reads them.

API v3 sends every value as text (`"7"`, `""` for empty) and API v2 and the XML view likewise;
`typed` reads numbers from text. A contact is named by `contact_id` or `id` (one of them, as
CiviCRM 5 sends both and 3.2 only the first).
"""

from __future__ import annotations

from typing import Any

import msgspec

from ..answers import Answer

__all__ = [
    "ContactBefore",
    "ContactGroups",
    "ContactRecord",
    "CustomFieldRecord",
    "GroupRecord",
    "MembershipRecord",
    "OptionValueRecord",
    "Record",
    "RelationshipRecord",
    "RelationshipTypeRecord",
]


class ContactRecord(Answer):
    contact_id: int | None = None
    id: int | None = None
    contact_type: str = ""
    display_name: str = ""
    sort_name: str = ""
    first_name: str | None = None
    last_name: str | None = None
    organization_name: str | None = None
    household_name: str | None = None
    email: str | None = None
    phone: str | None = None
    street_address: str | None = None
    city: str | None = None
    postal_code: str | None = None
    country: str | None = None
    created_date: str | None = None
    modified_date: str | None = None


class ContactBefore(Answer):
    """A contact as it is before a write: its names, and the ids of its primary e-mail and
    phone (`email_id`, `phone_id`: CiviCRM 5 sends them beside `email` and `phone`; "" for
    none)."""

    first_name: str | None = None
    last_name: str | None = None
    organization_name: str | None = None
    household_name: str | None = None
    email: str | None = None
    phone: str | None = None
    email_id: str | None = None
    phone_id: str | None = None


class ContactGroups(Answer):
    """`Contact.get` with `return: ["group"]`: the ids of the groups a contact is Added to;
    `groups` absent where the site ignored `return: group` (3.x, 4.x)."""

    contact_id: int | None = None
    id: int | None = None
    groups: str | None = None


class GroupRecord(Answer):
    id: int
    name: str = ""
    title: str = ""
    description: str | None = None
    is_active: str = "1"
    group_type: Any = None
    """A list of option values in CiviCRM 5, a separated string in 3.2, absent for none."""
    visibility: str | None = None


class MembershipRecord(Answer):
    """A `GroupContact.get` row by group (CiviCRM 5's rows for one contact lack `contact_id`)."""

    group_id: int
    contact_id: int | None = None


class Record(Answer):
    """Any record that has an id (an Email, a Phone)."""

    id: int


class RelationshipTypeRecord(Answer):
    id: int
    name_a_b: str = ""
    label_a_b: str = ""
    name_b_a: str = ""
    label_b_a: str = ""
    is_active: str = "1"


class RelationshipRecord(Answer):
    """A `Relationship.get` row: `start_date` and `end_date` absent where not set."""

    id: int
    relationship_type_id: int
    contact_id_a: int
    contact_id_b: int
    is_active: str = "1"
    start_date: str | None = None
    end_date: str | None = None


class CustomFieldRecord(Answer):
    """A `CustomField.get` row with its group joined (`custom_group_id.title`, `.extends`)."""

    id: int
    name: str
    label: str
    data_type: str
    html_type: str = "Text"
    option_group_id: int | None = None
    serialize: str = "0"
    group_title: str = msgspec.field(default="", name="custom_group_id.title")
    extends: str = msgspec.field(default="Contact", name="custom_group_id.extends")


class OptionValueRecord(Answer):
    option_group_id: int
    value: str
    label: str = ""
