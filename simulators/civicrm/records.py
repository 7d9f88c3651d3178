"""Records as CiviCRM sends them: every value a string, and API v3's envelope."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["chained_of", "texts", "v3_values"]


def texts(record: Mapping[str, Any]) -> dict[str, str]:
    """A record as CiviCRM sends it: strings, and no key where there is no value."""
    return {k: str(v) for k, v in record.items() if v is not None}


def v3_values(records: list[dict[str, Any]], sequential: bool, key: str) -> dict[str, Any]:
    values: Any = records if sequential else {r[key]: r for r in records}
    envelope: dict[str, Any] = {
        "is_error": 0,
        "version": 3,
        "count": len(records),
        "values": values,
    }
    if len(records) == 1:
        envelope["id"] = int(records[0][key])
    return envelope


def chained_of(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k.startswith("api.")}
