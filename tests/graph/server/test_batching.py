"""Batched operations: a JSON array of queries, answered in order, run in one request context."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph.config import ConfigError, GraphQLSettings, LimitsSettings, Settings, load_settings
from graph.server.app import create_app
from graph.server.media import GRAPHQL_RESPONSE
from graph.sources.flarum.settings import FlarumSettings
from graph.sources.sections import SourcesSettings
from simulators.serve import serve_in_thread
from tests.conftest import Simulator, running_gateway

POST = """
query Post($id: ID!) {
  node(id: $id) { id ... on Post { number author { displayName } } }
}
"""
TITLES = "query Titles { discussions(first: 2) { nodes { title } } }"


@contextmanager
def batching(flarum: Simulator, batch_max: int = 4, **limits: int) -> Iterator[str]:
    """A gateway that takes batches of up to `batch_max`, with Flarum's response cache off (so
    only the request's own loaders can share upstream calls)."""
    settings = Settings(
        graphql=GraphQLSettings(batch_max=batch_max),
        limits=LimitsSettings(**limits),
        sources=SourcesSettings(flarum=FlarumSettings(url=flarum.url, cache_ttl_s=0.0)),
    )
    with serve_in_thread(create_app(settings)) as url:
        yield url


def send(url: str, body: Any, **headers: str) -> httpx.Response:
    return httpx.post(f"{url}/graphql", json=body, headers=headers, timeout=30)


def post_ids(url: str, count: int) -> list[str]:
    answer = send(
        url, {"query": f"{{ discussions(first: {count}) {{ nodes {{ firstPost {{ id }} }} }} }}"}
    )
    return [node["firstPost"]["id"] for node in answer.json()["data"]["discussions"]["nodes"]]


def one_error(response: httpx.Response) -> str:
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    message: str = error["message"]
    return message


def test_four_queries_cost_the_upstream_requests_of_their_union(flarum: Simulator) -> None:
    with batching(flarum) as url:
        ids = post_ids(url, 4)
        operations = [{"query": POST, "variables": {"id": i}, "operationName": "Post"} for i in ids]
        flarum.counter.reset()
        for operation in operations:
            assert "errors" not in send(url, operation).json()
        one_by_one = flarum.counter.snapshot()
        flarum.counter.reset()
        batch = send(url, operations)
        batched = flarum.counter.snapshot()
    assert one_by_one == {"GET /api/posts": 4}
    assert batched == {"GET /api/posts": 1}  # one request for the four posts and their authors
    assert batch.status_code == 200
    answers = batch.json()
    assert [a["data"]["node"]["id"] for a in answers] == ids  # in the order sent
    assert all(a["data"]["node"]["author"]["displayName"] for a in answers)
    assert batch.headers["cache-control"] == "no-store"  # the source's cache is off


@pytest.mark.parametrize("accept", ["application/json", GRAPHQL_RESPONSE])
def test_each_operation_has_its_own_errors(flarum: Simulator, accept: str) -> None:
    with batching(flarum, batch_max=5, max_aliases=2) as url:
        ids = post_ids(url, 1)
        answer = send(
            url,
            [
                {"query": TITLES},
                {"query": "{ discussions(first: 2) { nodes { title }"},  # does not parse
                {"query": POST, "variables": {"id": "ZmxhcnVtOlBvc3Q6OTk5OTk5"}},
                {"query": "{ a: __typename b: __typename c: __typename }"},  # over the limit
                {"query": POST, "variables": {"id": ids[0]}},
            ],
            Accept=accept,
        )
    assert answer.status_code == 200  # a batch's status cannot speak for each operation
    titles, broken, missing, complex_, found = answer.json()
    assert len(titles["data"]["discussions"]["nodes"]) == 2 and "errors" not in titles
    assert "data" not in broken and broken["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert missing["data"] == {"node": None} and missing["errors"][0]["path"] == ["node"]
    assert "data" not in complex_
    assert complex_["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert found["data"]["node"]["id"] == ids[0] and "errors" not in found
    assert answer.headers["cache-control"] == "no-store"


def test_persisted_queries_are_found_per_operation(flarum: Simulator) -> None:
    digest = hashlib.sha256(TITLES.encode()).hexdigest()
    by_hash = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    with batching(flarum) as url:
        unknown = send(url, [{"extensions": by_hash}, {"query": "{ __typename }"}]).json()
        taught = send(url, [{"query": TITLES, "extensions": by_hash}]).json()
        known = send(url, [{"extensions": by_hash}, {"extensions": by_hash}]).json()
    assert unknown[0]["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert "data" not in unknown[0]
    assert unknown[1] == {"data": {"__typename": "Query"}}
    assert "errors" not in taught[0]
    assert known[0] == known[1] == taught[0]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ([{"query": TITLES}] * 5, "at most 4 operations; this one holds 5"),
        ([], "The batch is empty"),
        ([{"query": TITLES}, "{ __typename }"], "Operation 1 of the batch is not a JSON object"),
        ([{"query": TITLES}, {"variables": {}}], "Operation 1 of the batch has no query"),
        ([{"query": TITLES, "variables": [1]}], "`variables` must be an object or null"),
        (
            [
                {"query": TITLES},
                {
                    "query": 'mutation { login(source: FLARUM, username: "a", password: "b") { token } }'
                },
            ],
            "Operation 1 of the batch is a mutation: a batch holds queries only",
        ),
    ],
)
def test_a_batch_the_gateway_does_not_run_is_refused_whole(
    flarum: Simulator, body: list[Any], says: str
) -> None:
    with batching(flarum) as url:
        flarum.counter.reset()
        for accept in ("application/json", GRAPHQL_RESPONSE):
            refused = send(url, body, Accept=accept)
            assert refused.status_code == 400
            assert says in one_error(refused)
            assert "data" not in refused.json()
            assert refused.headers["cache-control"] == "no-store"
        assert flarum.counter.total == 0


def test_batches_are_off_by_default(flarum: Simulator) -> None:
    with running_gateway(flarum.url) as gateway:
        refused = send(gateway.url, [{"query": TITLES}])
    assert refused.status_code == 400
    assert "Batching is not enabled" in one_error(refused)


def test_batch_max_is_checked_at_load(tmp_path: Any) -> None:
    path = tmp_path / "legacygraph.toml"
    path.write_text("[graphql]\nbatch_max = 101\n")
    with pytest.raises(ConfigError, match=r"graphql\.batch_max: must be between 0 and 100"):
        load_settings(path, {})


def test_a_cost_report_in_a_batch_is_the_whole_batchs(flarum: Simulator) -> None:
    with batching(flarum) as url:
        ids = post_ids(url, 2)
        operations = [{"query": POST, "variables": {"id": i}} for i in ids]
        answers = send(url, operations, **{"X-Legacygraph-Trace": "1"}).json()
    first, second = (answer["extensions"]["upstream"] for answer in answers)
    assert first == second  # one request context: one report, shown in each operation
    assert "errors" not in answers[0] and "errors" not in answers[1]


def test_the_documented_batching_sample_is_valid(tmp_path: Path) -> None:
    page = (Path(__file__).parents[3] / "docs/guide/apps.md").read_text()
    sample = page.split("```toml\n[graphql]\nbatch_max", 1)[1].split("```", 1)[0]
    path = tmp_path / "legacygraph.toml"
    path.write_text("[graphql]\nbatch_max" + sample)
    assert load_settings(path, {}).graphql.batch_max == 10
