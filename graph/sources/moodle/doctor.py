"""Moodle's doctor: site info as each token (version, the service's functions, whether the
token's user is a site administrator) and the multi-call. Read-only: the status function
(`mod_assign_get_submission_status`), which writes, is only looked up in the lists."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from connectors.errors import UpstreamError
from connectors.http import Upstream
from connectors.moodle import MULTICALL, Moodle, MoodleAuth
from graph.doctor.report import Check, Need, judge
from graph.sources.moodle.settings import MoodleSettings

__all__ = ["ACCESS_EXCEPTION", "diagnose"]

ACCESS_EXCEPTION = (
    "; Moodle says this when the token's service is disabled (the mobile service off: Site "
    "administration > Mobile app > Mobile settings), when the user may not use REST "
    "(webservice/rest:use), or when the service allows only some users"
)
"""What a refused site info means (recorded on 4.5.6: the mobile service off, and a role that
prohibits webservice/rest:use, answer the same)."""


async def diagnose(
    name: str,
    settings: MoodleSettings,
    client: httpx.AsyncClient,
    callers: Sequence[str],
    needs: Sequence[Need],
) -> list[Check]:
    tokens = [("service token", settings.token)] if settings.token else []
    tokens += [(f"caller {i}", token) for i, token in enumerate(callers, 1)]
    checks = [Check("login", "ok", f"callers sign in for the service {settings.service!r}")]
    if not tokens:
        checks.append(
            Check(
                "functions",
                "unknown",
                "no token to ask with: give --as moodle=TOKEN (or [sources.moodle] token)",
            )
        )
        return checks + judge(needs, who="no token", present=())
    version_said = False
    for who, token in tokens:
        moodle = Moodle(Upstream(name, client, settings.url, MoodleAuth(token)))
        try:
            info: Any = await moodle.call("core_webservice_get_site_info")
        except UpstreamError as error:
            failed = Check.failure(f"site info ({who})", error)
            if error.upstream_code == "accessexception":
                failed = Check(failed.name, "failed", failed.detail + ACCESS_EXCEPTION)
            checks.append(failed)
            continue
        functions = {f.get("name") for f in info.get("functions", []) if isinstance(f, dict)}
        admin = bool(info.get("userissiteadmin"))
        if not version_said:
            version_said = True
            release = info.get("release") or "release not shown"
            checks.append(Check("version", "ok", f"Moodle {release} ({info.get('version', '?')})"))
        checks.append(
            Check(
                f"identity ({who})",
                "ok",
                f"{info.get('username', '?')}"
                f"{', a site administrator' if admin else ''}; its service allows "
                f"{len(functions)} functions",
            )
        )
        if MULTICALL in functions:
            checks.append(Check(f"multi-call ({who})", "ok", f"{MULTICALL}: one request per batch"))
        else:
            checks.append(
                Check(
                    f"multi-call ({who})",
                    "failed",
                    f"missing function {MULTICALL}: every call of a batch is a request of "
                    "its own (works, slower; the mobile service has it)",
                    blocking=False,
                )
            )
        calls = {c for need in needs for c in need.calls}
        checks += judge(
            needs,
            who=who,
            present=calls & functions,
            absent=calls - functions,
            everything=admin,
        )
    return checks
