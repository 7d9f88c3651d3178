"""The `sections` module: every section, keyed by id (Eqsash's `json_object` format)."""

from __future__ import annotations

import sqlite3
from typing import Any

from .site import Site

__all__ = ["list_all"]


def list_all(site: Site, viewer: sqlite3.Row | None, data: dict[str, Any]) -> Any:
    return {
        str(r["id"]): {"id": r["id"], "name": r["name"], "slug": r["slug"]}
        for r in site.rows("SELECT * FROM sections ORDER BY id")
    }
