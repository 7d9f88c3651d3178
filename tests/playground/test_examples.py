"""Every saved example query runs against the simulators without errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulators.world import World
from tests.conftest import Gateway, Simulator, flarum_headers, login

EXAMPLES = sorted(
    (Path(__file__).resolve().parents[2] / "playground" / "examples").glob("*.graphql")
)


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.stem)
def test_example_runs_cleanly_as_a_member(
    example: Path, gateway: Gateway, flarum: Simulator, world: World
) -> None:
    text = example.read_text()
    assert text.startswith("# "), "each example starts with a comment saying what it is for"
    body = gateway.query(text, **flarum_headers(login(flarum.url, world.people[1].username)))
    assert "errors" not in body, body["errors"]
    assert body["data"] and all(value is not None for value in body["data"].values())
