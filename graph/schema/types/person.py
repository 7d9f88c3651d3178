"""Person: one human across systems, joined by e-mail address.

Its fields are the core ones below and each source's `PERSON` part (`graph/schema/types/<name>.py`):
first every source's account field, then `accounts` and `displayName`, then each source's other
fields, then `groups`, each part in the registry's order.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.types.field import StrawberryField

from graph.schema.ids import GlobalId
from graph.schema.pagination import Connection, sliced
from graph.schema.types.common import Account, Group, Info, Node, page_window
from graph.schema.types.sources import SOURCE_TYPES

__all__ = ["ACCOUNT_TYPES", "Person"]

ACCOUNT_TYPES: dict[str, Any] = {name: types.ACCOUNT for name, types in SOURCE_TYPES.items()}
"""Each source's account type (`ACCOUNT` in `graph/schema/types/<name>.py`), in the order `accounts`
lists them."""


class PersonCore:
    """What a person is without its fields: an e-mail address, and the accounts behind it."""

    email: str

    @classmethod
    def of(cls, info: Info, email: str) -> Person:
        key = info.context.people_loaders.key(email)
        return Person(id=strawberry.ID(GlobalId("legacygraph", "Person", key).encode()), email=key)

    async def find_accounts(self, info: Info) -> list[Account]:
        """The accounts the caller may see; a source that fails is left out here (its own field
        says why)."""
        people = info.context.people_loaders
        found = await asyncio.gather(
            *(people.of(source).load(self.email) for source in ACCOUNT_TYPES),
            return_exceptions=True,
        )
        return [
            ACCOUNT_TYPES[source].of(each)
            for source, account in zip(ACCOUNT_TYPES, found, strict=True)
            if account is not None and not isinstance(account, BaseException)
            for each in people.every(source, self.email) or [account]
        ]


def account_field(source: str) -> StrawberryField:
    """`Person.<account>`: the person's account on `source`, where the caller may find it."""
    types = SOURCE_TYPES[source]

    async def resolve(root: PersonCore, info: Info) -> Any:
        found = await info.context.people_loaders.of(source).load(root.email)
        return types.ACCOUNT.of(found) if found else None

    return strawberry.field(
        resolver=resolve, description=types.PERSON.description, graphql_type=types.ACCOUNT | None
    )


async def accounts(root: PersonCore, info: Info) -> list[Account]:
    return await root.find_accounts(info)


async def display_name(root: PersonCore, info: Info) -> str:
    names = [a.display_name for a in await root.find_accounts(info) if a.display_name]
    return names[0] if names else root.email.split("@", 1)[0]


async def groups(
    root: PersonCore, info: Info, first: int | None = None, after: str | None = None
) -> Connection[Group] | None:
    sources = [types.GROUPS for types in SOURCE_TYPES.values() if types.GROUPS is not None]
    found = await asyncio.gather(*(source.of_person(info, root.email) for source in sources))
    at = page_window(info, first, after)
    return sliced([group for part in found for group in part], at, node=lambda group: group)


if TYPE_CHECKING:  # the fields come from the registry

    class Person(PersonCore, Node):
        def __init__(self, *, id: strawberry.ID, email: str) -> None: ...

else:
    Person = strawberry.type(
        type(
            "Person",
            (PersonCore, Node),
            {
                "__module__": __name__,
                "__annotations__": {"email": str},
                "email": strawberry.field(
                    description="Lower-case and trimmed: how accounts are matched."
                ),
                **{t.PERSON.account: account_field(name) for name, t in SOURCE_TYPES.items()},
                "accounts": strawberry.field(resolver=accounts),
                "display_name": strawberry.field(
                    resolver=display_name,
                    description="The name the accounts give, or the e-mail's local part.",
                ),
                **{k: v for t in SOURCE_TYPES.values() for k, v in t.PERSON.fields.items()},
                "groups": strawberry.field(
                    resolver=groups, description="CiviCRM and Elgg groups, each with its source."
                ),
            },
        ),
        description="One human across systems: the accounts that share an e-mail address.",
    )
