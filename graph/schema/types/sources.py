"""Each source's GraphQL module, `graph/schema/types/<name>.py`, and its parts of the shared types,
listed by hand in the registry's order.

A new source adds its `TYPES` to `SOURCE_TYPES` and each part it has to the class below that
gathers them: its root fields (`<Name>Query`, `<Name>Mutation`), its field of `Viewer`
(`<Name>Viewer`), its account field of `Person` (`<Name>PersonAccount`) and any other fields of
`Person` (`<Name>PersonFields`). `tests/graph/sources/test_sources.py` fails where one is missing.
"""

from __future__ import annotations

from collections.abc import Mapping

import strawberry

from graph.schema.types import civicrm, elgg, eqsash, flarum, moodle
from graph.schema.types.common import SourceTypes

__all__ = [
    "SOURCE_TYPES",
    "SourcesMutation",
    "SourcesPersonAccounts",
    "SourcesPersonFields",
    "SourcesQuery",
    "SourcesViewer",
]

SOURCE_TYPES: Mapping[str, SourceTypes] = {
    "flarum": flarum.TYPES,
    "moodle": moodle.TYPES,
    "civicrm": civicrm.TYPES,
    "elgg": elgg.TYPES,
    "eqsash": eqsash.TYPES,
}
"""What each gives beside the parts below: its account type, its types that global ids name
and its groups."""


@strawberry.type
class SourcesQuery(
    flarum.FlarumQuery, moodle.MoodleQuery, civicrm.CivicrmQuery, eqsash.EqsashQuery
):
    """The sources' root fields of `Query` (`graph/schema/root.py`)."""


@strawberry.type
class SourcesMutation(
    flarum.FlarumMutation, moodle.MoodleMutation, civicrm.CivicrmMutation, elgg.ElggMutation
):
    """The sources' fields of `Mutation` (`graph/schema/root.py`)."""


@strawberry.type
class SourcesViewer(
    flarum.FlarumViewer,
    moodle.MoodleViewer,
    civicrm.CivicrmViewer,
    elgg.ElggViewer,
    eqsash.EqsashViewer,
):
    """The caller's own account on each source (`graph/schema/viewer.py`)."""


@strawberry.type
class SourcesPersonAccounts(
    flarum.FlarumPersonAccount,
    moodle.MoodlePersonAccount,
    civicrm.CivicrmPersonAccount,
    elgg.ElggPersonAccount,
    eqsash.EqsashPersonAccount,
):
    """A person's account on each source (`graph/schema/types/person.py`)."""


@strawberry.type
class SourcesPersonFields(flarum.FlarumPersonFields, moodle.MoodlePersonFields):
    """The sources' other fields of `Person` (`graph/schema/types/person.py`)."""
