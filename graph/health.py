"""Is each source there? Shared by `legacygraph check-config` and `/readyz`."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from connectors.civicrm import Civicrm, CivicrmAuth
from connectors.elgg import Elgg, ElggAuth
from connectors.eqsash import Eqsash, EqsashAuth
from connectors.errors import Unauthenticated, UpstreamError
from connectors.flarum import Flarum, FlarumAuth
from connectors.http import Upstream
from connectors.moodle import Moodle, MoodleAuth

from .config import (
    CivicrmSettings,
    ElggSettings,
    EqsashSettings,
    FlarumSettings,
    MoodleSettings,
    Settings,
    SourceSettings,
)

__all__ = ["ping", "readiness"]


async def ping(name: str, source: SourceSettings, client: httpx.AsyncClient) -> str:
    """Reach one source as the gateway's own configured identity (or anonymously) and say what
    answered; raises the source's `UpstreamError` when it cannot."""
    if isinstance(source, FlarumSettings):
        service = source.allow_service_fallback
        auth = (
            FlarumAuth(api_key=source.api_key, user_id=source.api_user_id)
            if service
            else FlarumAuth()
        )
        forum = await Flarum(Upstream(name, client, source.url, auth)).forum()
        if service and forum.actor is None:
            raise Unauthenticated(name, "Flarum did not accept the configured api_key/api_user_id")
        who = f"service user {forum.actor.username}" if forum.actor else "guest"
        version = forum.version or "version hidden (shown to administrators only)"
        return f"reachable, auth ok as {who}, Flarum {version}"
    if isinstance(source, MoodleSettings):
        moodle = Moodle(Upstream(name, client, source.url, MoodleAuth(source.token or None)))
        try:
            info = await moodle.site_info()
        except Unauthenticated:
            if source.token:
                raise
            # No token of ours: Moodle's invalidtoken answer still proves its web services work.
            return "reachable, web services answer; no service token configured"
        return f"reachable, auth ok as service user {info.username}, Moodle {info.release}"
    if isinstance(source, CivicrmSettings):
        civicrm = Civicrm(
            Upstream(
                name, client, source.url, CivicrmAuth(source.site_key, source.api_key or None)
            ),
            rest_path=source.rest_path,
            style="q" if source.api_style == "q" else "entity",
        )
        try:
            await civicrm.groups(ids=[1])
        except Unauthenticated as error:
            if source.api_key or "site key" in error.message:
                raise
            # The site key passed (CiviCRM checks it first); only a user's api_key is missing.
            return "reachable, site key ok; no service api_key configured"
        return "reachable, site key and service api_key ok"
    if isinstance(source, ElggSettings):
        site = Elgg(
            Upstream(
                name,
                client,
                source.url,
                ElggAuth(
                    api_key=source.api_key,
                    secret=source.secret,
                    algorithm=source.hmac_algorithm,
                    variant="legacy" if source.hmac_variant == "legacy" else "standard",
                ),
            )
        )
        exposed = await site.exposed()
        return f"reachable, signature ok, {len(exposed)} methods exposed"
    if isinstance(source, EqsashSettings):
        cms = Eqsash(
            Upstream(name, client, source.url, EqsashAuth(source.api_key)), path=source.path
        )
        sections = await cms.sections()  # open to anonymous callers, yet checks the site key
        return f"reachable, site key ok ({len(sections)} sections)"
    return f"reachable check not implemented for {name}"


async def readiness(settings: Settings, clients: dict[str, httpx.AsyncClient]) -> dict[str, Any]:
    """Ping every configured source at once, each within its own timeout."""

    async def one(name: str, source: SourceSettings) -> dict[str, Any]:
        try:
            detail = await asyncio.wait_for(ping(name, source, clients[name]), source.timeout_s)
        except UpstreamError as error:
            return {"ready": False, "detail": f"{error.kind}: {error.message}"}
        except TimeoutError:
            return {"ready": False, "detail": f"timeout: no answer within {source.timeout_s} s"}
        return {"ready": True, "detail": detail}

    sources = settings.sources.configured()
    results = await asyncio.gather(*(one(name, source) for name, source in sources.items()))
    found = dict(zip(sources, results, strict=True))
    return {"ready": all(r["ready"] for r in found.values()), "sources": found}
