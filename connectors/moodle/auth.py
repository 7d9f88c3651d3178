"""Moodle's web service token as an `httpx.Auth`."""

from __future__ import annotations

from collections.abc import Generator
from urllib.parse import urlencode

import httpx

__all__ = ["MoodleAuth"]


class MoodleAuth(httpx.Auth):
    """Adds `wstoken=<token>` to the form body. Moodle reads it from the query string too, but a
    URL ends up in access logs and proxies; a body does not."""

    requires_request_body = True

    def __init__(self, token: str | None) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._token is None:
            yield request
            return
        extra = urlencode({"wstoken": self._token}).encode()
        body = request.content + b"&" + extra if request.content else extra
        headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        yield httpx.Request(
            request.method,
            request.url,
            headers=headers,
            content=body,
            extensions=request.extensions,
        )
