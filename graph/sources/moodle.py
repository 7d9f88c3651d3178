"""Moodle (courses): a web service token; no guests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from connectors.errors import Unauthenticated
from connectors.http import Upstream
from connectors.moodle import Moodle, MoodleAuth

from ..config import MoodleSettings
from ..loaders import MoodleLoaders
from .spec import Memory, PeopleLookup, Reach, SignedIn, SourceSpec

if TYPE_CHECKING:
    from ..context import Context

__all__ = ["MOODLE"]


def credential(settings: MoodleSettings | None, token: str | None) -> str | None:
    """Moodle has no guest web services: no token, no call."""
    if token is None and settings is not None and settings.allow_service_fallback:
        token = settings.token
    if token is None:
        raise Unauthenticated("moodle", "Moodle needs a token: send X-Moodle-Token")
    return token


def connect(reach: Reach, settings: MoodleSettings, token: str | None) -> Moodle:
    """Its memory: callers whose service refused the multi-call, for ten minutes."""
    upstream = reach.upstream(MoodleAuth(token), f"token:{token or ''}")
    return Moodle(
        upstream,
        no_multicall=reach.memory,
        caller_key=upstream.caller_key,
    )


async def ping(name: str, settings: MoodleSettings, client: httpx.AsyncClient) -> str:
    moodle = Moodle(Upstream(name, client, settings.url, MoodleAuth(settings.token or None)))
    try:
        info = await moodle.site_info()
    except Unauthenticated:
        if settings.token:
            raise
        # No token of ours: Moodle's invalidtoken answer still proves its web services work.
        return "reachable, web services answer; no service token configured"
    return f"reachable, auth ok as service user {info.username}, Moodle {info.release}"


async def login(site: Moodle, settings: MoodleSettings, username: str, password: str) -> SignedIn:
    return SignedIn(await site.login(username, password, settings.service))


async def account(site: Moodle, user_id: str | None) -> Any:
    info = await site.site_info()
    (user,) = await site.users([info.user_id])
    return user


def people(context: Context) -> PeopleLookup:
    return PeopleLookup(find=lambda site, emails: site.users_by_email(emails))


async def viewer(context: Context) -> Any:
    site = await context.once("viewer.moodle", context.site(MOODLE).site_info)
    return await context.loaders(MOODLE).users.load(site.user_id)


def over_simulator(url: str) -> MoodleSettings:
    return MoodleSettings(url=url)


MOODLE = SourceSpec(
    name="moodle",
    label="Moodle",
    header="X-Moodle-Token",
    settings=MoodleSettings,
    credential=credential,
    connect=connect,
    loaders=MoodleLoaders,
    ping=ping,
    login=login,
    account=account,
    people=people,
    viewer=viewer,
    demo_port=9101,
    over_simulator=over_simulator,
    memory=Memory(size=10_000, ttl_s=600),
)
