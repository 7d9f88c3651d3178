"""Every saved example query runs against the simulators without errors."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from simulators.civicrm import api_key_of
from simulators.elgg import API_KEY as ELGG_API_KEY
from simulators.world import World
from tests.conftest import Gateway, Simulator, flarum_headers, login, moodle_login

EXAMPLES = sorted(
    (Path(__file__).resolve().parents[2] / "playground" / "examples").glob("*.graphql")
)


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 3


def elgg_token(elgg_url: str, username: str) -> str:
    form = {"api_key": ELGG_API_KEY, "username": username, "password": "demo-password"}
    answer = httpx.post(f"{elgg_url}/services/api/rest/json/?method=auth.gettoken", data=form)
    token: str = answer.json()["result"]
    return token


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.stem)
def test_example_runs_cleanly_as_a_member(
    example: Path,
    everything: Gateway,
    flarum: Simulator,
    moodle: Simulator,
    elgg: Simulator,
    world: World,
) -> None:
    text = example.read_text()
    assert text.startswith("# "), "each example starts with a comment saying what it is for"
    member = world.admin.username  # a forum member and a manager in every Moodle course
    headers = {
        **flarum_headers(login(flarum.url, member)),
        "X-Moodle-Token": moodle_login(moodle.url, member),
        "X-Civicrm-Api-Key": api_key_of(member),
        "X-Elgg-Token": elgg_token(elgg.url, member),
    }
    body = everything.query(text, **headers)
    assert "errors" not in body, body["errors"]
    assert body["data"] and all(value is not None for value in body["data"].values())
