"""CiviCRM's doctor: the route and API style, the version (`System.get`, where the key may
read it), and, as each api key, whose it is and a one-row read of each entity the graph reads.
Writes cannot be tried read-only: they are reported as unknown."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx

from connectors.civicrm import Civicrm, CivicrmAuth
from connectors.errors import Forbidden, Unauthenticated, UpstreamError
from connectors.http import Upstream
from graph.doctor.report import Check, Need, judge
from graph.sources.civicrm.settings import CivicrmSettings, site

__all__ = ["diagnose"]

REQUIRED = re.compile(r"insufficient permission: require (.+?)\.?$")
"""CiviCRM's refusal names the permission: `... insufficient permission: require access
CiviCRM`."""


def reads(civicrm: Civicrm) -> dict[str, Callable[[], Awaitable[Any]]]:
    """One small read per entity the graph reads, through the connector (either API style)."""
    return {
        "Contact.get": lambda: civicrm.contacts(ids=[1]),
        "Group.get": lambda: civicrm.groups(ids=[1]),
        "GroupContact.get": lambda: civicrm.memberships(group_ids=[1]),
    }


async def diagnose(
    name: str,
    settings: CivicrmSettings,
    client: httpx.AsyncClient,
    callers: Sequence[str],
    needs: Sequence[Need],
) -> list[Check]:
    style = "API v3 (entity=…&action=…)" if settings.api_style == "entity" else "q=civicrm/…"
    checks = [Check("endpoint", "ok", f"{settings.rest_path}, {style}")]
    keys = [("service api_key", settings.api_key)] if settings.api_key else []
    keys += [(f"caller {i}", key) for i, key in enumerate(callers, 1)]
    if not keys:
        checks.append(
            Check("api key", "unknown", "no api key to ask with: give --as civicrm=API_KEY")
        )
        return checks + judge(needs, who="no api key", present=())
    version_said = False

    for who, key in keys:
        civicrm = site(
            Upstream(name, client, settings.url, CivicrmAuth(settings.site_key, key)), settings
        )
        try:
            me = await civicrm.me()
        except UpstreamError as error:
            checks.append(Check.failure(f"identity ({who})", error))
            continue
        checks.append(
            Check(
                f"identity ({who})",
                "ok",
                f"contact {me.id} ({me.display_name})"
                if me
                else "the q= style cannot say whose"
                if settings.api_style == "q"
                else "CiviCRM shows this key no contact of its own (its user may lack "
                "'access CiviCRM')",
            )
        )
        if not version_said and settings.api_style == "entity":
            version_said = True
            checks.append(await version(civicrm))
        present: set[str] = set()
        absent: set[str] = set()
        refused: dict[str, str] = {}
        for call, read in reads(civicrm).items():
            try:
                await read()
            except (Unauthenticated, Forbidden) as error:
                named = REQUIRED.search(error.message)
                refused[call] = named.group(1) if named else f"to {call} ({error.message})"
            except UpstreamError as error:
                absent.add(call)
                checks.append(Check.failure(f"{call} ({who})", error))
            else:
                present.add(call)
        checks += judge(needs, who=who, present=present, absent=absent, refused=refused)
    return checks


async def version(civicrm: Civicrm) -> Check:
    """`System.get`: allowed to administrators; a refusal is no fault of the site."""
    try:
        answer = await civicrm._v3("System", "get", {})
    except UpstreamError as error:
        return Check("version", "unknown", f"System.get refused ({error.message})")
    values = answer.get("values") if isinstance(answer, dict) else None
    found = values[0] if isinstance(values, list) and values else {}
    if isinstance(found, dict) and found.get("version"):
        uf = found.get("uf")
        return Check("version", "ok", f"CiviCRM {found['version']}" + (f" on {uf}" if uf else ""))
    return Check("version", "unknown", "System.get did not say the version")
