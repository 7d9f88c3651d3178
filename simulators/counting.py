"""Counting the requests a simulator served, so tests can assert what a query cost upstream."""

from __future__ import annotations

import re
import threading
from collections import Counter

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["CountRequests", "RequestCounter"]

COUNTS_PATH = "/_simulator/requests"
NUMERIC_SEGMENT = re.compile(r"/\d+(?=/|$)")


def route_key(method: str, path: str) -> str:
    """`GET /api/discussions/12` counts as `GET /api/discussions/{id}`."""
    return f"{method} {NUMERIC_SEGMENT.sub('/{id}', path)}"


class RequestCounter:
    """Requests served, by method and route. Safe to read from the thread that runs the tests."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.in_flight = 0
        self.peak_in_flight = 0
        """The most requests it was serving at once since the last reset."""

    def add(self, key: str) -> None:
        with self._lock:
            self._counts[key] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self.peak_in_flight = self.in_flight

    def enter(self, key: str) -> None:
        with self._lock:
            self._counts[key] += 1
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def routes(self) -> list[Route]:
        """`GET /_simulator/requests` reads the counts, `DELETE` resets them (for benchmarks)."""

        async def counts(request: Request) -> Response:
            if request.method == "DELETE":
                self.reset()
            return JSONResponse(self.snapshot())

        return [Route(COUNTS_PATH, counts, methods=["GET", "DELETE"])]


class CountRequests:
    """ASGI middleware: count every HTTP request but those to the counter itself."""

    def __init__(self, app: ASGIApp, counter: RequestCounter) -> None:
        self.app = app
        self.counter = counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == COUNTS_PATH:
            await self.app(scope, receive, send)
            return
        self.counter.enter(route_key(scope["method"], scope["path"]))
        try:
            await self.app(scope, receive, send)
        finally:
            self.counter.leave()
