"""The sources this gateway serves: one module each, one line each in `SOURCES`.

To add a source, write its connector (`connectors/<name>/`), its module here (a `SourceSpec`:
see `eqsash.py`, the smallest) and add it below.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .civicrm import CIVICRM
from .elgg import ELGG
from .eqsash import EQSASH
from .flarum import FLARUM
from .moodle import MOODLE
from .spec import Reach, SignedIn, SourceSpec

__all__ = [
    "CIVICRM",
    "ELGG",
    "EQSASH",
    "FLARUM",
    "MOODLE",
    "SOURCES",
    "Reach",
    "SignedIn",
    "SourceSpec",
]

SOURCES: Mapping[str, SourceSpec[Any, Any, Any]] = {
    spec.name: spec for spec in (FLARUM, MOODLE, CIVICRM, ELGG, EQSASH)
}
"""Every source, by name, in the order the graph lists them."""
