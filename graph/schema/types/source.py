"""`Source`: the legacy systems behind the gateway, as the graph names them.

Written out member by member, in the registry's order (`graph/sources/__init__.py`):
`tests/graph/sources/test_sources.py` fails when a source of the registry is missing here.
"""

from __future__ import annotations

from enum import Enum

import strawberry

__all__ = ["Source"]


@strawberry.enum(description="A legacy system behind the gateway.")
class Source(Enum):
    """A legacy system behind the gateway: `Source("moodle")`, by its name in the registry."""

    FLARUM = "flarum"
    MOODLE = "moodle"
    CIVICRM = "civicrm"
    ELGG = "elgg"
    EQSASH = "eqsash"
