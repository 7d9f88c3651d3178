"""Eqsash's site key and the user's token (or session id) as an `httpx.Auth`."""

from __future__ import annotations

from collections.abc import Generator

import httpx

from ..http import rebuilt, with_form_fields

__all__ = ["EqsashAuth"]


class EqsashAuth(httpx.Auth):
    """Adds `key`, and `token` or the session field, to the form body of a POST (or the query of
    a GET, for methods an operator configured to go by GET)."""

    def __init__(
        self,
        api_key: str,
        *,
        token: str | None = None,
        session: str | None = None,
        session_name: str = "EQSASH_SESSION",
    ) -> None:
        if token and session:
            raise ValueError("a request acts as one identity: give a token or a session, not both")
        self._fields = {"key": api_key}
        if token:
            self._fields["token"] = token
        elif session:
            self._fields[session_name] = session

    requires_request_body = True

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if request.method == "GET":
            yield rebuilt(request, url=request.url.copy_merge_params(self._fields))
        else:
            yield with_form_fields(request, self._fields)
