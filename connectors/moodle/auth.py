"""Moodle's web service token as an `httpx.Auth`."""

from __future__ import annotations

from collections.abc import Generator

import httpx

from ..http import with_form_fields

__all__ = ["MoodleAuth"]


class MoodleAuth(httpx.Auth):
    """Adds `wstoken=<token>` to the form body. Moodle reads it from the query string too, but a
    URL ends up in access logs and proxies; a body does not."""

    requires_request_body = True

    def __init__(self, token: str | None) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        yield (
            request if self._token is None else with_form_fields(request, {"wstoken": self._token})
        )
