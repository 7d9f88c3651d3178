"""Flarum's doctor: the forum document (`GET /api?include=actor`) as a guest, the service key
and each caller's token, which says who acts and what they may do; the tags extension."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from connectors.errors import ProtocolError, UpstreamError
from connectors.flarum import FlarumAuth
from connectors.http import Upstream
from graph.doctor.report import Check, Need, judge
from graph.sources.flarum.settings import FlarumSettings

__all__ = ["CORE", "EDIT_USERS", "PERMISSIONS", "diagnose"]

CORE = (
    "GET /api",
    "GET /api/discussions",
    "GET /api/discussions/{id}",
    "GET /api/posts",
    "GET /api/users",
    "POST /api/discussions",
    "POST /api/posts",
)
"""Flarum's own endpoints, there wherever the forum document answers."""
TAGS = "GET /api/tags"
PERMISSIONS = ("canViewForum", "canStartDiscussion", "canSearchUsers")
"""The forum document's permission flags for whoever asks."""
EDIT_USERS = "user.edit"
"""Filtering users by e-mail: Flarum 1.7 applies `filter[email]` only for it (administrators,
and groups given it); the forum document does not say who else has it."""


async def forum_document(upstream: Upstream) -> dict[str, Any]:
    response = await upstream.request("GET", "/api", params={"include": "actor"})
    try:
        document = response.json()
    except ValueError:
        document = None
    if response.status_code != 200 or not isinstance(document, dict):
        raise ProtocolError(
            upstream.source, f"GET /api answered {response.status_code}, not a forum document"
        )
    return document


def actor_of(document: dict[str, Any]) -> str | None:
    for resource in document.get("included") or []:
        if resource.get("type") == "users":
            return str(resource.get("attributes", {}).get("username", resource.get("id")))
    return None


async def diagnose(
    name: str,
    settings: FlarumSettings,
    client: httpx.AsyncClient,
    callers: Sequence[str],
    needs: Sequence[Need],
) -> list[Check]:
    service = settings.allow_service_fallback
    identities: list[tuple[str, FlarumAuth, bool]] = [
        (
            "service key" if service else "guest",
            FlarumAuth(api_key=settings.api_key, user_id=settings.api_user_id)
            if service
            else FlarumAuth(),
            service,
        )
    ]
    identities += [(f"caller {i}", FlarumAuth(token=t), True) for i, t in enumerate(callers, 1)]
    checks: list[Check] = []
    present: set[str] = set()
    absent: set[str] = set()
    version: str | None = None
    for index, (who, auth, needs_actor) in enumerate(identities):
        upstream = Upstream(name, client, settings.url, auth)
        try:
            document = await forum_document(upstream)
        except UpstreamError as error:
            checks.append(Check.failure(f"forum document ({who})", error))
            continue
        attributes = document.get("data", {}).get("attributes", {})
        version = version or attributes.get("version")
        if index == 0:
            present.update(CORE)
            tags = await upstream.request("GET", "/api/tags")
            (present if tags.status_code == 200 else absent).add(TAGS)
            checks.append(
                Check("tags extension", "ok", "GET /api/tags answers")
                if tags.status_code == 200
                else Check(
                    "tags extension",
                    "failed",
                    f"GET /api/tags answered {tags.status_code}: flarum/tags is not enabled",
                    blocking=False,
                )
            )
        actor = actor_of(document)
        if needs_actor and actor is None:
            checks.append(
                Check(
                    f"identity ({who})",
                    "failed",
                    "Flarum does not know this credential (unknown, expired or revoked); it "
                    "reads as a guest",
                    blocking=who == "service key",
                )
            )
            continue
        granted = {p: bool(attributes.get(p)) for p in PERMISSIONS if p in attributes}
        if attributes.get("adminUrl") or actor is None:  # administrators may do all, guests not
            granted[EDIT_USERS] = actor is not None
        allowed = ", ".join(p for p, yes in granted.items() if yes) or "none"
        refused = ", ".join(p for p, yes in granted.items() if not yes) or "none"
        checks.append(
            Check(
                f"identity ({who})",
                "ok",
                f"{actor or 'a guest'}; allowed: {allowed}; refused: {refused}"
                f"{'; an administrator' if attributes.get('adminUrl') else ''}",
            )
        )
        checks += judge(needs, who=who, present=present, absent=absent, granted=granted)
    checks.insert(
        0,
        Check("version", "ok", f"Flarum {version}")
        if version
        else Check("version", "unknown", "Flarum shows its version to administrators only"),
    )
    return checks
