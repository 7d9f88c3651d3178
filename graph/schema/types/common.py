"""Types every source shares: Node, Account, Group, a person's root, what the shared types take
from each source (`SourceTypes`), the fields of the caller's and a person's account there, and
the resolver `Info`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Self, TypeAlias, TypeVar

import strawberry
from aiodataloader import DataLoader

from graph.context import Context
from graph.people import normalise
from graph.schema.ids import GlobalId, InvalidId, encode_id
from graph.schema.pagination import Connection, Window, window
from graph.schema.types.source import Source
from graph.sources import SOURCES

__all__ = [
    "LAZY_PERSON",
    "Account",
    "Group",
    "GroupSource",
    "Info",
    "MaybeAwaitable",
    "Node",
    "NodeLoader",
    "PersonRoot",
    "SourceTypes",
    "by_loader",
    "global_id",
    "number",
    "own_account",
    "own_account_field",
    "page_window",
    "person_account_field",
]

Info: TypeAlias = strawberry.Info[Context, None]
T = TypeVar("T")
MaybeAwaitable: TypeAlias = T | Awaitable[T]
"""What a resolver returns that answers at once when it can, and awaits only when it must
(graphql-core awaits an awaitable; a plain value costs no task). Its field names the GraphQL
type with `graphql_type=`."""


def page_window(info: Info, first: int | None, after: str | None) -> Window:
    """Where a page of a list starts and how long it is, within this gateway's limits."""
    limits = info.context.settings.graphql
    return window(first, after, default=limits.default_page_size, cap=limits.max_page_size)


NodeLoader: TypeAlias = Callable[[Info, str], Awaitable["Node | PersonRoot"]]
"""How `Query.node` finds one type's object by the upstream part of its global id (a person's
is a `PersonRoot`, which `Person` resolves from)."""


def number(upstream_id: str) -> int:
    if not upstream_id.isdigit():
        raise InvalidId(f"{upstream_id!r} is not a numeric id")
    return int(upstream_id)


def by_loader(
    loader: Callable[[Context], DataLoader[Any, Any]],
    make: Callable[[Any], Node],
    key: Callable[[str], Any] = str,
) -> NodeLoader:
    """Resolve an id through one of the request's loaders."""

    async def load(info: Info, upstream_id: str) -> Node:
        return make(await loader(info.context).load(key(upstream_id)))

    return load


@dataclass(frozen=True)
class GroupSource:
    """A source's part of `Query.groups` and `Query.group`."""

    type_name: str
    """Its group type, as global ids name it."""
    groups: Callable[[Info, str | None], Awaitable[list[Group]]]
    """Its groups the caller may see, by name when searching."""
    listed: Callable[[Context], bool]
    """Whether `groups` without a `source` lists them for this request."""
    of_person: Callable[[Info, str], Awaitable[list[Group]]]
    """The groups of the person with this (normalised) e-mail address (`Person.groups`)."""


@dataclass(frozen=True, slots=True)
class PersonRoot:
    """A person, known by their e-mail address: what a resolver returns for a `Person`, and what
    `Person`'s fields (the core's and each source's) get as `root`.

    `Person` (`graph/schema/types/person.py`) is composed of every source's fields, so it sits
    above the sources' modules; this value sits below them, so that `Account.person` and a
    source's own fields (CiviCRM's `people`) can answer a person without importing it."""

    id: strawberry.ID
    email: str
    """Normalised as the people loaders match addresses (`graph.people.normalise`)."""

    @classmethod
    def of(cls, info: Info, email: str) -> PersonRoot:
        key = normalise(email, fold_gmail=info.context.settings.people.fold_gmail)
        return cls(id=strawberry.ID(GlobalId("legacygraph", "Person", key).encode()), email=key)


LAZY_PERSON: strawberry.LazyType[str, str] = strawberry.LazyType(
    "Person", "graph.schema.types.person"
)
"""The `Person` type, named for Strawberry by module and name (no import: that module imports
every source's, which import this one). A field returning a `PersonRoot` gives it as its
`graphql_type`."""


@dataclass(frozen=True)
class SourceTypes:
    """What the shared types take from one source's module (`TYPES` in
    `graph/schema/types/<name>.py`), beside the parts `graph/schema/types/sources.py` lists."""

    account: type[Account]
    """The type of a person's account there (`Person.accounts`, `login`)."""
    nodes: Mapping[type[Node], NodeLoader]
    """Each of its types that a global id names, and how `Query.node` finds one by its id."""
    groups: GroupSource | None = None
    """Its part of `Query.groups`, where it has groups."""


def global_id(source: Source, type_name: str, upstream_id: str) -> strawberry.ID:
    # `_value_`, not `value`: the property costs more than the rest of this function. And no
    # call of `strawberry.ID`, a `NewType` whose call returns its argument.
    return encode_id(source._value_, type_name, upstream_id)  # type: ignore[return-value]


@strawberry.interface(description="An object with a global id that `Query.node` resolves.")
class Node:
    id: strawberry.ID


@strawberry.interface(description="A person's account on one legacy system.")
class Account(Node):
    source: Source
    username: str | None
    display_name: str

    @classmethod
    def of(cls, account: Any) -> Self:
        """This type's value for the account its source's connector gives."""
        raise NotImplementedError

    async def account_email(self, info: Info) -> str | None:
        """The e-mail address, where the source shows it to this caller."""
        raise NotImplementedError

    @strawberry.field(description="Where the source shows it to the caller.")
    async def email(self, info: Info) -> str | None:
        return await self.account_email(info)

    @strawberry.field(
        description="The person behind this account, by its e-mail address.",
        graphql_type=LAZY_PERSON | None,
    )
    async def person(self, info: Info) -> PersonRoot | None:
        email = await self.account_email(info)
        return PersonRoot.of(info, email) if email else None


AccountT = TypeVar("AccountT", bound=Account)


async def own_account(info: Info, source: str, account: type[AccountT]) -> AccountT | None:
    """The caller's own account on `source`, as `account`; None where the caller has no
    identity there."""
    if not info.context.has_identity(source):
        return None
    found = await info.context.viewer(SOURCES[source])
    return account.of(found) if found is not None else None


def own_account_field(source: str, account: type[AccountT], description: str) -> AccountT | None:
    """`Viewer.<source>`: the caller's own account there. (Typed as its value, as a
    `strawberry.field` is.)"""

    async def resolve(root: object, info: Info) -> AccountT | None:
        # `root`, the viewer, is unused: taken so that the schema calls this without
        # Strawberry's wrapper (`use_lean_resolvers`), as it calls a method.
        return await own_account(info, source, account)

    return strawberry.field(resolver=resolve, graphql_type=account | None, description=description)


def person_account_field(source: str, account: type[AccountT], description: str) -> AccountT | None:
    """A person's account on `source` (`Person.<name>`), found by their e-mail address. (Typed
    as its value, as a `strawberry.field` is.)"""

    async def resolve(root: PersonRoot, info: Info) -> AccountT | None:
        found = await info.context.people_loaders.of(source).load(root.email)
        return account.of(found) if found else None

    return strawberry.field(resolver=resolve, graphql_type=account | None, description=description)


@strawberry.interface(description="A group of people on one source (CiviCRM groups, Elgg groups).")
class Group(Node):
    source: Source
    name: str
    description: str | None

    @strawberry.field
    async def member_count(self, info: Info) -> int | None:
        raise NotImplementedError

    @strawberry.field
    async def members(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Account] | None:
        raise NotImplementedError
