"""Types every source shares: the Source enum, Node, Account, and the resolver `Info`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Protocol, TypeAlias, TypeVar

import strawberry
from aiodataloader import DataLoader

from graph.context import Context
from graph.schema.ids import InvalidId, encode_id
from graph.schema.pagination import Connection, Window, window
from graph.sources import SOURCES

if TYPE_CHECKING:
    from graph.schema.types.person import Person

__all__ = [
    "Account",
    "Group",
    "GroupSource",
    "Info",
    "MaybeAwaitable",
    "Node",
    "NodeLoader",
    "PersonPart",
    "PersonRoot",
    "Source",
    "by_loader",
    "global_id",
    "number",
    "page_window",
]

Info: TypeAlias = strawberry.Info[Context, None]
T = TypeVar("T")
MaybeAwaitable: TypeAlias = T | Awaitable[T]
"""What a resolver returns that answers at once when it can, and awaits only when it must
(graphql-core awaits an awaitable; a plain value costs no task). Its field names the GraphQL
type with `graphql_type=`."""


if TYPE_CHECKING:  # the members come from the registry; code reaches them by value

    class Source(Enum):
        """A legacy system behind the gateway: `Source("moodle")`."""

else:
    Source = strawberry.enum(
        Enum("Source", [(name.upper(), name) for name in SOURCES], module=__name__),
        description="A legacy system behind the gateway.",
    )


def page_window(info: Info, first: int | None, after: str | None) -> Window:
    """Where a page of a list starts and how long it is, within this gateway's limits."""
    limits = info.context.settings.graphql
    return window(first, after, default=limits.default_page_size, cap=limits.max_page_size)


NodeLoader: TypeAlias = Callable[[Info, str], Awaitable["Node"]]
"""How `Query.node` finds one type's object by the upstream part of its global id."""


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


class PersonRoot(Protocol):
    """What a source's `Person` fields get as `root`: the person, known by e-mail address."""

    email: str


@dataclass(frozen=True)
class PersonPart:
    """A source's fields on `Person`."""

    account: str
    """The name of the field with the person's account there, as the source's `ACCOUNT` type."""
    description: str
    """That field's description."""
    fields: Mapping[str, Any] = field(default_factory=dict)
    """More fields (`strawberry.field`s), resolved with the person as `root`."""


def global_id(source: Source, type_name: str, upstream_id: str) -> strawberry.ID:
    # `_value_`, not `value`: the property costs more than the rest of this function.
    return strawberry.ID(encode_id(source._value_, type_name, upstream_id))


@strawberry.interface(description="An object with a global id that `Query.node` resolves.")
class Node:
    id: strawberry.ID


@strawberry.interface(description="A person's account on one legacy system.")
class Account(Node):
    source: Source
    username: str | None
    display_name: str

    async def account_email(self, info: Info) -> str | None:
        """The e-mail address, where the source shows it to this caller."""
        raise NotImplementedError

    @strawberry.field(description="Where the source shows it to the caller.")
    async def email(self, info: Info) -> str | None:
        return await self.account_email(info)

    @strawberry.field(description="The person behind this account, by its e-mail address.")
    async def person(
        self, info: Info
    ) -> Annotated[Person, strawberry.lazy("graph.schema.types.person")] | None:
        from graph.schema.types.person import Person  # the person module needs every account type

        email = await self.account_email(info)
        return Person.of(info, email) if email else None


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
