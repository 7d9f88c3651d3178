"""CiviCRM in the graph: Contact, CivicrmGroup, and the input for writing contacts."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from connectors import civicrm

from ..errors import UserInputError
from ..ids import GlobalId
from ..pagination import Connection, connection
from ..selection import asks_for
from ..sources import CIVICRM

if TYPE_CHECKING:
    from .person import Person

from .common import (
    Account,
    Group,
    GroupSource,
    Info,
    NodeLoader,
    PersonPart,
    Source,
    by_loader,
    global_id,
    number,
    page_window,
)

__all__ = [
    "ACCOUNT",
    "GROUPS",
    "MUTATION",
    "NODES",
    "PERSON",
    "QUERY",
    "VIEWER_DESCRIPTION",
    "Address",
    "CivicrmGroup",
    "Contact",
    "ContactInput",
    "ContactType",
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


def contact_fields(given: ContactInput, *, creating: bool) -> civicrm.ContactFields:
    """Checked before any upstream call, so nothing is half-written."""
    texts = {
        name: value.strip()
        for name, value in vars(given).items()
        if isinstance(value, str) and name != "contact_type"
    }
    kind = given.contact_type
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
    elif not texts:
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


VIEWER_DESCRIPTION = (
    "Null when the request carries no CiviCRM api key, or the site speaks only "
    "the 3.2-era API (which cannot say whose key it is)."
)
"""What `Viewer.civicrm`, the caller's own account here, says of itself."""

ACCOUNT = Contact
"""The type of a person's account on this source."""

NODES: dict[str, NodeLoader] = {
    "Contact": by_loader(lambda c: c.loaders(CIVICRM).contacts, Contact.of, number),
    "CivicrmGroup": by_loader(lambda c: c.loaders(CIVICRM).groups, CivicrmGroup.of, number),
}
"""How `Query.node` finds each type of this source by its id."""


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
    ) -> Connection[Contact] | None:
        at = page_window(info, first, after)
        group = GlobalId.expect_int(group_id, "civicrm", "CivicrmGroup") if group_id else None
        site = info.context.site(CIVICRM)
        found, total = await asyncio.gather(
            site.contacts(search=search, group_id=group, limit=at.limit + 1, offset=at.offset),
            counted(info, lambda: site.contact_count(search=search, group_id=group)),
        )
        info.context.loaders(CIVICRM).remember_contacts(found)
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
        "that share an address count twice, though they are one person."
    )
    async def people(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        search: str | None = None,
    ) -> Connection[Annotated[Person, strawberry.lazy("graph.types.person")]] | None:
        from .person import Person  # the person module needs every source's types

        at = page_window(info, first, after)
        site = info.context.site(CIVICRM)
        found, total = await asyncio.gather(
            site.contacts(
                search=search,
                contact_type="Individual",
                with_email=True,
                limit=at.limit + 1,
                offset=at.offset,
            ),
            counted(
                info,
                lambda: site.contact_count(
                    search=search, contact_type="Individual", with_email=True
                ),
            ),
        )
        people = info.context.people_loaders
        people.remember("civicrm", found)
        # One person per address: contacts that share it are one person's accounts.
        firsts = {people.key(c.email): c for c in reversed(found[: at.limit]) if c.email}
        return connection(
            [c for c in found[: at.limit] if c.email and firsts[people.key(c.email)] is c],
            at,
            has_next=len(found) > at.limit,
            node=lambda contact: Person.of(info, contact.email or ""),
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
        created = await info.context.site(CIVICRM).create_contact(
            fields, on_duplicate=on_duplicate.value
        )
        info.context.loaders(CIVICRM).remember_contacts([created])
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
        updated = await info.context.site(CIVICRM).update_contact(contact_id, fields)
        info.context.loaders(CIVICRM).remember_contacts([updated])
        return Contact.of(updated)

    @strawberry.mutation(description="Add a contact to a CiviCRM group; returns the group.")
    async def add_contact_to_group(
        self, info: Info, contact_id: strawberry.ID, group_id: strawberry.ID
    ) -> CivicrmGroup | None:
        contact = GlobalId.expect_int(contact_id, "civicrm", "Contact")
        group = GlobalId.expect_int(group_id, "civicrm", "CivicrmGroup")
        await info.context.site(CIVICRM).add_to_group(group, [contact])
        return await _changed_group(info, group, contact)

    @strawberry.mutation(
        description="Take a contact out of a CiviCRM group, as CiviCRM does (the membership "
        "is kept as Removed, with its history); returns the group."
    )
    async def remove_contact_from_group(
        self, info: Info, contact_id: strawberry.ID, group_id: strawberry.ID
    ) -> CivicrmGroup | None:
        contact = GlobalId.expect_int(contact_id, "civicrm", "Contact")
        group = GlobalId.expect_int(group_id, "civicrm", "CivicrmGroup")
        await info.context.site(CIVICRM).remove_from_group(group, [contact])
        return await _changed_group(info, group, contact)


async def _changed_group(info: Info, group: int, contact: int) -> CivicrmGroup:
    """The group after a membership changed: what this request had loaded of its members and
    of the contact's groups is forgotten, so `memberCount` and `members` are read again."""
    loaders = info.context.loaders(CIVICRM)
    loaders.members_of_group.clear(group)
    loaders.groups_of_contact.clear(contact)
    return CivicrmGroup.of(await loaders.groups.load(group))


async def _groups(info: Info, search: str | None) -> list[Group]:
    found: list[Group] = []
    for group in await info.context.site(CIVICRM).groups(search=search):
        info.context.loaders(CIVICRM).groups.prime(group.id, group)
        found.append(CivicrmGroup.of(group))
    return found


QUERY: type | None = CivicrmQuery
"""This source's root fields."""
MUTATION: type | None = CivicrmMutation
"""This source's mutations."""


async def _groups_of_person(info: Info, email: str) -> list[Group]:
    contact = await info.context.people_loaders.of("civicrm").load(email)
    if contact is None:
        return []
    loaders = info.context.loaders(CIVICRM)
    group_ids = await loaders.groups_of_contact.load(contact.id)
    return [CivicrmGroup.of(g) for g in await loaders.groups.load_many(group_ids)]


GROUPS: GroupSource | None = GroupSource(
    "CivicrmGroup",
    _groups,
    listed=lambda context: context.has_identity("civicrm"),
    of_person=_groups_of_person,
)
"""This source's part of `Query.groups`: listed without a source where the caller has a key."""
PERSON = PersonPart("contact", "The CiviCRM contact, where the caller may see it.")
"""This source's fields on `Person`."""
