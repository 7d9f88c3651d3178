"""Replaying a corpus written by `legacygraph record`: each recorded GraphQL operation through
the gateway in process, its source's network replaced by the corpus's exchanges."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graph.config import Settings
from graph.sources import SOURCES
from graph.sources.moodle.settings import MoodleSettings
from graph.sources.sections import SourcesSettings
from tests.realworld import RecordedMoodle, gateway_over

__all__ = ["Replayed", "replay"]


@dataclass(frozen=True)
class Replayed:
    case: str
    role: str
    recorded: dict[str, Any]
    answered: dict[str, Any]
    missing: list[str]
    """Requests the gateway sent that the corpus does not hold."""


async def replay(path: Path) -> list[Replayed]:
    about = json.loads((path / "corpus.json").read_text(encoding="utf-8"))
    if about["source"] != "moodle":
        raise ValueError(f"{path}: replaying {about['source']} corpora is not written yet")
    settings = Settings(sources=SourcesSettings(moodle=MoodleSettings(url="http://site.invalid")))
    header = SOURCES["moodle"].header
    found = []
    with (path / "graph.jsonl").open(encoding="utf-8") as lines:
        operations = [json.loads(line) for line in lines if line.strip()]
    for operation in operations:
        site = RecordedMoodle(corpus=path)
        async with gateway_over(settings, "moodle", site) as client:
            response = await client.post(
                "/graphql",
                json={"query": operation["query"], "variables": operation["variables"]},
                headers={header: operation["as"]},
            )
        found.append(
            Replayed(
                operation["case"],
                operation["as"],
                operation["answer"],
                response.json(),
                site.missing,
            )
        )
    return found
