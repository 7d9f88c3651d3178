"""A MockTransport handler that records what a connector sent, to assert how calls were made."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl

import httpx

__all__ = ["Recorder"]


class Recorder:
    """Answers every request with `respond` and keeps the requests."""

    def __init__(self, respond: Callable[[httpx.Request], httpx.Response]) -> None:
        self.respond = respond
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.respond(request)

    def params(self, index: int = 0) -> dict[str, str]:
        """The query parameters of request `index`."""
        return dict(parse_qsl(self.requests[index].url.query.decode(), keep_blank_values=True))

    def form(self, index: int = 0) -> dict[str, str]:
        """The url-encoded body of request `index`."""
        return dict(parse_qsl(self.requests[index].content.decode(), keep_blank_values=True))
