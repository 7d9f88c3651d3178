"""Two gateway processes on one Redis behave as one: what either learns, the other knows."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from simulators.elgg import API_KEY as ELGG_API_KEY
from simulators.elgg import SECRET as ELGG_SECRET
from simulators.world import World
from tests.conftest import Simulator, gateway_process, login, moodle_login, running_moodle

OVERVIEW = (Path(__file__).parents[2] / "playground/examples/class-overview.graphql").read_text()


def ask(url: str, body: dict[str, object], **headers: str) -> dict[str, object]:
    answer = httpx.post(f"{url}/graphql", json=body, headers=headers, timeout=30).json()
    assert "errors" not in answer, answer
    return answer


@pytest.fixture
def replicas(
    tmp_path: Path, redis_url: str, flarum: Simulator, elgg: Simulator, world: World
) -> Iterator[tuple[str, str, Simulator]]:
    """Two gateways sharing one Redis (their own namespace), the same cache secret and the same
    session key; a Moodle without the multi-call of its own."""
    with ExitStack() as stack:
        moodle = stack.enter_context(running_moodle(world, multicall=False))
        config = (
            f'[cache]\nurl = "{redis_url}"\nsecret = "{"s" * 32}"\n'
            f'namespace = "replicas-{uuid.uuid4().hex}"\n'
            f'[session]\nkeys = ["{Fernet.generate_key().decode()}"]\n'
            f'[sources.flarum]\nurl = "{flarum.url}"\ncache_ttl_s = 60\n'
            f'[sources.moodle]\nurl = "{moodle.url}"\ncache_ttl_s = 0\n'
            f'[sources.elgg]\nurl = "{elgg.url}"\napi_key = "{ELGG_API_KEY}"\n'
            f'secret = "{ELGG_SECRET}"\ncache_ttl_s = 0\n'
        )
        quiet = "access_log = false\n"
        first = stack.enter_context(gateway_process(config, tmp_path, server=quiet))
        second = stack.enter_context(gateway_process(config, tmp_path, server=quiet))
        yield first, second, moodle


def test_a_cached_answer_crosses_replicas(
    replicas: tuple[str, str, Simulator], flarum: Simulator
) -> None:
    first, second, _ = replicas
    token = {"X-Flarum-Token": login(flarum.url, "ada.costa")}
    query = {"query": "{ discussions(first: 2) { nodes { title } } }"}
    flarum.counter.reset()
    one = ask(first, query, **token)
    assert flarum.counter.snapshot() == {"GET /api/discussions": 1, "GET /api": 1}
    assert ask(second, query, **token) == one
    # The second replica answered from Redis, where the first also kept that Flarum knows the
    # caller's token: it asked nothing.
    assert flarum.counter.total == 2


def test_a_persisted_query_learned_by_one_replica_runs_on_the_other(
    replicas: tuple[str, str, Simulator],
) -> None:
    first, second, _ = replicas
    document = "query Titles { discussions(first: 1) { nodes { title } } }"
    digest = hashlib.sha256(document.encode()).hexdigest()
    by_hash = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    refused = httpx.post(f"{second}/graphql", json={"extensions": by_hash}).json()
    assert refused["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    learned = ask(first, {"query": document, "extensions": by_hash})
    assert ask(second, {"extensions": by_hash}) == learned


def test_a_session_made_by_one_replica_is_accepted_by_the_other(
    replicas: tuple[str, str, Simulator],
) -> None:
    first, second, _ = replicas
    mutation = (
        'mutation { loginAll(username: "ada.costa", password: "demo-password") { sessionToken } }'
    )
    session = ask(first, {"query": mutation})["data"]["loginAll"]["sessionToken"]  # type: ignore[index]
    viewer = ask(
        second, {"query": "{ viewer { flarum { username } } }"}, Authorization=f"Bearer {session}"
    )
    assert viewer["data"] == {"viewer": {"flarum": {"username": "ada.costa"}}}


def test_what_a_replica_learned_about_a_site_the_other_knows(
    replicas: tuple[str, str, Simulator], elgg: Simulator
) -> None:
    first, second, moodle = replicas
    token = {"X-Moodle-Token": moodle_login(moodle.url, "ada.costa")}

    def refused_multicalls() -> int:
        """Requests that ran no function: the multi-calls this Moodle refused."""
        return moodle.counter.total - sum(moodle.app.state.calls.snapshot().values())

    moodle.counter.reset()
    moodle.app.state.calls.reset()
    overview = ask(first, {"query": OVERVIEW}, **token)
    assert refused_multicalls() >= 1  # learned here (more than once if batches overlapped)
    moodle.counter.reset()
    moodle.app.state.calls.reset()
    assert ask(second, {"query": OVERVIEW}, **token) == overview
    assert refused_multicalls() == 0  # the other replica did not try it again

    groups = {"query": "{ groups(source: ELGG) { nodes { name } } }"}
    calls = elgg.app.state.calls
    calls.reset()
    listed = ask(first, groups)
    assert calls.snapshot().get("system.api.list") == 1
    assert ask(second, groups) == listed
    assert calls.snapshot().get("system.api.list") == 1  # asked once, by the first replica
