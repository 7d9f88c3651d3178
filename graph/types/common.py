"""Types every source shares: the Source enum, Node, Account, and the resolver `Info`."""

from __future__ import annotations

from enum import Enum
from typing import TypeAlias

import strawberry

from ..context import Context
from ..ids import GlobalId
from ..pagination import Connection

__all__ = ["Account", "Group", "Info", "Node", "Source", "global_id"]

Info: TypeAlias = strawberry.Info[Context, None]


@strawberry.enum(description="A legacy system behind the gateway.")
class Source(Enum):
    FLARUM = "flarum"
    MOODLE = "moodle"
    CIVICRM = "civicrm"
    ELGG = "elgg"
    EQSASH = "eqsash"


def global_id(source: Source, type_name: str, upstream_id: str) -> strawberry.ID:
    return strawberry.ID(GlobalId(source.value, type_name, upstream_id).encode())


@strawberry.interface(description="An object with a global id that `Query.node` resolves.")
class Node:
    id: strawberry.ID


@strawberry.interface(description="A person's account on one legacy system.")
class Account(Node):
    source: Source
    username: str | None
    display_name: str

    @strawberry.field
    async def email(self, info: Info) -> str | None:
        """Declared as a resolver: where a source shows it depends on who asks."""
        raise NotImplementedError


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
