"""The doctor's report for the caller of a request: `GET /playground/doctor.json`.

The same checks as `legacygraph doctor --json`, read-only, against the gateway's configured
sources with its own clients, as the caller of the request: their source headers or their
`Authorization: Bearer` gateway session, read as `/graphql` reads them. A report is kept for
the caller a short while (`KEEP_S`), and callers asking at the same time share one run: the
checks make several upstream requests, and a page reload should not make them again.
Reports are kept under a keyed hash of the caller's credentials, never a credential.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from connectors.errors import Unauthenticated
from graph.credentials import Credentials
from graph.doctor.run import doctor
from graph.gateway import Gateway
from graph.idempotency import caller_of
from graph.session import InvalidSession, session_of

__all__ = ["KEEP_S", "KeptReports", "doctor_endpoint", "for_callers"]

KEEP_S = 30.0
"""How long a caller's report is kept (seconds)."""
MOST_CALLERS = 256
"""How many callers' reports are kept at once; the oldest go first."""


class KeptReports:
    """Each caller's report (as JSON), kept `keep_s` seconds from when its run began; a caller
    asking while their run is under way waits for it. `clock` is injected in tests."""

    def __init__(
        self,
        keep_s: float = KEEP_S,
        *,
        most: int = MOST_CALLERS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.keep_s = keep_s
        self.most = most
        self.clock = clock
        self._kept: dict[str, tuple[float, asyncio.Future[dict[str, Any]]]] = {}

    async def get(self, caller: str, run: Callable[[], Any]) -> dict[str, Any]:
        """The caller's kept report, or `run()`'s (a coroutine answering the report's JSON)."""
        now = self.clock()
        kept = self._kept.get(caller)
        if kept is None or now - kept[0] >= self.keep_s or kept[1].cancelled():
            for old in [k for k, (at, _) in self._kept.items() if now - at >= self.keep_s]:
                del self._kept[old]
            while len(self._kept) >= self.most:
                del self._kept[next(iter(self._kept))]
            kept = (now, asyncio.ensure_future(run()))
            self._kept[caller] = kept
        started, running = kept
        try:
            return await asyncio.shield(running)
        except Exception:
            if self._kept.get(caller) == (started, running):
                del self._kept[caller]  # a failed run is not kept
            raise


AS_CALLER = re.compile(r"\((guest|caller \d+)\)$")
"""The checks made as the caller (or as a guest); the others are made as the gateway's own
configured identity."""


def for_callers(report: dict[str, Any]) -> dict[str, Any]:
    """The report without what only the operator should read: each source's upstream URL, and
    the checks made as the gateway's own identity (its service key, application key or token),
    whose details name that identity and what it may do."""
    sources = []
    for source in report["sources"]:
        checks = [
            check
            for check in source["checks"]
            if not check["name"].endswith(")") or AS_CALLER.search(check["name"])
        ]
        sources.append({key: value for key, value in source.items() if key != "url"})
        sources[-1]["checks"] = checks
    return {**report, "sources": sources}


def refusal(message: str, code: str, status: int) -> Response:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status)


def doctor_endpoint(kept: KeptReports) -> Callable[[Request], Any]:
    """The route's handler: the report as JSON (`ok`, `sources`, each with its `checks`), with
    200 whether or not every part works (the report says), or 401 for credentials the gateway
    cannot read."""

    async def report_for_caller(request: Request) -> Response:
        gateway: Gateway = request.app.state.gateway
        try:
            session = session_of(request.headers.get("authorization", ""), gateway.sessions)
        except InvalidSession as error:
            return refusal(str(error), "UNAUTHENTICATED", 401)
        credentials = Credentials.from_headers(request.headers, session)
        try:
            tokens = {
                source: token
                for source in credentials.tokens
                if (token := credentials.token(source)) is not None
            }
        except Unauthenticated as error:
            return refusal(error.message, "UNAUTHENTICATED", 401)

        async def run() -> dict[str, Any]:
            callers = {source: [token] for source, token in tokens.items()}
            report = await doctor(gateway.settings, callers, clients=gateway.clients)
            return for_callers(report.as_json())

        answer = await kept.get(caller_of(tokens, gateway.caller_key), run)
        return JSONResponse(answer, headers={"cache-control": "private, no-store"})

    return report_for_caller
