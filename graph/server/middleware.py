"""The middleware every request passes that is the gateway's own: the access log and request
metrics, and the body limit."""

from __future__ import annotations

import logging
import time

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph.context import Context
from graph.server.endpoint import CONTEXT_KEY
from graph.server.metrics import Metrics

__all__ = ["AccessLog", "LimitBody"]


access_log = logging.getLogger("legacygraph.access")


class AccessLog:
    """One line per request: method, path, operation, status, time, upstream calls. The query
    string is left out (a GET query's variables may hold a password), and so are all headers."""

    def __init__(self, app: ASGIApp, metrics: Metrics, *, log: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        noted = False

        def note() -> None:
            nonlocal noted
            if not noted:
                noted = True
                self._note(scope, status, time.perf_counter() - started)

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                # Noted before the last bytes leave: a client that has its answer finds the
                # request already counted in /metrics and written to the log.
                note()
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            note()

    def _note(self, scope: Scope, status: int, seconds: float) -> None:
        context = scope.get("state", {}).get(CONTEXT_KEY)
        if isinstance(context, Context):
            outcome = context.outcome if status < 400 else "failed"
            self.metrics.observe(context.operation_name, outcome, seconds, context.stats)
        # The line is made only when it is written (a deployment may raise the logger's level).
        if self.log and access_log.isEnabledFor(logging.INFO):
            upstream = "-"
            cached = "-"
            operation = "-"
            if isinstance(context, Context):
                operation = context.operation_name or "-"
                upstream = ",".join(f"{s}:{n}" for s, n in context.stats.requests.items()) or "0"
                cached = ",".join(f"{s}:{n}" for s, n in context.stats.hits.items()) or "0"
            access_log.info(
                "%s %s op=%s status=%d %.1fms upstream=%s cached=%s",
                scope["method"],
                scope["path"],
                operation,
                status,
                seconds * 1000,
                upstream,
                cached,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "operation": operation,
                    "status": status,
                    "ms": round(seconds * 1000, 1),
                    "upstream": upstream,
                    "cached": cached,
                },
            )


class BodyTooLarge(Exception):
    pass


class LimitBody:
    """Refuse a request body larger than `max_bytes` (413, in GraphQL's error format), whether
    it says its length up front or streams it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        seen = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise BodyTooLarge
            return message

        async def noting_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, noting_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = {
            "message": f"The request body is larger than {self.max_bytes} bytes",
            "extensions": {"code": "QUERY_TOO_COMPLEX", "limit": "body", "max": self.max_bytes},
        }
        await JSONResponse({"errors": [refusal]}, status_code=413)(scope, receive, send)
