"""Person: one human across systems, joined by e-mail address."""

from __future__ import annotations

import asyncio
from typing import Any

import strawberry

from ..ids import GlobalId
from ..pagination import Connection, connection, sliced
from ..sources import CIVICRM, ELGG, FLARUM, MOODLE
from .civicrm import CivicrmGroup, Contact
from .common import Account, Group, Info, Node, page_window
from .elgg import ElggGroup, ElggUser
from .eqsash import EqsashUser
from .flarum import Discussion, FlarumUser
from .moodle import Course, MoodleUser, courses_connection
from .sources import SOURCE_TYPES

__all__ = ["ACCOUNT_TYPES", "PeopleQuery", "Person"]

ACCOUNT_TYPES: dict[str, Any] = {name: types.ACCOUNT for name, types in SOURCE_TYPES.items()}
"""Each source's account type (`ACCOUNT` in `graph/types/<name>.py`), in the order `accounts`
lists them."""


@strawberry.type(description="One human across systems: the accounts that share an e-mail address.")
class Person(Node):
    email: str = strawberry.field(description="Lower-case and trimmed: how accounts are matched.")

    @classmethod
    def of(cls, info: Info, email: str) -> Person:
        key = info.context.people_loaders.key(email)
        return cls(id=strawberry.ID(GlobalId("legacygraph", "Person", key).encode()), email=key)

    @strawberry.field(description="The forum account, where the caller may find it.")
    async def forum_user(self, info: Info) -> FlarumUser | None:
        found = await info.context.people_loaders.of("flarum").load(self.email)
        return FlarumUser.of(found) if found else None

    @strawberry.field(description="The Moodle account, where the caller may see it.")
    async def moodle_user(self, info: Info) -> MoodleUser | None:
        found = await info.context.people_loaders.of("moodle").load(self.email)
        return MoodleUser.of(found) if found else None

    @strawberry.field(description="The CiviCRM contact, where the caller may see it.")
    async def contact(self, info: Info) -> Contact | None:
        found = await info.context.people_loaders.of("civicrm").load(self.email)
        return Contact.of(found) if found else None

    @strawberry.field(description="The Elgg account, where the caller may find it.")
    async def elgg_user(self, info: Info) -> ElggUser | None:
        found = await info.context.people_loaders.of("elgg").load(self.email)
        return ElggUser.of(found) if found else None

    @strawberry.field(description="The Eqsash account, where the caller may find it.")
    async def eqsash_user(self, info: Info) -> EqsashUser | None:
        found = await info.context.people_loaders.of("eqsash").load(self.email)
        return EqsashUser.of(found) if found else None

    async def find_accounts(self, info: Info) -> list[Account]:
        """The accounts the caller may see; a source that fails is left out here (its own field
        says why)."""
        people = info.context.people_loaders
        found = await asyncio.gather(
            *(people.of(source).load(self.email) for source in ACCOUNT_TYPES),
            return_exceptions=True,
        )
        return [
            ACCOUNT_TYPES[source].of(account)
            for source, account in zip(ACCOUNT_TYPES, found, strict=True)
            if account is not None and not isinstance(account, BaseException)
        ]

    @strawberry.field
    async def accounts(self, info: Info) -> list[Account]:
        return await self.find_accounts(info)

    @strawberry.field(description="The name the accounts give, or the e-mail's local part.")
    async def display_name(self, info: Info) -> str:
        names = [a.display_name for a in await self.find_accounts(info) if a.display_name]
        return names[0] if names else self.email.split("@", 1)[0]

    @strawberry.field(description="Forum discussions this person started.")
    async def discussions(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Discussion] | None:
        user = await info.context.people_loaders.of("flarum").load(self.email)
        at = page_window(info, first, after)
        if user is None:
            return connection([], at, has_next=False, node=Discussion.of, total_count=0)
        page = await info.context.site(FLARUM).discussions(
            offset=at.offset, limit=at.limit, author=user.username, include=("user", "tags")
        )
        info.context.loaders(FLARUM).remember(page.related)
        return connection(page.items, at, has_next=page.has_next, node=Discussion.of)

    @strawberry.field(description="Moodle courses this person is enrolled in.")
    async def courses(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Course] | None:
        user = await info.context.people_loaders.of("moodle").load(self.email)
        found = await info.context.loaders(MOODLE).users_courses.load(user.id) if user else []
        return courses_connection(info, found, first, after)

    @strawberry.field(description="CiviCRM and Elgg groups, each with its source.")
    async def groups(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Group] | None:
        contact, member = await asyncio.gather(
            info.context.people_loaders.of("civicrm").load(self.email),
            info.context.people_loaders.of("elgg").load(self.email),
        )
        found: list[Any] = []
        if contact is not None:
            loaders = info.context.loaders(CIVICRM)
            group_ids = await loaders.groups_of_contact.load(contact.id)
            found += [CivicrmGroup.of(g) for g in await loaders.groups.load_many(group_ids)]
        if member is not None:
            groups = await info.context.loaders(ELGG).user_groups.load(member.username)
            found += [ElggGroup.of(g) for g in groups]
        at = page_window(info, first, after)
        return sliced(found, at, node=lambda group: group)


@strawberry.type
class PeopleQuery:
    @strawberry.field(
        description="The people in the CRM (CiviCRM individuals with an e-mail), "
        "each with their accounts elsewhere."
    )
    async def people(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        search: str | None = None,
    ) -> Connection[Person] | None:
        at = page_window(info, first, after)
        found = await info.context.site(CIVICRM).contacts(
            search=search,
            contact_type="Individual",
            with_email=True,
            limit=at.limit + 1,
            offset=at.offset,
        )
        people = info.context.people_loaders
        for contact in found:
            if contact.email:
                people.of("civicrm").prime(people.key(contact.email), contact)
        return connection(
            [c for c in found[: at.limit] if c.email],
            at,
            has_next=len(found) > at.limit,
            node=lambda contact: Person.of(info, contact.email or ""),
        )
