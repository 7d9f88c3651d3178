"""`OptionValue.get`: the options of the option groups custom fields use."""

from __future__ import annotations

from typing import Any

from .calls import Call
from .records import texts, v3_values
from .site import Site, User

__all__ = ["get"]


def get(site: Site, user: User, call: Call) -> Any:
    """`OptionValue.get`, by option group."""
    params, sequential = call.params, call.sequential
    wanted = params.get("option_group_id")
    ids = [
        int(i)
        for i in (wanted.get("IN", []) if isinstance(wanted, dict) else [wanted])
        if i is not None
    ]
    chosen = site.store.all(
        f"SELECT * FROM option_values WHERE option_group_id IN"
        f" ({','.join('?' * len(ids)) or 'NULL'}) ORDER BY id",
        ids,
    )
    return v3_values([texts(dict(r)) for r in chosen], sequential, "id")
