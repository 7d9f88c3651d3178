"""Relationships and their types (issue27.jsonl)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .calls import Call
from .records import texts, v3_values
from .site import Site, User

__all__ = ["get", "get_types", "relationships"]


def relationships(site: Site, params: Mapping[str, Any]) -> list[dict[str, str]]:
    """`contact_id_a`/`contact_id_b` (one or IN), both required unless `options.or` pairs
    them (issue27.jsonl 262, 265)."""
    tests: list[str] = []
    args: list[Any] = []
    for side in ("contact_id_a", "contact_id_b"):
        value = params.get(side)
        if value is None:
            continue
        ids = value.get("IN", []) if isinstance(value, dict) else [value]
        tests.append(f"{side} IN ({','.join('?' * len(ids)) or 'NULL'})")
        args += [int(i) for i in ids]
    either = ["contact_id_a", "contact_id_b"] in (params.get("options") or {}).get("or", [])
    where = (" OR " if either else " AND ").join(tests) or "1"
    rows = site.store.all(f"SELECT * FROM relationships WHERE {where} ORDER BY id", args)
    return [texts(dict(r)) for r in rows]


def get(site: Site, user: User, call: Call) -> Any:
    """`Relationship.get`."""
    params, sequential = call.params, call.sequential
    return v3_values(relationships(site, params), sequential, "id")


def get_types(site: Site, user: User, call: Call) -> Any:
    """`RelationshipType.get`."""
    sequential = call.sequential
    kinds = site.store.all("SELECT * FROM relationship_types ORDER BY id")
    return v3_values([texts(dict(r)) for r in kinds], sequential, "id")
