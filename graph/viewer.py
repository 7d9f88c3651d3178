"""`Query.viewer`: who the caller is on each source, from the credentials they sent."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import strawberry

from .sources import SOURCES
from .types.civicrm import Contact
from .types.common import Account, Info
from .types.elgg import ElggUser
from .types.eqsash import EqsashUser
from .types.flarum import FlarumUser
from .types.moodle import MoodleUser
from .types.person import ACCOUNT_TYPES, Person

__all__ = ["Viewer"]


async def account_of(info: Info, source: str) -> Any:
    """The caller's own account on `source` as its GraphQL type; None without an identity there."""
    if not info.context.has_identity(source):
        return None
    found = await SOURCES[source].viewer(info.context)
    return ACCOUNT_TYPES[source].of(found) if found is not None else None


@strawberry.type(description="Who the caller is on each source, from the credentials they sent.")
class Viewer:
    @strawberry.field(description="Null when the request carries no Flarum token.")
    async def flarum(self, info: Info) -> FlarumUser | None:
        return cast(FlarumUser | None, await account_of(info, "flarum"))

    @strawberry.field(description="Null when the request carries no Moodle token.")
    async def moodle(self, info: Info) -> MoodleUser | None:
        return cast(MoodleUser | None, await account_of(info, "moodle"))

    @strawberry.field(
        description="Null when the request carries no CiviCRM api key, or the site speaks only "
        "the 3.2-era API (which cannot say whose key it is)."
    )
    async def civicrm(self, info: Info) -> Contact | None:
        return cast(Contact | None, await account_of(info, "civicrm"))

    @strawberry.field(description="Null when the request carries no Elgg token.")
    async def elgg(self, info: Info) -> ElggUser | None:
        return cast(ElggUser | None, await account_of(info, "elgg"))

    @strawberry.field(description="Null when the request carries no Eqsash token.")
    async def eqsash(self, info: Info) -> EqsashUser | None:
        return cast(EqsashUser | None, await account_of(info, "eqsash"))

    @strawberry.field(description="The person the caller's accounts share an e-mail with.")
    async def person(self, info: Info) -> Person | None:
        accounts = await asyncio.gather(
            *(account_of(info, source) for source in SOURCES), return_exceptions=True
        )
        for account in accounts:
            if isinstance(account, Account):
                email = await account.account_email(info)
                if email:
                    return Person.of(info, email)
        return None
