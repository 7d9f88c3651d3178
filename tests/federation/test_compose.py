"""The subgraph composes under every router's composition: Apollo's (Apollo Router, Apollo
Gateway), The Guild's (Hive Gateway, Mesh) and WunderGraph's (Cosmo), all from npm (pinned by
package-lock.json), with a small second subgraph that extends two of its entities."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import strawberry

from graph.config import FederationSettings
from graph.schema.federation import entity_types
from tests.conftest import Simulator, gateway_process, missing_tool

HERE = Path(__file__).parent
COMPOSE = HERE / "compose.mjs"
COMPOSERS = ("@apollo/composition", "@theguild/federation-composition", "@wundergraph/composition")


@strawberry.federation.type(keys=["email"])
class Person:
    email: str

    @strawberry.field
    def badges(self) -> list[str]:
        return ["first-aid"]


@strawberry.federation.type(keys=["id"])
class Course:
    id: strawberry.ID

    @strawberry.field
    def rating(self) -> float:
        return 4.5


@strawberry.type
class RatingQuery:
    @strawberry.field
    def top_rated(self) -> list[Course]:
        return []


@pytest.fixture(scope="module")
def composers() -> None:
    if not shutil.which("node"):
        missing_tool("node is not installed (apt-get install nodejs npm)")
    if not all((HERE / "node_modules" / name).is_dir() for name in COMPOSERS):
        missing_tool(
            "the federation composers are not installed (npm ci --prefix tests/federation)"
        )


def compose(directory: Path, **sdl: str) -> dict[str, Any]:
    """Each composer's errors and entity keys ({type: {subgraph: [fields]}}) for the subgraphs."""
    ratings = strawberry.federation.Schema(
        query=RatingQuery, types=[Person, Course], federation_version="2.9"
    )
    files = []
    for name, text in {**sdl, "ratings": ratings.as_str()}.items():
        (directory / f"{name}.graphql").write_text(text)
        files.append(f"{name}={directory / f'{name}.graphql'}")
    node = shutil.which("node") or "node"
    done = subprocess.run([node, str(COMPOSE), *files], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def expected_keys() -> dict[str, dict[str, list[str]]]:
    keys = {
        cls.__strawberry_definition__.name: {"legacy": [key]}  # type: ignore[attr-defined]
        for cls, key in entity_types().items()
    }
    keys["Person"]["ratings"] = ["email"]
    keys["Course"]["ratings"] = ["id"]
    return keys


def test_every_router_composes_the_subgraph_as_served(
    composers: None, tmp_path: Path, moodle: Simulator
) -> None:
    assert FederationSettings().version == "2.9"
    config = f'[federation]\nenabled = true\n[sources.moodle]\nurl = "{moodle.url}"\n'
    with gateway_process(config, tmp_path) as url:
        # What a router (or `rover subgraph introspect`) reads from the subgraph.
        answer = httpx.post(f"{url}/graphql", json={"query": "{ _service { sdl } }"}).json()
    sdl = answer["data"]["_service"]["sdl"]
    assert '@link(url: "https://specs.apollo.dev/federation/v2.9"' in sdl
    composed = compose(tmp_path, legacy=sdl)
    for composer in ("apollo", "hive", "cosmo"):
        assert composed[composer]["errors"] == [], composer
        assert composed[composer]["keys"] == expected_keys(), composer


def test_above_2_9_hive_refuses_the_subgraph(composers: None, tmp_path: Path) -> None:
    """Why 2.9 is the default: Hive Gateway's composition knows no later version."""
    exported = tmp_path / "subgraph.graphql"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "graph.cli",
            "export-schema",
            "--federation-version",
            "2.11",
            "--output",
            str(exported),
        ],
        check=True,
        capture_output=True,
    )
    composed = compose(tmp_path, legacy=exported.read_text())
    assert composed["apollo"]["errors"] == [] and composed["cosmo"]["errors"] == []
    assert composed["apollo"]["keys"] == composed["cosmo"]["keys"] == expected_keys()
    assert composed["hive"]["errors"] == [
        "[legacy] Invalid version v2.11 for the federation feature in @link directive on schema"
    ]
