"""Flarum (discussions): `Authorization: Token`, guests allowed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from connectors.errors import Unauthenticated
from connectors.flarum import Flarum, FlarumAuth
from connectors.http import Upstream

from ..config import FlarumSettings
from ..loaders import FlarumLoaders
from .spec import PeopleLookup, Reach, SignedIn, SourceSpec, caller_only

if TYPE_CHECKING:
    from ..context import Context

__all__ = ["FLARUM"]


def connect(reach: Reach, settings: FlarumSettings, token: str | None) -> Flarum:
    """As the caller's token, else the service key if allowed, else a guest."""
    if token:
        auth, identity = FlarumAuth(token=token), f"token:{token}"
    elif settings.allow_service_fallback:
        auth = FlarumAuth(api_key=settings.api_key, user_id=settings.api_user_id)
        identity = f"service:{settings.api_key}:{settings.api_user_id}"
    else:
        auth, identity = FlarumAuth(), "guest"
    return Flarum(reach.upstream(auth, identity))


async def ping(name: str, settings: FlarumSettings, client: httpx.AsyncClient) -> str:
    service = settings.allow_service_fallback
    auth = (
        FlarumAuth(api_key=settings.api_key, user_id=settings.api_user_id)
        if service
        else FlarumAuth()
    )
    forum = await Flarum(Upstream(name, client, settings.url, auth)).forum()
    if service and forum.actor is None:
        raise Unauthenticated(name, "Flarum did not accept the configured api_key/api_user_id")
    who = f"service user {forum.actor.username}" if forum.actor else "guest"
    version = forum.version or "version hidden (shown to administrators only)"
    return f"reachable, auth ok as {who}, Flarum {version}"


async def login(site: Flarum, settings: FlarumSettings, username: str, password: str) -> SignedIn:
    token = await site.login(username, password)
    return SignedIn(token.token, user_id=token.user_id)


async def account(site: Flarum, user_id: str | None) -> Any:
    if user_id:
        return await site.user(user_id)
    forum = await site.forum()  # who the token belongs to
    return forum.actor


async def actor(context: Context) -> Any:
    """The caller's own Flarum account (None for a guest), asked once per request."""
    forum = await context.once("flarum.forum", lambda: context.site(FLARUM).forum())
    return forum.actor


def people(context: Context) -> PeopleLookup:
    """One address a call; a member (whose filter Flarum ignores) links their own account."""
    return PeopleLookup(
        find=lambda site, emails: site.users_by_email(emails[0]),
        one_at_a_time=True,
        own=lambda: actor(context),
    )


async def viewer(context: Context) -> Any:
    found = await actor(context)
    if found is None:
        raise Unauthenticated("flarum", "Flarum does not know this token (unknown or expired)")
    context.loaders(FLARUM).full_users.prime(found.id, found)
    return found


def over_simulator(url: str) -> FlarumSettings:
    return FlarumSettings(url=url)


FLARUM = SourceSpec(
    name="flarum",
    label="Flarum",
    header="X-Flarum-Token",
    settings=FlarumSettings,
    credential=caller_only,
    connect=connect,
    loaders=FlarumLoaders,
    ping=ping,
    login=login,
    account=account,
    people=people,
    viewer=viewer,
    demo_port=9104,
    over_simulator=over_simulator,
)
