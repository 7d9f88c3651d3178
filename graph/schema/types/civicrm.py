"""CiviCRM in the graph: Contact, CivicrmGroup, and the input for writing contacts."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterable
from datetime import date, datetime
from enum import Enum
from typing import Annotated

import strawberry

from connectors import civicrm
from connectors.civicrm import custom as civicrm_custom
from connectors.errors import NotFound
from graph.schema.errors import UserInputError
from graph.schema.ids import GlobalId
from graph.schema.pagination import Connection, connection
from graph.schema.selection import asks_for, node_paths
from graph.schema.types.common import (
    LAZY_PERSON,
    Account,
    Group,
    GroupSource,
    Info,
    PersonRoot,
    SourceTypes,
    by_loader,
    global_id,
    number,
    own_account_field,
    page_window,
    person_account_field,
)
from graph.schema.types.source import Source
from graph.sources import CIVICRM

__all__ = [
    "TYPES",
    "Address",
    "CivicrmGroup",
    "CivicrmGroupInput",
    "CivicrmMutation",
    "CivicrmPersonAccount",
    "CivicrmQuery",
    "CivicrmViewer",
    "Contact",
    "ContactFilter",
    "ContactInput",
    "ContactRelationship",
    "ContactType",
    "CustomFieldValue",
    "CustomFieldValueInput",
    "RelationshipType",
    "contact_fields",
]

SOURCE = Source("civicrm")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")


@strawberry.enum
class ContactType(Enum):
    INDIVIDUAL = "Individual"
    ORGANIZATION = "Organization"
    HOUSEHOLD = "Household"


@strawberry.type
class Address:
    street: str | None
    city: str | None
    postal_code: str | None
    country: str | None


@strawberry.type(description="A person, organisation or household in CiviCRM.")
class Contact(Account):
    upstream_id: str
    contact_type: ContactType
    sort_name: str
    first_name: str | None
    last_name: str | None
    organization_name: str | None
    phone: str | None
    address: Address | None
    created_at: datetime | None
    modified_at: datetime | None
    data: strawberry.Private[civicrm.Contact]

    @classmethod
    def of(cls, contact: civicrm.Contact) -> Contact:
        has_address = any((contact.street, contact.city, contact.postal_code, contact.country))
        return cls(
            id=global_id(SOURCE, "Contact", str(contact.id)),
            source=SOURCE,
            upstream_id=str(contact.id),
            username=None,
            display_name=contact.display_name,
            contact_type=ContactType(contact.contact_type),
            sort_name=contact.sort_name,
            first_name=contact.first_name,
            last_name=contact.last_name,
            organization_name=contact.organization_name or contact.household_name,
            phone=contact.phone,
            address=Address(
                street=contact.street,
                city=contact.city,
                postal_code=contact.postal_code,
                country=contact.country,
            )
            if has_address
            else None,
            created_at=contact.created_at,
            modified_at=contact.modified_at,
            data=contact,
        )

    async def account_email(self, info: Info) -> str | None:
        return self.data.email

    @strawberry.field
    async def groups(self, info: Info) -> list[CivicrmGroup] | None:
        loaders = info.context.loaders(CIVICRM)
        group_ids = await loaders.groups_of_contact.load(self.data.id)
        return [CivicrmGroup.of(g) for g in await loaders.groups.load_many(group_ids)]

    @strawberry.field(
        description="The contact's relationships, whichever side of them it is on (one "
        "CiviCRM call for a page of contacts, and one for the types' labels)."
    )
    async def relationships(
        self, info: Info, active: bool | None = None
    ) -> list[ContactRelationship] | None:
        loaders = info.context.loaders(CIVICRM)
        found, types = await asyncio.gather(
            loaders.relationships_of_contact.load(self.data.id), loaders.relationship_types()
        )
        return [
            ContactRelationship.of(r, types[r.type_id], self.data.id)
            for r in found
            if r.type_id in types and (active is None or r.is_active == active)
        ]

    @strawberry.field(
        description="The custom fields of this kind of contact that the caller may see (CiviCRM "
        'shows them to users with "access all custom data"; to others, none), each typed as '
        "CiviCRM says; `value` null where empty."
    )
    async def custom_fields(self, info: Info) -> list[CustomFieldValue] | None:
        loaders = info.context.loaders(CIVICRM)
        fields = [
            f
            for f in await loaders.custom_fields()
            if civicrm_custom.applies_to(f, self.data.contact_type)
        ]
        if not fields:
            return []
        values = await loaders.custom_values.load(self.data.id)
        return [CustomFieldValue.of(f, values[f.key]) for f in fields if f.key in values]


@strawberry.type(description="A kind of relationship, named from each side.")
class RelationshipType:
    upstream_id: str
    label_a_to_b: str = strawberry.field(description='Contact A is this to B: "Employee of".')
    label_b_to_a: str = strawberry.field(description='Contact B is this to A: "Employer of".')
    name_a_to_b: str
    name_b_to_a: str
    is_active: bool


@strawberry.type(description="A CiviCRM relationship, seen from one of its two contacts.")
class ContactRelationship:
    upstream_id: str
    label: str = strawberry.field(
        description="What this contact is to the other, in the type's words for its side "
        '("Employee of" for the employee, "Employer of" for the employer).'
    )
    type: RelationshipType
    is_contact_a: bool = strawberry.field(
        description="Whether this contact is contact A of the relationship (the type's "
        "labelAToB is its side)."
    )
    is_active: bool
    start_date: date | None
    end_date: date | None
    data: strawberry.Private[civicrm.Relationship]
    other_id: strawberry.Private[int]

    @classmethod
    def of(
        cls, relationship: civicrm.Relationship, kind: civicrm.RelationshipType, contact_id: int
    ) -> ContactRelationship:
        is_a = relationship.contact_id_a == contact_id
        return cls(
            upstream_id=str(relationship.id),
            label=kind.label_a_b if is_a else kind.label_b_a,
            type=RelationshipType(
                upstream_id=str(kind.id),
                label_a_to_b=kind.label_a_b,
                label_b_to_a=kind.label_b_a,
                name_a_to_b=kind.name_a_b,
                name_b_to_a=kind.name_b_a,
                is_active=kind.is_active,
            ),
            is_contact_a=is_a,
            is_active=relationship.is_active,
            start_date=_date(relationship.start_date),
            end_date=_date(relationship.end_date),
            data=relationship,
            other_id=relationship.contact_id_b if is_a else relationship.contact_id_a,
        )

    @strawberry.field(description="The contact at the other end, where the caller may see it.")
    async def other_contact(self, info: Info) -> Contact | None:
        contacts = info.context.loaders(CIVICRM).contacts
        found = await asyncio.gather(contacts.load(self.other_id), return_exceptions=True)
        if isinstance(found[0], NotFound):
            return None
        if isinstance(found[0], BaseException):
            raise found[0]
        return Contact.of(found[0])


@strawberry.enum(description="What kind of value a custom field holds, as CiviCRM says.")
class CustomFieldType(Enum):
    STRING = "string"
    NUMBER = "number"
    DATE = "date"
    BOOLEAN = "boolean"
    OPTION = "option"
    """One (or, where the field allows, several) of the field's options."""


@strawberry.type(description="One of a custom field's options: the value stored, its label.")
class CustomFieldOption:
    value: str
    label: str


@strawberry.type(description="A custom field of a contact, with its value.")
class CustomFieldValue:
    key: str = strawberry.field(
        description="The field's key in CiviCRM's API (`custom_3`): what updateContact's "
        "customFields take."
    )
    name: str
    label: str
    group: str = strawberry.field(description="The title of the field's custom field set.")
    type: CustomFieldType
    data_type: str = strawberry.field(description="CiviCRM's own data type (String, Int...).")
    value: str | None = strawberry.field(
        description="As CiviCRM keeps it (an option's value, a date as `2024-03-01 00:00:00`, "
        "yes/no as 1/0); null where empty."
    )
    number: float | None
    date: date | None
    boolean: bool | None
    options: list[CustomFieldOption] | None = strawberry.field(
        description="The chosen options, with their labels (an option field only)."
    )
    choices: list[CustomFieldOption] | None = strawberry.field(
        description="Every option the field offers (an option field only)."
    )

    @classmethod
    def of(cls, field: civicrm.CustomField, raw: str) -> CustomFieldValue:
        kind = _kind(field)
        value = raw if raw != "" else None
        chosen = (
            civicrm_custom.options_of(field, raw)
            if value and kind is CustomFieldType.OPTION
            else []
        )
        return cls(
            key=field.key,
            name=field.name,
            label=field.label,
            group=field.group,
            type=kind,
            data_type=field.data_type,
            value=value,
            number=float(raw) if value and kind is CustomFieldType.NUMBER else None,
            date=_date(raw) if kind is CustomFieldType.DATE else None,
            boolean=(raw == "1") if value and kind is CustomFieldType.BOOLEAN else None,
            options=[CustomFieldOption(value=o.value, label=o.label) for o in chosen]
            if kind is CustomFieldType.OPTION
            else None,
            choices=[CustomFieldOption(value=o.value, label=o.label) for o in field.options]
            if kind is CustomFieldType.OPTION
            else None,
        )

    @strawberry.field(description="The first chosen option, with its label (an option field).")
    def option(self) -> CustomFieldOption | None:
        return self.options[0] if self.options else None


def _kind(field: civicrm.CustomField) -> CustomFieldType:
    if field.data_type == "Boolean":
        return CustomFieldType.BOOLEAN
    if field.options:
        return CustomFieldType.OPTION
    if field.data_type in ("Int", "Float", "Money"):
        return CustomFieldType.NUMBER
    if field.data_type == "Date":
        return CustomFieldType.DATE
    return CustomFieldType.STRING


def _date(value: str | None) -> date | None:
    """CiviCRM's dates (`2023-04-01`, or with a time): the day."""
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


GROUP_TYPES = {"1": "Access Control", "2": "Mailing List"}
"""CiviCRM's `group_type` option values, the same on every site."""


@strawberry.type(description="A CiviCRM group (a mailing list, a committee...).")
class CivicrmGroup(Group):
    upstream_id: str
    is_active: bool
    group_types: list[str] = strawberry.field(
        description="What the group is for: Access Control, Mailing List, or the option value "
        "of a type this gateway does not name."
    )
    group_type: str | None = strawberry.field(
        deprecation_reason="A group has several types: use groupTypes.",
        description="The group's types, joined by commas.",
    )
    visibility: str | None = strawberry.field(
        default=None,
        description='Who sees the group: "User and User Admin Only" or "Public Pages".',
    )
    data: strawberry.Private[civicrm.Group]

    @classmethod
    def of(cls, group: civicrm.Group) -> CivicrmGroup:
        return cls(
            id=global_id(SOURCE, "CivicrmGroup", str(group.id)),
            source=SOURCE,
            upstream_id=str(group.id),
            name=group.title,
            description=group.description,
            is_active=group.is_active,
            group_types=[GROUP_TYPES.get(t, t) for t in group.group_types],
            group_type=", ".join(GROUP_TYPES.get(t, t) for t in group.group_types) or None,
            visibility=group.visibility,
            data=group,
        )

    @strawberry.field(description="Members the caller may see.")
    async def member_count(self, info: Info) -> int | None:
        return len(await info.context.loaders(CIVICRM).members_of_group.load(self.data.id))

    @strawberry.field
    async def members(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Account] | None:
        loaders = info.context.loaders(CIVICRM)
        member_ids = await loaders.members_of_group.load(self.data.id)
        at = page_window(info, first, after)
        page = await loaders.contacts.load_many(member_ids[at.offset : at.offset + at.limit])
        return connection(
            page,
            at,
            has_next=at.offset + at.limit < len(member_ids),
            node=Contact.of,
            total_count=len(member_ids),
        )


@strawberry.input(description="Fields of a contact; on update, only those given are written.")
class ContactInput:
    contact_type: ContactType | None = None
    first_name: str | None = None
    last_name: str | None = None
    organization_name: str | None = None
    household_name: str | None = None
    email: str | None = None
    phone: str | None = None
    custom_fields: list[CustomFieldValueInput] | None = strawberry.field(
        default=None,
        description="Custom fields to write (updateContact only), each by its key "
        "(`custom_3`) or name; a null or empty value clears the field.",
    )


@strawberry.input(description="A value for one custom field.")
class CustomFieldValueInput:
    key: str = strawberry.field(description="The field's key (`custom_3`) or its name.")
    value: str | None = strawberry.field(
        description="A number, a date (YYYY-MM-DD), true or false, or an option's value or "
        "label (several comma-separated where the field takes several), as the field's type "
        "is; null clears it."
    )


@strawberry.input(
    description="Contacts that match all the fields given, each matched as CiviCRM does: "
    "whole and in any case (e-mail, names, city), the country by its name."
)
class ContactFilter:
    email: str | None = None
    contact_type: ContactType | None = None
    first_name: str | None = None
    last_name: str | None = None
    city: str | None = None
    country: str | None = strawberry.field(
        default=None, description='The country\'s name in CiviCRM ("France").'
    )
    group_id: strawberry.ID | None = strawberry.field(
        default=None, description="A CivicrmGroup's id; smart groups too."
    )
    modified_since: datetime | None = strawberry.field(
        default=None,
        description="Changed at or after this moment. CiviCRM does not count a change of "
        "custom fields alone as one (recorded on 5.77).",
    )


def contact_filter(given: ContactFilter | None) -> civicrm.ContactFilter | None:
    if given is None:
        return None
    texts = {
        name: value.strip() or None
        for name, value in vars(given).items()
        if isinstance(value, str) and name != "group_id"
    }
    group = (
        GlobalId.expect_int(given.group_id, "civicrm", "CivicrmGroup") if given.group_id else None
    )
    return civicrm.ContactFilter(
        **texts,
        contact_type=given.contact_type.value if given.contact_type else None,
        group_id=group,
        modified_since=given.modified_since,
    )


CONTACT_NEEDS: dict[str, tuple[str, ...]] = {
    "displayName": ("display_name",),
    "sortName": ("sort_name",),
    "firstName": ("first_name",),
    "lastName": ("last_name",),
    "organizationName": ("organization_name", "household_name"),
    "phone": ("phone",),
    "email": ("email",),
    "person": ("email",),
    "address": ("street_address", "city", "postal_code", "country"),
    "createdAt": ("created_date",),
    "modifiedAt": ("modified_date",),
}
"""The CiviCRM fields each Contact field is read from."""
CONTACT_FREE = frozenset(
    {"id", "upstreamId", "source", "username", "contactType", "__typename", "groups",
     "relationships", "customFields"}
)  # fmt: skip
"""Contact fields that need no field of the contact beyond its id and type."""


def returned_fields(paths: Iterable[str]) -> tuple[str, ...] | None:
    """The CiviCRM fields a selection of Contact fields needs; None (all of them) where it
    selects a field this list does not know."""
    asked = ["contact_type", "display_name"]
    for path in paths:
        head = path.partition(".")[0]
        if head in CONTACT_FREE:
            continue
        if head not in CONTACT_NEEDS:
            return None
        asked += CONTACT_NEEDS[head]
    return tuple(dict.fromkeys(asked))


def contact_fields(given: ContactInput, *, creating: bool) -> civicrm.ContactFields:
    """Checked before any upstream call, so nothing is half-written."""
    texts = {
        name: value.strip()
        for name, value in vars(given).items()
        if isinstance(value, str) and name != "contact_type"
    }
    kind = given.contact_type
    if creating and given.custom_fields:
        raise UserInputError(
            "customFields: set them with updateContact once the contact exists",
            field="customFields",
        )
    if texts.get("email") and not EMAIL.fullmatch(texts["email"]):
        raise UserInputError(f"email: {texts['email']!r} is not an e-mail address", field="email")
    if creating:
        if kind is None:
            raise UserInputError("contactType: needed to create a contact", field="contactType")
        needed = NAMES_NEEDED[kind]
        if not any(texts.get(name) for name in needed):
            names = " or ".join(_camel(n) for n in needed)
            raise UserInputError(
                f"{names}: needed for {_a(kind.value)} contact", field=_camel(needed[0])
            )
    elif kind is not None:
        raise UserInputError(
            "contactType: CiviCRM does not change a contact's type", field="contactType"
        )
    elif not texts and not given.custom_fields:
        raise UserInputError("input: give at least one field to change", field="input")
    return civicrm.ContactFields(contact_type=kind.value if kind else None, **texts)


NAMES_NEEDED = {
    ContactType.INDIVIDUAL: ("first_name", "last_name"),
    ContactType.ORGANIZATION: ("organization_name",),
    ContactType.HOUSEHOLD: ("household_name",),
}


def _a(word: str) -> str:
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@strawberry.type
class CivicrmViewer:
    """`Viewer.civicrm`."""

    civicrm: Contact | None = own_account_field(
        "civicrm",
        Contact,
        "Null when the request carries no CiviCRM api key, or the site speaks only "
        "the 3.2-era API (which cannot say whose key it is).",
    )


@strawberry.type
class CivicrmPersonAccount:
    """`Person.contact`."""

    contact: Contact | None = person_account_field(
        "civicrm", Contact, "The CiviCRM contact, where the caller may see it."
    )


@strawberry.type
class CivicrmQuery:
    @strawberry.field(
        description="CiviCRM contacts the caller may see, by name or group. `totalCount` is "
        "one more CiviCRM call (getcount), made only where it is asked for; null on a site "
        "spoken to in the q= style (API v2 counts nothing)."
    )
    async def contacts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        search: str | None = None,
        group_id: strawberry.ID | None = None,
        where: Annotated[
            ContactFilter | None,
            strawberry.argument(
                name="filter",
                description="Only contacts that match every field given (with search and "
                "groupId, if given, too).",
            ),
        ] = None,
    ) -> Connection[Contact] | None:
        at = page_window(info, first, after)
        group = GlobalId.expect_int(group_id, "civicrm", "CivicrmGroup") if group_id else None
        matching = contact_filter(where)
        site = info.context.site(CIVICRM)
        loaders = info.context.loaders(CIVICRM)
        paths = node_paths(info.selected_fields, connection=True)
        returned = returned_fields(paths)
        custom = await loaders.custom_fields() if "customFields" in paths else []
        found, total = await asyncio.gather(
            loaders.contact_list(
                search=search,
                group_id=group,
                where=matching,
                returned=returned,
                custom=custom,
                limit=at.limit + 1,
                offset=at.offset,
            ),
            counted(
                info,
                lambda: site.contact_count(search=search, group_id=group, where=matching),
            ),
        )
        return connection(
            found[: at.limit],
            at,
            has_next=len(found) > at.limit,
            node=Contact.of,
            total_count=total,
        )

    @strawberry.field
    async def contact(self, info: Info, id: strawberry.ID) -> Contact | None:
        contact_id = GlobalId.expect_int(id, "civicrm", "Contact")
        return Contact.of(await info.context.loaders(CIVICRM).contacts.load(contact_id))

    @strawberry.field(
        description="The people in the CRM (CiviCRM individuals with an e-mail), "
        "each with their accounts elsewhere. `totalCount` counts those individuals "
        "(CiviCRM's getcount, asked only where it is selected; null in the q= style): two "
        "that share an address count twice, though they are one person.",
        # A lazy type is a value: Strawberry takes it as a type argument, mypy does not.
        graphql_type=Connection[LAZY_PERSON] | None,  # type: ignore[valid-type]
    )
    async def people(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        search: str | None = None,
    ) -> Connection[PersonRoot] | None:
        at = page_window(info, first, after)
        site = info.context.site(CIVICRM)
        people = info.context.people_loaders
        found, total = await asyncio.gather(
            people.listed(
                "civicrm",
                site.contacts(
                    search=search,
                    contact_type="Individual",
                    with_email=True,
                    limit=at.limit + 1,
                    offset=at.offset,
                ),
            ),
            counted(
                info,
                lambda: site.contact_count(
                    search=search, contact_type="Individual", with_email=True
                ),
            ),
        )
        # One person per address: contacts that share it are one person's accounts.
        firsts = {people.key(c.email): c for c in reversed(found[: at.limit]) if c.email}
        return connection(
            [c for c in found[: at.limit] if c.email and firsts[people.key(c.email)] is c],
            at,
            has_next=len(found) > at.limit,
            node=lambda contact: PersonRoot.of(info, contact.email or ""),
            total_count=total,
        )


async def counted(info: Info, count: Callable[[], Awaitable[int | None]]) -> int | None:
    """A list's `totalCount`, asked of CiviCRM (`getcount`) only where the query selects it."""
    return await count() if asks_for(info.selected_fields, "totalCount") else None


@strawberry.enum(description="What createContact does where CiviCRM's duplicate rule matches.")
class OnDuplicate(Enum):
    ERROR = "error"
    """Create nothing, and answer CONFLICT naming the matching contacts."""
    RETURN_EXISTING = "existing"
    """Create nothing, and answer the first matching contact the caller may see."""
    CREATE = "create"
    """Create another contact all the same (no duplicate check)."""


@strawberry.type
class CivicrmMutation:
    @strawberry.mutation(
        description="Create a CiviCRM contact as the caller: the contact with its e-mail and "
        "phone, or nothing. CiviCRM's duplicate rule for the contact type (the site's default "
        "rule, on 5.77 the e-mail for individuals, the name or e-mail for organisations and "
        "households) is checked first, as onDuplicate says."
    )
    async def create_contact(
        self, info: Info, input: ContactInput, on_duplicate: OnDuplicate = OnDuplicate.ERROR
    ) -> Contact | None:
        fields = contact_fields(input, creating=True)
        # The connector reads the contact back and fails where it did not save what was sent.
        created = await info.context.loaders(CIVICRM).create_contact(
            fields, on_duplicate=on_duplicate.value
        )
        return Contact.of(created)

    @strawberry.mutation(
        description="Change the given fields of a CiviCRM contact, and no others: all of them "
        "or none. Writes to one contact go one at a time through a gateway process; a change "
        "someone else made meanwhile is answered CONFLICT."
    )
    async def update_contact(
        self, info: Info, id: strawberry.ID, input: ContactInput
    ) -> Contact | None:
        contact_id = GlobalId.expect_int(id, "civicrm", "Contact")
        fields = contact_fields(input, creating=False)
        custom = await _custom_values(info, input.custom_fields or [])
        updated = await info.context.loaders(CIVICRM).update_contact(contact_id, fields, custom)
        return Contact.of(updated)

    @strawberry.mutation(
        description='Create a CiviCRM group as the caller (CiviCRM asks for "edit groups"); '
        "a title another group has is CONFLICT."
    )
    async def create_group(self, info: Info, input: CivicrmGroupInput) -> CivicrmGroup | None:
        title = input.title.strip()
        if not title:
            raise UserInputError("title: a group needs a title", field="title")
        group = await info.context.loaders(CIVICRM).create_group(
            title,
            (input.description or "").strip(),
            group_types=[t.value for t in input.group_types or ()],
            visibility=input.visibility.value if input.visibility else None,
        )
        return CivicrmGroup.of(group)

    @strawberry.mutation(description="Add a contact to a CiviCRM group; returns the group.")
    async def add_contact_to_group(
        self, info: Info, contact_id: strawberry.ID, group_id: strawberry.ID
    ) -> CivicrmGroup | None:
        contact = GlobalId.expect_int(contact_id, "civicrm", "Contact")
        group = GlobalId.expect_int(group_id, "civicrm", "CivicrmGroup")
        loaders = info.context.loaders(CIVICRM)
        await loaders.add_to_group(group, contact)
        return CivicrmGroup.of(await loaders.groups.load(group))

    @strawberry.mutation(
        description="Take a contact out of a CiviCRM group, as CiviCRM does (the membership "
        "is kept as Removed, with its history); returns the group."
    )
    async def remove_contact_from_group(
        self, info: Info, contact_id: strawberry.ID, group_id: strawberry.ID
    ) -> CivicrmGroup | None:
        contact = GlobalId.expect_int(contact_id, "civicrm", "Contact")
        group = GlobalId.expect_int(group_id, "civicrm", "CivicrmGroup")
        loaders = info.context.loaders(CIVICRM)
        await loaders.remove_from_group(group, contact)
        return CivicrmGroup.of(await loaders.groups.load(group))


async def _custom_values(
    info: Info, given: list[CustomFieldValueInput]
) -> list[tuple[civicrm.CustomField, object]]:
    """The custom fields to write, each found among those the caller may see and its value
    checked against the field's type, before anything is written."""
    if not given:
        return []
    fields = await info.context.loaders(CIVICRM).custom_fields()
    by_key = {f.name: f for f in fields} | {f.key: f for f in fields}
    found: list[tuple[civicrm.CustomField, object]] = []
    for item in given:
        field = by_key.get(item.key.strip())
        if field is None:
            raise UserInputError(
                f"customFields: CiviCRM shows this caller no custom field {item.key!r}",
                field="customFields",
            )
        try:
            found.append((field, civicrm_custom.written(field, item.value)))
        except civicrm.InvalidValue as error:
            raise UserInputError(f"customFields: {error}", field="customFields") from error
    return found


@strawberry.enum(description="What a CiviCRM group is for (CiviCRM's group_type options).")
class CivicrmGroupType(Enum):
    ACCESS_CONTROL = "1"
    MAILING_LIST = "2"


@strawberry.enum(description="Who sees a CiviCRM group.")
class CivicrmGroupVisibility(Enum):
    USER_AND_USER_ADMIN_ONLY = "User and User Admin Only"
    PUBLIC_PAGES = "Public Pages"


@strawberry.input(description="A new CiviCRM group.")
class CivicrmGroupInput:
    title: str
    description: str | None = None
    group_types: list[CivicrmGroupType] | None = None
    visibility: CivicrmGroupVisibility | None = strawberry.field(
        default=None, description="CiviCRM's default: User and User Admin Only."
    )


async def _groups(info: Info, search: str | None) -> list[Group]:
    return [
        CivicrmGroup.of(group)
        for group in await info.context.loaders(CIVICRM).group_list(search=search)
    ]


async def _groups_of_person(info: Info, email: str) -> list[Group]:
    contact = await info.context.people_loaders.of("civicrm").load(email)
    if contact is None:
        return []
    loaders = info.context.loaders(CIVICRM)
    group_ids = await loaders.groups_of_contact.load(contact.id)
    return [CivicrmGroup.of(g) for g in await loaders.groups.load_many(group_ids)]


TYPES = SourceTypes(
    account=Contact,
    nodes={
        Contact: by_loader(lambda c: c.loaders(CIVICRM).contacts, Contact.of, number),
        CivicrmGroup: by_loader(lambda c: c.loaders(CIVICRM).groups, CivicrmGroup.of, number),
    },
    groups=GroupSource(
        "CivicrmGroup",
        _groups,
        listed=lambda context: context.has_identity("civicrm"),
        of_person=_groups_of_person,
    ),
)
"""The type of a person's account here, how `Query.node` finds each type by its id, and its part
of `Query.groups`: listed without a source where the caller has a key."""
