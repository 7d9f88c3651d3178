"""What the site's methods share: the database, the clock, the client check's memory, the
counters, and the options `create_app` was given."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..counting import RequestCounter
from ..database import Database

__all__ = ["ApiError", "Method", "Site"]


class ApiError(Exception):
    def __init__(self, message: str, status: int = -1) -> None:
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Method:
    run: Callable[[Site, sqlite3.Row | None, dict[str, str]], Any]
    description: str
    parameters: Mapping[str, tuple[str, bool]]
    """name → (type, required)."""
    call_method: str = "GET"
    require_user_auth: bool = False
    require_api_auth: bool = True


@dataclass
class Site:
    database: Database
    methods: Mapping[str, Method]
    """The methods the site's plugin exposes, by name."""
    clock: Callable[[], float]
    api_key: str
    secret: str
    """The API key pair the site's administrator created for its client."""
    method_keys: str = "verb"
    legacy_hmac: bool = False
    legacy_envelope: bool = False
    latency_s: float = 0.0
    calls: RequestCounter = field(default_factory=RequestCounter)
    refusals: list[str] = field(default_factory=list)
    """Why each refused signature was refused."""
    seen_signatures: set[str] = field(default_factory=set)
    replay_lock: threading.Lock = field(default_factory=threading.Lock)

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        return self.database.all(sql, params)

    def one(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        found = self.rows(sql, params)
        return found[0] if found else None
