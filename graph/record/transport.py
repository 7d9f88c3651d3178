"""A transport that sends each request on and keeps it with its answer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

import httpx

__all__ = ["Exchange", "RecordingTransport"]


@dataclass(frozen=True)
class Exchange:
    """One request the gateway sent and what the site answered, unredacted (kept in memory
    only, until `redact.py` has made it a line of the corpus)."""

    role: str
    method: str
    path: str
    query: list[tuple[str, str]]
    form: list[tuple[str, str]]
    status: int
    content_type: str
    content: bytes


class RecordingTransport(httpx.AsyncBaseTransport):
    """Sends every request through `inner` and keeps it (`exchanges`), with the role whose
    token it carries (`roles`: token → role; none: `service`)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, roles: Mapping[str, str]) -> None:
        self.inner = inner
        self.roles = dict(roles)
        self.exchanges: list[Exchange] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        response = await self.inner.handle_async_request(request)
        content = await response.aread()
        form = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True) if body else []
        query = parse_qsl(request.url.query.decode(), keep_blank_values=True)
        self.exchanges.append(
            Exchange(
                role=self.role_of(request, body),
                method=request.method,
                path=request.url.path,
                query=query,
                form=form,
                status=response.status_code,
                content_type=response.headers.get("content-type", ""),
                content=content,
            )
        )
        return httpx.Response(
            response.status_code, headers=response.headers, content=content, request=request
        )

    def role_of(self, request: httpx.Request, body: bytes) -> str:
        seen = b" ".join([body, request.url.query, *(v.encode() for v in request.headers.values())])
        for token, role in self.roles.items():
            if token and token.encode() in seen:
                return role
        return "service"

    async def aclose(self) -> None:
        await self.inner.aclose()
