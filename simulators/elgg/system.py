"""`system.api.list`: the methods the site exposes, keyed as its Elgg version keys them."""

from __future__ import annotations

import sqlite3
from typing import Any

from .site import Site

__all__ = ["api_list"]


def api_list(site: Site, viewer: sqlite3.Row | None, p: dict[str, str]) -> Any:
    return {
        (f"{m.call_method}:{name}" if site.method_keys == "verb" else name): {
            "description": m.description,
            "parameters": {k: {"type": t, "required": r} for k, (t, r) in m.parameters.items()}
            or [],
            "call_method": m.call_method,
            "require_api_auth": m.require_api_auth,
            "require_user_auth": m.require_user_auth,
            "assoc": False,
        }
        for name, m in sorted(site.methods.items())
    }
