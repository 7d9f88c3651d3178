"""Each source's GraphQL module, `graph/schema/types/<name>.py`, by name, in registry order."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from types import ModuleType

from graph.sources import SOURCES

__all__ = ["SOURCE_TYPES"]

SOURCE_TYPES: Mapping[str, ModuleType] = {
    name: import_module(f"{__package__}.{name}") for name in SOURCES
}
"""What each gives: its types, `QUERY`, `MUTATION`, `GROUPS`, `NODES`, `ACCOUNT` and
`VIEWER_DESCRIPTION`."""
