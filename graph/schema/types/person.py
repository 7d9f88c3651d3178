"""Person: one human across systems, joined by e-mail address.

Its fields, in order: its id and e-mail address, every source's account field, `accounts` and
`displayName`, each source's other fields, then `groups` (the sources' parts in the registry's
order, listed in `graph/schema/types/sources.py`). A resolver answers a person as a `PersonRoot`
(`graph/schema/types/common.py`), which every field here resolves from.
"""

from __future__ import annotations

import asyncio
from typing import Any

import strawberry

from graph.schema.pagination import Connection, sliced
from graph.schema.types.common import Account, Group, Info, Node, PersonRoot, page_window
from graph.schema.types.sources import SOURCE_TYPES, SourcesPersonAccounts, SourcesPersonFields

__all__ = ["ACCOUNT_TYPES", "Person", "find_accounts"]

ACCOUNT_TYPES: dict[str, type[Account]] = {
    name: types.account for name, types in SOURCE_TYPES.items()
}
"""Each source's account type (`TYPES.account` in `graph/schema/types/<name>.py`), in the order
`accounts` lists them."""


async def find_accounts(info: Info, person: PersonRoot) -> list[Account]:
    """The accounts the caller may see; a source that fails is left out here (its own field
    says why)."""
    people = info.context.people_loaders
    found = await asyncio.gather(
        *(people.of(source).load(person.email) for source in ACCOUNT_TYPES),
        return_exceptions=True,
    )
    return [
        ACCOUNT_TYPES[source].of(each)
        for source, account in zip(ACCOUNT_TYPES, found, strict=True)
        if account is not None and not isinstance(account, BaseException)
        for each in people.every(source, person.email) or [account]
    ]


async def _accounts(root: PersonRoot, info: Info) -> list[Account]:
    return await find_accounts(info, root)


async def _display_name(root: PersonRoot, info: Info) -> str:
    names = [a.display_name for a in await find_accounts(info, root) if a.display_name]
    return names[0] if names else root.email.split("@", 1)[0]


async def _groups(
    root: PersonRoot, info: Info, first: int | None = None, after: str | None = None
) -> Connection[Group] | None:
    sources = [types.groups for types in SOURCE_TYPES.values() if types.groups is not None]
    found = await asyncio.gather(*(source.of_person(info, root.email) for source in sources))
    at = page_window(info, first, after)
    return sliced([group for part in found for group in part], at, node=lambda group: group)


@strawberry.type
class PersonEmail:
    email: str = strawberry.field(description="Lower-case and trimmed: how accounts are matched.")


@strawberry.type
class PersonAccounts:
    accounts: list[Account] = strawberry.field(resolver=_accounts)
    display_name: str = strawberry.field(
        resolver=_display_name,
        description="The name the accounts give, or the e-mail's local part.",
    )


@strawberry.type
class PersonGroups:
    groups: Connection[Group] | None = strawberry.field(
        resolver=_groups, description="CiviCRM and Elgg groups, each with its source."
    )


@strawberry.type(description="One human across systems: the accounts that share an e-mail address.")
class Person(
    Node, PersonEmail, SourcesPersonAccounts, PersonAccounts, SourcesPersonFields, PersonGroups
):
    """Never made itself: its values are `PersonRoot`s, which its fields resolve from."""

    @classmethod
    def is_type_of(cls, value: object, info: Any) -> bool:
        """Strawberry's check that a value returned for a `Person` is one."""
        return isinstance(value, PersonRoot)
