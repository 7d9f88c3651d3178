"""Persisted queries (APQ): by hash from a directory, learned from clients, or those only."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph.config import ConfigError, GraphQLSettings, Settings, load_settings
from graph.server.app import create_app
from graph.sources.flarum.settings import FlarumSettings
from graph.sources.sections import SourcesSettings
from simulators.serve import serve_in_thread
from tests.conftest import Simulator

SAVED = "query Titles { discussions(first: 2) { nodes { title } } }\n"
OTHER = "{ discussions(first: 1) { nodes { id } } }"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@contextmanager
def gateway(flarum: Simulator, directory: Path, *, only: bool) -> Iterator[str]:
    (directory / "titles.graphql").write_text(SAVED)
    settings = Settings(
        graphql=GraphQLSettings(persisted_queries=str(directory), persisted_only=only),
        sources=SourcesSettings(flarum=FlarumSettings(url=flarum.url)),
    )
    with serve_in_thread(create_app(settings)) as url:
        yield url


def ask(url: str, **body: Any) -> dict[str, Any]:
    response = httpx.post(f"{url}/graphql", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def by_hash(digest: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


def code_of(answer: dict[str, Any]) -> str:
    (error,) = answer["errors"]
    code: str = error["extensions"]["code"]
    return code


def test_a_saved_document_runs_by_its_hash(flarum: Simulator, tmp_path: Path) -> None:
    with gateway(flarum, tmp_path, only=False) as url:
        saved = ask(url, extensions=by_hash(sha(SAVED)))
        assert len(saved["data"]["discussions"]["nodes"]) == 2
        assert code_of(ask(url, extensions=by_hash(sha(OTHER)))) == "PERSISTED_QUERY_NOT_FOUND"
        # The APQ round: the client sends the query with its hash once, then the hash alone.
        assert "errors" not in ask(url, query=OTHER, extensions=by_hash(sha(OTHER)))
        learned = ask(url, extensions=by_hash(sha(OTHER)))
        assert len(learned["data"]["discussions"]["nodes"]) == 1
        assert code_of(ask(url, query=OTHER, extensions=by_hash(sha(SAVED)))) == "BAD_USER_INPUT"


def test_only_saved_documents_run_when_so_configured(flarum: Simulator, tmp_path: Path) -> None:
    with gateway(flarum, tmp_path, only=True) as url:
        flarum.counter.reset()
        assert code_of(ask(url, query=OTHER)) == "FORBIDDEN"
        refused = ask(url, query=OTHER, extensions=by_hash(sha(OTHER)))
        assert code_of(refused) == "FORBIDDEN"
        assert code_of(ask(url, extensions=by_hash(sha(OTHER)))) == "PERSISTED_QUERY_NOT_FOUND"
        batch = httpx.post(f"{url}/graphql", json=[{"query": OTHER}])  # batches are off
        assert batch.status_code == 400 and "data" not in batch.json()
        assert flarum.counter.total == 0
        assert "errors" not in ask(url, query=SAVED)  # the saved text itself may be sent
        assert "errors" not in ask(url, extensions=by_hash(sha(SAVED)))


def test_a_json_manifest_of_operations_is_the_allow_list(flarum: Simulator, tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [
                    {"id": sha(SAVED), "name": "Titles", "type": "query", "body": SAVED},
                    {"id": "release-7-titles", "name": "Titles", "type": "query", "body": SAVED},
                ],
            }
        )
    )
    settings = Settings(
        graphql=GraphQLSettings(persisted_queries=str(manifest), persisted_only=True),
        sources=SourcesSettings(flarum=FlarumSettings(url=flarum.url)),
    )
    with serve_in_thread(create_app(settings)) as url:
        for digest in (sha(SAVED), "release-7-titles"):
            answer = ask(url, extensions=by_hash(digest))
            assert len(answer["data"]["discussions"]["nodes"]) == 2
        assert code_of(ask(url, query=OTHER)) == "FORBIDDEN"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "is not JSON"),
        ('{"operations": [{"id": "a"}]}', "every operation needs a string id and body"),
        ("[1, 2]", "every operation needs a string id and body"),
    ],
)
def test_a_broken_manifest_stops_the_gateway(tmp_path: Path, content: str, problem: str) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(content)
    config = tmp_path / "gateway.toml"
    config.write_text(f'[graphql]\npersisted_queries = "{manifest}"\n')
    with pytest.raises(ConfigError, match=f"graphql.persisted_queries: .*{problem}"):
        load_settings(config)


def test_a_saved_document_runs_by_its_hash_sent_by_get(flarum: Simulator, tmp_path: Path) -> None:
    with gateway(flarum, tmp_path, only=True) as url:
        extensions = json.dumps(by_hash(sha(SAVED)))
        answer = httpx.get(f"{url}/graphql", params={"extensions": extensions}).json()
        assert len(answer["data"]["discussions"]["nodes"]) == 2
        refused = httpx.get(f"{url}/graphql", params={"query": OTHER}).json()
        assert code_of(refused) == "FORBIDDEN"
