"""One API v3 call as an entity's handler receives it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .site import User

__all__ = ["Call"]


@dataclass(frozen=True)
class Call:
    """The entity and action, the parameters, and the options every call reads, read once."""

    entity: str
    action: str
    params: dict[str, Any]
    options: Mapping[str, Any]
    limit: int
    offset: int
    sequential: bool
    returned: Any
    """`return`: a list of field names once read (a string or `return[name]=1` before)."""
    chain: Callable[[User, Mapping[str, Any], dict[str, Any]], None]
    """Runs a record's chained calls (`api.Entity.action`), keeping their answers in it."""
