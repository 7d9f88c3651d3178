"""Flarum's header authentication as an `httpx.Auth`."""

from __future__ import annotations

from collections.abc import Generator

import httpx

__all__ = ["FlarumAuth"]


class FlarumAuth(httpx.Auth):
    """`Authorization: Token <token>` for a user, `Token <key>; userId=<id>` for an API key.

    With neither, the request goes out as a guest (no header at all). Flarum treats an unknown
    token as a guest too, so a bad token is only noticed when a write is refused.
    """

    def __init__(
        self, *, token: str | None = None, api_key: str | None = None, user_id: int | None = None
    ) -> None:
        if token and api_key:
            raise ValueError("a request acts as one identity: give a token or an API key, not both")
        self.is_user_token = bool(token)
        """Acting as a user's own token (which Flarum reads as a guest's if it does not know
        it), not an API key or a guest."""
        if token:
            self._header: str | None = f"Token {token}"
        elif api_key:
            self._header = f"Token {api_key}" + (f"; userId={user_id}" if user_id else "")
        else:
            self._header = None

    @property
    def is_guest(self) -> bool:
        return self._header is None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._header is not None:
            request.headers["Authorization"] = self._header
        yield request
