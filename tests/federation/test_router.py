"""The gateway as a Federation v2 subgraph, composed by a real router with a second subgraph."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import strawberry
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL

from graph.schema.ids import encode_id
from simulators.serve import serve_in_thread
from simulators.world import World
from tests.conftest import Simulator, free_port, gateway_process, missing_tool, moodle_login

HERE = Path(__file__).parent
ROUTER = HERE / "router.mjs"


@strawberry.federation.type(keys=["email"])
class Person:
    """Another team's subgraph: badges, by the person's (normalised) e-mail address."""

    email: str

    @strawberry.field
    def badges(self) -> list[str]:
        return ["first-aid", f"member of {self.email.split('@')[-1]}"]

    @classmethod
    def resolve_reference(cls, email: str) -> Person:
        return cls(email=email)


@strawberry.type
class BadgeQuery:
    @strawberry.field
    def badge_kinds(self) -> list[str]:
        return ["first-aid", "mentor"]


@pytest.fixture(scope="module")
def router_installed() -> None:
    if not shutil.which("node"):
        missing_tool("node is not installed (apt-get install nodejs npm)")
    if not (HERE / "node_modules" / "@apollo" / "gateway").is_dir():
        missing_tool("the federation router is not installed (npm ci --prefix tests/federation)")


@pytest.fixture(scope="module")
def legacy_subgraph(tmp_path_factory: pytest.TempPathFactory, moodle: Simulator) -> Iterator[str]:
    config = (
        f'[federation]\nenabled = true\n[sources.moodle]\nurl = "{moodle.url}"\ncache_ttl_s = 0\n'
    )
    # Its own process, one for the module: the entities' keys are added to the types where the
    # subgraph is served.
    with gateway_process(config, tmp_path_factory.mktemp("subgraph")) as url:
        yield f"{url}/graphql"


@pytest.fixture
def router(router_installed: None, legacy_subgraph: str) -> Iterator[str]:
    badges = strawberry.federation.Schema(query=BadgeQuery, types=[Person])
    app = Starlette(routes=[Route("/graphql", GraphQL(badges))])
    with serve_in_thread(app) as badges_url:
        port = free_port()
        process = subprocess.Popen(
            [
                shutil.which("node") or "node",
                str(ROUTER),
                str(port),
                f"legacy={legacy_subgraph}",
                f"badges={badges_url}/graphql",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        url = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    ready = httpx.post(url, json={"query": "{ __typename }"}, timeout=5)
                    if ready.status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert process.poll() is None, process.communicate()[0]
                assert time.monotonic() < deadline, "the router did not start"
                time.sleep(0.2)
            yield url
        finally:
            process.send_signal(signal.SIGINT)
            print(process.communicate(timeout=30)[0])


def test_a_query_through_the_router_needs_both_subgraphs(
    router: str, moodle: Simulator, world: World
) -> None:
    teacher = world.admin
    token = moodle_login(moodle.url, teacher.username)
    query = """
      query Learner($email: String!) {
        person(email: $email) { email courses(first: 3) { nodes { shortName } } badges }
      }
    """
    moodle.counter.reset()
    answer = httpx.post(
        router,
        json={"query": query, "variables": {"email": f"  {teacher.email.upper()} "}},
        headers={"X-Moodle-Token": token, "apollo-require-preflight": "true"},
        timeout=30,
    ).json()
    assert "errors" not in answer, answer
    person = answer["data"]["person"]
    assert person["email"] == teacher.email.lower()  # normalised by legacygraph, the key
    assert person["courses"]["nodes"], person
    assert person["badges"] == ["first-aid", f"member of {teacher.email.lower().split('@')[1]}"]
    print("answer:", answer, "upstream requests:", moodle.counter.snapshot())
    assert moodle.counter.total == 2  # the person's Moodle account, then their courses


def test_entities_cost_what_nodes_cost(
    legacy_subgraph: str, moodle: Simulator, world: World
) -> None:
    token = {"X-Moodle-Token": moodle_login(moodle.url, world.admin.username)}
    ids = [encode_id("moodle", "Course", str(n)) for n in (2, 3, 4, 5)]
    representations = [{"__typename": "Course", "id": i} for i in ids]
    entities = (
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Course { shortName } } }"
    )
    nodes = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Course { shortName } } }"
    costs, answers = [], []
    for query, variables in ((entities, {"r": representations}), (nodes, {"ids": ids})):
        moodle.counter.reset()
        body = httpx.post(
            legacy_subgraph, json={"query": query, "variables": variables}, headers=token
        ).json()
        assert "errors" not in body, body
        answers.append(next(iter(body["data"].values())))
        costs.append(moodle.counter.total)
    assert answers[0] == answers[1] and len(answers[0]) == 4
    assert costs[0] == costs[1] == 1, costs  # one batched course lookup either way

    mistyped = [{"__typename": "Discussion", "id": ids[0]}, representations[1]]
    body = httpx.post(
        legacy_subgraph, json={"query": entities, "variables": {"r": mistyped}}, headers=token
    ).json()
    assert body["data"]["_entities"][1] == answers[0][1]  # the other representation answers
    assert body["errors"][0]["path"] == ["_entities", 0]
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_export_schema_writes_the_subgraph_sdl_and_leaves_the_plain_one(tmp_path: Path) -> None:
    subgraph = tmp_path / "subgraph.graphql"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "graph.cli",
            "export-schema",
            "--federation",
            "--output",
            str(subgraph),
        ],
        check=True,
        capture_output=True,
    )
    sdl = subgraph.read_text()
    assert 'type Person implements Node @key(fields: "email"' in sdl
    assert 'type Course implements Node @key(fields: "id"' in sdl
    assert "_entities(representations: [_Any!]!): [_Entity]!" in sdl
    plain = (HERE.parents[1] / "schema.graphql").read_text()
    assert "@key" not in plain and "_entities" not in plain
