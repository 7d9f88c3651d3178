"""The sources this gateway serves: one package each, one line each in `SOURCES`.

To add a source, write its connector (`connectors/<name>/`), its package here (a `SourceSpec`
in `<name>/source.py`: see `eqsash/source.py`, the smallest) and add it below.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graph.sources.civicrm.source import CIVICRM
from graph.sources.elgg.source import ELGG
from graph.sources.eqsash.source import EQSASH
from graph.sources.flarum.source import FLARUM
from graph.sources.moodle.source import MOODLE
from graph.sources.spec import Acting, Connection, SignedIn, SourceSpec

__all__ = [
    "CIVICRM",
    "ELGG",
    "EQSASH",
    "FLARUM",
    "MOODLE",
    "SOURCES",
    "Acting",
    "Connection",
    "SignedIn",
    "SourceSpec",
]

SOURCES: Mapping[str, SourceSpec[Any, Any, Any]] = {
    spec.name: spec for spec in (FLARUM, MOODLE, CIVICRM, ELGG, EQSASH)
}
"""Every source, by name, in the order the graph lists them."""
