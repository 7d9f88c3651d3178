"""Each source's GraphQL module, `graph/types/<name>.py`, by name, in the registry's order."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from types import ModuleType

from ..sources import SOURCES

__all__ = ["SOURCE_TYPES"]

SOURCE_TYPES: Mapping[str, ModuleType] = {
    name: import_module(f"{__package__}.{name}") for name in SOURCES
}
"""What each gives: its types, `QUERY`, `MUTATION`, `GROUPS`, `NODES`, `ACCOUNT` and
`VIEWER_DESCRIPTION`."""
