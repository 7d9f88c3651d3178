"""A request's headers read once into a dict, for the handful of look-ups every request makes.

Starlette's `Headers.get` encodes the name and walks the raw header list at each look-up; one
GraphQL request looks up about ten (each source's credential header, the session, `Accept`,
`Content-Type`, the trace switch, the idempotency key). Here the list is decoded once per
request into a dict that answers as Starlette's `Headers` does: names in any case, the first
of repeated headers.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import HTTPConnection

__all__ = ["HEADERS_KEY", "RequestHeaders", "headers_of"]

HEADERS_KEY = "legacygraph.headers"
"""Where a request keeps its `RequestHeaders`, in its scope's state."""


class RequestHeaders(dict[str, str]):
    """Header names (lower case, as ASGI sends them) to the first value sent under each; looked
    up in any case."""

    def __getitem__(self, name: str) -> str:
        return dict.__getitem__(self, name.lower())

    def get(self, name: str, default: Any = None) -> Any:
        return dict.get(self, name.lower(), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and dict.__contains__(self, name.lower())


def headers_of(request: HTTPConnection) -> RequestHeaders:
    """The request's headers, decoded once per request (kept in its scope's state)."""
    state = request.scope.setdefault("state", {})
    found: RequestHeaders | None = state.get(HEADERS_KEY)
    if found is None:
        found = RequestHeaders()
        for key, value in request.scope["headers"]:
            name = key.decode("latin-1")
            if name not in found:
                dict.__setitem__(found, name, value.decode("latin-1"))
        state[HEADERS_KEY] = found
    return found
