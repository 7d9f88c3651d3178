"""The `[sources]` table: one section per source, typed as that source's settings class."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, TypeVar

from graph.sources.civicrm.settings import CivicrmSettings
from graph.sources.elgg.settings import ElggSettings
from graph.sources.eqsash.settings import EqsashSettings
from graph.sources.flarum.settings import FlarumSettings
from graph.sources.moodle.settings import MoodleSettings
from graph.sources.settings import SourceSettings
from graph.sources.spec import SourceSpec

__all__ = ["SourcesSettings"]

SettingsT = TypeVar("SettingsT", bound=SourceSettings)


@dataclass(frozen=True)
class SourcesSettings:
    """`[sources.<name>]`: each source's settings, or None where the source is not served.

    One field per source of the registry (`graph/sources/__init__.py`), in its order, named as
    the source is; `tests/graph/sources/test_sources.py` fails when the two differ.
    """

    flarum: FlarumSettings | None = None
    moodle: MoodleSettings | None = None
    civicrm: CivicrmSettings | None = None
    elgg: ElggSettings | None = None
    eqsash: EqsashSettings | None = None

    def configured(self) -> dict[str, SourceSettings]:
        """The sources that have a section, by name, in the registry's order."""
        return {
            f.name: section for f in fields(self) if (section := getattr(self, f.name)) is not None
        }

    def of(self, spec: SourceSpec[SettingsT, Any, Any]) -> SettingsT | None:
        """One source's section, typed as its settings class; None where it is not configured."""
        section: SettingsT | None = getattr(self, spec.name)
        return section

    def check(self, where: str) -> None:
        for name, section in self.configured().items():
            section.check(f"{where}.{name}")
