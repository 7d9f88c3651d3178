"""The GraphQL over HTTP spec, as graphql-http's audit checks it: every MUST and every SHOULD.

The audit (`audit.mjs`, graphql-http from npm, pinned by `package-lock.json`) sends its requests
to a gateway over a Flarum simulator. The gateway passes every item, the MAYs too, and keeps
doing so.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Gateway, Simulator, missing_tool, running_gateway

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def audited(flarum: Simulator) -> Iterator[list[dict[str, Any]]]:
    if not shutil.which("node"):
        missing_tool("node is not installed (apt-get install nodejs npm)")
    if not (HERE / "node_modules" / "graphql-http").is_dir():
        missing_tool("graphql-http is not installed (npm ci --prefix tests/protocol)")
    with running_gateway(flarum.url) as gateway:
        yield audit(gateway)


def audit(gateway: Gateway) -> list[dict[str, Any]]:
    run = subprocess.run(
        [shutil.which("node") or "node", str(HERE / "audit.mjs"), f"{gateway.url}/graphql"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return [json.loads(line) for line in run.stdout.splitlines() if line.strip()]


def test_every_must_should_and_may_passes(audited: list[dict[str, Any]]) -> None:
    musts = [r for r in audited if r["name"].startswith("MUST")]
    shoulds = [r for r in audited if r["name"].startswith("SHOULD")]
    assert (len(musts), len(shoulds), len(audited)) == (13, 23, 61)  # graphql-http 1.23.1
    failed = [f"{r['id']} {r['name']}: {r.get('reason')}" for r in audited if r["status"] != "ok"]
    assert failed == []
