"""Elgg's doctor: `system.api.list` (its key style tells Elgg 5's `VERB:name` from Elgg 4's
`name`), one signed call that proves the API key and secret, the method profile and which of
its methods the site exposes, and whose each user token is."""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from connectors.elgg import Elgg
from connectors.errors import UpstreamError
from connectors.http import Upstream
from graph.doctor.report import Check, Need, judge
from graph.sources.elgg.settings import ElggSettings, signing

__all__ = ["USER_TOKEN", "diagnose"]

USER_TOKEN = "a user token"  # noqa: S105 (a permission's name)
"""The permission of fields that act as a member (`joinGroup`): only a caller's token has it."""


async def diagnose(
    name: str,
    settings: ElggSettings,
    client: httpx.AsyncClient,
    callers: Sequence[str],
    needs: Sequence[Need],
) -> list[Check]:

    site = Elgg(
        Upstream(name, client, settings.url, signing(settings)),
        profile=settings.methods,
        overrides=settings.overrides,
    )
    checks: list[Check] = []
    try:
        listed = await site.call("system.api.list")
        exposed = await site.exposed()
    except UpstreamError as error:
        return [Check.failure("system.api.list", error)]
    keys = list(listed) if isinstance(listed, dict) else []
    verb_keys = any(":" in key for key in keys)
    checks.append(
        Check(
            "version",
            "unknown",
            "Elgg's web services do not say it; method keys "
            + ("VERB:name: Elgg 5 or later" if verb_keys else "name: Elgg 4 or earlier"),
        )
    )
    checks.append(Check("system.api.list", "ok", f"{len(exposed)} methods exposed"))
    signed_ok = True
    try:
        signed = await site.check_signature()
    except UpstreamError as error:
        signed_ok = False
        checks.append(Check.failure("signed call (api key and secret)", error))
    else:
        checks.append(
            Check("signed call (api key and secret)", "ok", f"{signed} accepted")
            if signed
            else Check(
                "signed call (api key and secret)",
                "unknown",
                "no exposed method needs API authentication without a user",
            )
        )
    profile = await site.method_profile()
    checks.append(Check("method profile", "ok", f"{profile.name} (configured: {settings.methods})"))
    methods = {}
    for need in needs:
        named = []
        for role in need.calls:
            method = profile.methods.get(role)  # type: ignore[call-overload]
            named.append(
                method.name if method else f"(the {profile.name} profile has none for {role})"
            )
        methods[need.field] = tuple(named)
    renamed = [type(need)(need.field, methods[need.field], need.permission) for need in needs]
    calls = {c for need in renamed for c in need.calls}
    present = {c for c in calls if c in exposed}
    absent = calls - present
    if not signed_ok:  # exposed, but no signed call of them would pass
        present, absent = set(), set()
    identities = [("application key", False)] + [
        (f"caller {i}", True) for i in range(1, len(callers) + 1)
    ]
    for (who, has_token), token in zip(identities, [None, *callers], strict=True):
        if token is not None:
            caller = Elgg(
                Upstream(name, client, settings.url, signing(settings, token)),
                profile=settings.methods,
                overrides=settings.overrides,
            )
            try:
                user = await caller.profile()
            except UpstreamError as error:
                checks.append(Check.failure(f"identity ({who})", error, blocking=False))
                continue
            checks.append(Check(f"identity ({who})", "ok", f"{user.username}"))
        checks += judge(
            renamed,
            who=who,
            present=present,
            absent=absent,
            granted={USER_TOKEN: has_token},
        )
    return checks
