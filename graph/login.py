"""Signing in: one source (`login`) or all of them (`loginAll`)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from .errors import UserInputError
from .types.civicrm import Contact
from .types.common import Account, Info, Source
from .types.elgg import ElggUser
from .types.eqsash import EqsashUser
from .types.flarum import FlarumUser
from .types.moodle import MoodleUser

__all__ = ["LoginAllPayload", "LoginPayload", "SourceLogin", "login_on"]


@strawberry.type
class LoginPayload:
    token: str = strawberry.field(description="Send it as the source's caller header.")
    expires_at: datetime | None = strawberry.field(
        description="Null where the source renews the token on use (Flarum: one idle hour)."
    )
    source_: strawberry.Private[Source]
    user_id: strawberry.Private[str | None] = None
    """Flarum says whose token it is at login; other sources are asked when `account` is."""

    @strawberry.field(description="The account the token acts as.")
    async def account(self, info: Info) -> Account | None:
        if self.source_ is Source.EQSASH:
            return EqsashUser.of(await info.context.eqsash_as(self.token).current_user())
        if self.source_ is Source.ELGG:
            return ElggUser.of(await info.context.elgg_as(self.token).profile())
        if self.source_ is Source.CIVICRM:
            me = await info.context.civicrm_as(self.token).me()
            return Contact.of(me) if me else None
        if self.source_ is Source.MOODLE:
            moodle = info.context.moodle_as(self.token)
            site = await moodle.site_info()
            (moodle_user,) = await moodle.users([site.user_id])
            return MoodleUser.of(moodle_user)
        flarum = info.context.flarum_as(self.token)
        if self.user_id:
            return FlarumUser.of(await flarum.user(self.user_id))
        forum = await flarum.forum()  # who the token belongs to
        return FlarumUser.of(forum.actor) if forum.actor else None


async def login_on(info: Info, source: Source, username: str, password: str) -> LoginPayload:
    """Sign in on one source with its own login call."""
    if source is Source.FLARUM:
        token = await info.context.flarum_as(None).login(username, password)
        return LoginPayload(
            token=token.token, expires_at=None, source_=source, user_id=token.user_id
        )
    if source is Source.MOODLE:
        settings = info.context.settings.sources.moodle
        service = settings.service if settings else "moodle_mobile_app"
        moodle_token = await info.context.moodle_as(None).login(username, password, service)
        return LoginPayload(token=moodle_token, expires_at=None, source_=source)
    if source is Source.EQSASH:
        eqsash_token = await info.context.eqsash_as(None).login(username, password)
        return LoginPayload(
            token=eqsash_token.token,
            expires_at=eqsash_token.expires_at,
            source_=source,
            user_id=str(eqsash_token.user_id),
        )
    if source is Source.ELGG:
        elgg_token = await info.context.elgg_as(None).get_token(username, password)
        return LoginPayload(
            token=elgg_token.token, expires_at=elgg_token.expires_at, source_=source
        )
    if source is Source.CIVICRM:
        api_key = await info.context.civicrm_as(None).login(username, password)
        return LoginPayload(token=api_key, expires_at=None, source_=source)
    raise UserInputError(f"login on {source.name} is not available yet")


@strawberry.type(description="How signing in on one source went.")
class SourceLogin:
    source: Source
    login: LoginPayload | None
    error: str | None
    error_code: str | None


@strawberry.type
class LoginAllPayload:
    logins: list[SourceLogin]
    session_token: str | None = strawberry.field(
        description="Null where gateway sessions are off or no source accepted the login."
    )
    session_expires_at: datetime | None
