"""The `stats` module, typed nowhere in the gateway: reached only through the generic call."""

from __future__ import annotations

import sqlite3
from typing import Any

from .site import Site

__all__ = ["counters"]


def counters(site: Site, viewer: sqlite3.Row | None, data: dict[str, Any]) -> Any:
    return {
        name: site.rows(f"SELECT COUNT(*) FROM {name}")[0][0]
        for name in ("users", "articles", "sections")
    }
