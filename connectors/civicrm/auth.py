"""CiviCRM's two keys as an `httpx.Auth`."""

from __future__ import annotations

from collections.abc import Generator

import httpx

from ..http import with_form_fields

__all__ = ["CivicrmAuth"]


class CivicrmAuth(httpx.Auth):
    """Adds `key=<site key>` (the deployment's secret) and `api_key=<the user's key>` to the form
    body, where neither ends up in a URL or an access log."""

    requires_request_body = True

    def __init__(self, site_key: str, api_key: str | None) -> None:
        self._fields = {"key": site_key, **({"api_key": api_key} if api_key else {})}

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        yield with_form_fields(request, self._fields)
