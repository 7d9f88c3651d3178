"""Signing in: one source (`login`) or all of them (`loginAll`)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from graph.schema.types.common import Account, Info
from graph.schema.types.person import ACCOUNT_TYPES
from graph.schema.types.source import Source
from graph.sources import SOURCES

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
        spec = SOURCES[self.source_.value]
        found = await spec.account(info.context.site_as(spec, self.token), self.user_id)
        return ACCOUNT_TYPES[spec.name].of(found) if found is not None else None


async def login_on(info: Info, source: Source, username: str, password: str) -> LoginPayload:
    """Sign in on one source with its own login call."""
    spec = SOURCES[source.value]
    site = info.context.site_as(spec, None)
    settings = info.context.settings.sources.configured()[spec.name]
    signed_in = await spec.login(site, settings, username, password)
    return LoginPayload(
        token=signed_in.token,
        expires_at=signed_in.expires_at,
        source_=source,
        user_id=signed_in.user_id,
    )


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
