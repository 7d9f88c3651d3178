"""What the site's functions share: the store, the functions the site has, the call counter
and the latency it plays; and who is calling."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..counting import RequestCounter
from .params import Struct
from .store import MoodleStore

__all__ = ["SITE_URL", "Caller", "Function", "Site"]

SITE_URL = "https://moodle.invalid"


@dataclass
class Site:
    store: MoodleStore
    functions: Mapping[str, Function]
    """The web service functions this site has, by name."""
    latency_s: float = 0.0
    calls: RequestCounter = field(default_factory=RequestCounter)
    """Every function executed, by name."""


@dataclass(frozen=True)
class Caller:
    user: sqlite3.Row
    service: str

    @property
    def id(self) -> int:
        return int(self.user["id"])

    @property
    def is_admin(self) -> bool:
        return bool(self.user["is_admin"])


@dataclass(frozen=True)
class Function:
    params: Struct
    run: Callable[[Site, Caller, dict[str, Any]], Any]
