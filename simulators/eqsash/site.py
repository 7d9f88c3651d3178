"""What the site's modules share: the database, the call counter and the client key."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..counting import RequestCounter
from ..database import Database

__all__ = ["ApiError", "Site", "ids_of", "one_id"]


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Site:
    database: Database
    calls: RequestCounter
    """Module methods called, as `module.method`."""
    api_key: str

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        return self.database.all(sql, params)


def ids_of(data: Mapping[str, Any], name: str = "ids") -> list[int]:
    value = data.get(name)
    if not isinstance(value, list) or not all(
        isinstance(i, int) or str(i).isdigit() for i in value
    ):
        raise ApiError(400, "bad_data", f"data.{name} must be a list of ids")
    return [int(i) for i in value]


def one_id(data: Mapping[str, Any]) -> int:
    value = str(data.get("id", ""))
    if not value.isdigit():
        raise ApiError(400, "bad_data", "data.id must be an id")
    return int(value)
