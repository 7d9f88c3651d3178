"""The caller's credential per source, as the request sent it (a source's header, or a gateway
session's tokens)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from connectors.errors import Unauthenticated
from graph.sources import SOURCES

__all__ = ["CALLER_HEADERS", "Credentials"]

CALLER_HEADERS: Mapping[str, str] = {name: spec.header for name, spec in SOURCES.items()}
"""The request header that carries the caller's own credential for each source."""

TOKEN_SHAPE = re.compile(r"[A-Za-z0-9._~+/=-]{1,512}")


@dataclass(frozen=True)
class Credentials:
    """The caller's credential per source, as sent; `None` where the caller sent none."""

    tokens: Mapping[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_headers(
        cls, headers: Mapping[str, str], session: Mapping[str, str] | None = None
    ) -> Credentials:
        """The source headers; a gateway session's tokens fill in the sources they do not name."""
        tokens = {s: t for s, t in (session or {}).items() if s in CALLER_HEADERS}
        for source, header in CALLER_HEADERS.items():
            value = headers.get(header, "").strip()
            if value:
                tokens[source] = value
        return cls(tokens)

    def token(self, source: str) -> str | None:
        """The caller's token for `source`; a malformed one is refused, not passed on."""
        value = self.tokens.get(source)
        if value is not None and not TOKEN_SHAPE.fullmatch(value):
            raise Unauthenticated(source, f"the {CALLER_HEADERS[source]} header is malformed")
        return value
