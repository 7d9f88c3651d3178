"""`Query.viewer`: who the caller is on each source, from the credentials they sent."""

from __future__ import annotations

import asyncio

import strawberry

from graph.schema.types.common import Info, PersonRoot, own_account
from graph.schema.types.person import ACCOUNT_TYPES, Person
from graph.schema.types.sources import SourcesViewer

__all__ = ["Viewer"]


@strawberry.type(description="Who the caller is on each source, from the credentials they sent.")
class Viewer(SourcesViewer):
    """Each source's field (`<Name>Viewer` in `graph/schema/types/<name>.py`), in the registry's
    order, then `person`."""

    @strawberry.field(
        description="The person the caller's accounts share an e-mail with.",
        graphql_type=Person | None,
    )
    async def person(self, info: Info) -> PersonRoot | None:
        found = await asyncio.gather(
            *(own_account(info, source, account) for source, account in ACCOUNT_TYPES.items()),
            return_exceptions=True,
        )
        for account in found:
            if account is not None and not isinstance(account, BaseException):
                email = await account.account_email(info)
                if email:
                    return PersonRoot.of(info, email)
        return None
