"""`Query.viewer`: who the caller is on each source, from the credentials they sent."""

from __future__ import annotations

import asyncio
from typing import Any

import strawberry

from graph.schema.types.common import Info
from graph.schema.types.person import ACCOUNT_TYPES, Person
from graph.schema.types.sources import SOURCE_TYPES
from graph.sources import SOURCES

__all__ = ["Viewer"]


async def own_account(info: Info, source: str) -> Any:
    """The caller's own account on `source` as its connector gives it; None where the caller
    has no identity there."""
    if not info.context.has_identity(source):
        return None
    return await info.context.viewer(SOURCES[source])


def own_account_part(source: str) -> type:
    """`Viewer.<source>`: the caller's own account there, as the source's `ACCOUNT` type, said
    of itself with its `VIEWER_DESCRIPTION` (`graph/schema/types/<source>.py`)."""
    types = SOURCE_TYPES[source]

    async def resolve(info: Info) -> Any:
        found = await own_account(info, source)
        return types.ACCOUNT.of(found) if found is not None else None

    field = strawberry.field(
        resolver=resolve,
        description=types.VIEWER_DESCRIPTION,
        graphql_type=types.ACCOUNT | None,
    )
    return strawberry.type(type(f"{source}_viewer", (), {source: field}))


@strawberry.type
class ViewerPerson:
    @strawberry.field(description="The person the caller's accounts share an e-mail with.")
    async def person(self, info: Info) -> Person | None:
        found = await asyncio.gather(
            *(own_account(info, source) for source in SOURCES), return_exceptions=True
        )
        for source, account in zip(SOURCES, found, strict=True):
            if account is not None and not isinstance(account, BaseException):
                email = await ACCOUNT_TYPES[source].of(account).account_email(info)
                if email:
                    return Person.of(info, email)
        return None


Viewer = strawberry.type(
    type(
        "Viewer",
        (*(own_account_part(name) for name in SOURCES), ViewerPerson),
        {},
    ),
    description="Who the caller is on each source, from the credentials they sent.",
)
"""Each source's field, in the registry's order, then `person`."""
