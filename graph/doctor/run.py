"""Run every configured source's checks and print the report (`legacygraph doctor`)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from contextlib import nullcontext

import httpx

from connectors.errors import UpstreamError
from graph.config import Settings
from graph.doctor.report import Check, Report, SourceReport
from graph.server.health import ping
from graph.sources import SOURCES

__all__ = ["doctor", "print_report"]

CANNOT_CONNECT = ("unavailable", "timeout")


async def doctor(
    settings: Settings,
    callers: Mapping[str, Sequence[str]],
    *,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    clients: Mapping[str, httpx.AsyncClient] | None = None,
) -> Report:
    """Every configured source, one after the other, each as the gateway reaches it: its
    readiness probe (`ping`), then its own read-only checks as its configured identity and as
    each caller token of `callers` (by source). `transports` replaces sources' networks
    (tests over recorded sites); `clients`, a running gateway's own clients (its TLS, proxy and
    pool), used and left open."""
    report = Report()
    for name, source in settings.sources.configured().items():
        spec = SOURCES[name]
        found = SourceReport(name, source.url)
        report.sources.append(found)
        transport = (transports or {}).get(name)
        shared = (clients or {}).get(name)
        opened = (
            nullcontext(shared)
            if shared is not None
            else source.new_client(max_connections=1, transport=transport)
        )
        async with opened as client:
            reached = True
            try:
                found.add("reachable", "ok", await ping(name, source, client))
            except UpstreamError as error:
                found.checks.append(Check.failure("reachable", error))
                reached = error.kind not in CANNOT_CONNECT
            except httpx.InvalidURL as error:
                found.add("reachable", "failed", f"invalid URL: {error}")
                reached = False
            if not reached:
                found.add("the other checks", "unknown", "not made: the site did not answer")
            elif spec.diagnose is None:
                found.add("fields", "unknown", "this source has no checks beyond reachability")
            else:
                try:
                    found.checks += await spec.diagnose(
                        name, source, client, callers.get(name, ()), spec.needs
                    )
                except UpstreamError as error:
                    found.checks.append(Check.failure("checks", error))
    return report


def print_report(report: Report, *, as_json: bool) -> int:
    """Print it as lines (✓ ✗ ?) or as JSON; 1 where a configured part cannot work."""
    if as_json:
        print(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
    else:
        for line in report.lines():
            print(line)
    return 0 if report.ok else 1
