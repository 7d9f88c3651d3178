"""`Query.viewer`: who the caller is on each source, from the credentials they sent."""

from __future__ import annotations

import asyncio
from importlib import import_module

import strawberry

from .sources import SOURCES
from .types.common import Info, own_account
from .types.person import ACCOUNT_TYPES, Person

__all__ = ["Viewer"]


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
        (*(import_module(f"{__package__}.types.{name}").VIEWER for name in SOURCES), ViewerPerson),
        {},
    ),
    description="Who the caller is on each source, from the credentials they sent.",
)
"""Each source's field (`VIEWER` in `graph/types/<name>.py`), in the registry's order, then
`person`."""
