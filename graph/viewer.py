"""`Query.viewer`: who the caller is on each source, from the credentials they sent."""

from __future__ import annotations

import asyncio

import strawberry

from connectors.errors import Unauthenticated

from .types.civicrm import Contact
from .types.common import Account, Info
from .types.elgg import ElggUser
from .types.eqsash import EqsashUser
from .types.flarum import FlarumUser
from .types.moodle import MoodleUser
from .types.person import Person

__all__ = ["Viewer"]


async def viewer_flarum(info: Info) -> FlarumUser | None:
    context = info.context
    if not context.has_identity("flarum"):
        return None
    actor = await context.flarum_actor()
    if actor is None:
        raise Unauthenticated("flarum", "Flarum does not know this token (unknown or expired)")
    context.flarum_loaders.full_users.prime(actor.id, actor)
    return FlarumUser.of(actor)


async def viewer_moodle(info: Info) -> MoodleUser | None:
    context = info.context
    if not context.has_identity("moodle"):
        return None
    site = await context.once("viewer.moodle", context.moodle.site_info)
    return MoodleUser.of(await context.moodle_loaders.users.load(site.user_id))


async def viewer_civicrm(info: Info) -> Contact | None:
    if not info.context.has_identity("civicrm"):
        return None
    me = await info.context.once("viewer.civicrm", info.context.civicrm.me)
    return Contact.of(me) if me else None


async def viewer_elgg(info: Info) -> ElggUser | None:
    if not info.context.has_identity("elgg"):
        return None
    return ElggUser.of(await info.context.once("viewer.elgg", info.context.elgg.profile))


async def viewer_eqsash(info: Info) -> EqsashUser | None:
    if not info.context.has_identity("eqsash"):
        return None
    return EqsashUser.of(await info.context.once("viewer.eqsash", info.context.eqsash.current_user))


@strawberry.type(description="Who the caller is on each source, from the credentials they sent.")
class Viewer:
    @strawberry.field(description="Null when the request carries no Flarum token.")
    async def flarum(self, info: Info) -> FlarumUser | None:
        return await viewer_flarum(info)

    @strawberry.field(description="Null when the request carries no Moodle token.")
    async def moodle(self, info: Info) -> MoodleUser | None:
        return await viewer_moodle(info)

    @strawberry.field(
        description="Null when the request carries no CiviCRM api key, or the site speaks only "
        "the 3.2-era API (which cannot say whose key it is)."
    )
    async def civicrm(self, info: Info) -> Contact | None:
        return await viewer_civicrm(info)

    @strawberry.field(description="Null when the request carries no Elgg token.")
    async def elgg(self, info: Info) -> ElggUser | None:
        return await viewer_elgg(info)

    @strawberry.field(description="Null when the request carries no Eqsash token.")
    async def eqsash(self, info: Info) -> EqsashUser | None:
        return await viewer_eqsash(info)

    @strawberry.field(description="The person the caller's accounts share an e-mail with.")
    async def person(self, info: Info) -> Person | None:
        viewers = (viewer_flarum, viewer_moodle, viewer_civicrm, viewer_elgg, viewer_eqsash)
        accounts = await asyncio.gather(*(v(info) for v in viewers), return_exceptions=True)
        for account in accounts:
            if isinstance(account, Account):
                email = await account.account_email(info)
                if email:
                    return Person.of(info, email)
        return None
