"""Two gateway processes on one Redis behave as one: what either learns, the other knows.

One pair of processes serves the module's tests (starting them was most of its time): each
signs in afresh or writes a record of its own, so they pass in any order. What a replica learns
about a site is learned once per site, so that test has a pair of its own.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from simulators.civicrm import SITE_KEY as CIVICRM_SITE_KEY
from simulators.elgg import API_KEY as ELGG_API_KEY
from simulators.elgg import SECRET as ELGG_SECRET
from simulators.world import World
from tests.conftest import Simulator, gateway_process, login, moodle_login, running_moodle
from tests.graph.test_idempotency import create_body, new_email, records, send

pytestmark = pytest.mark.slow  # two gateway processes and a Redis

OVERVIEW = (Path(__file__).parents[2] / "playground/examples/class-overview.graphql").read_text()


def ask(url: str, body: dict[str, object], **headers: str) -> dict[str, object]:
    answer = httpx.post(f"{url}/graphql", json=body, headers=headers, timeout=30).json()
    assert "errors" not in answer, answer
    return answer


@contextmanager
def two_replicas(
    directory: Path, redis_url: str, sims: dict[str, Simulator], world: World
) -> Iterator[tuple[str, str, Simulator]]:
    """Two gateways sharing one Redis (their own namespace), the same cache secret and the same
    session key; a Moodle without the multi-call of its own."""
    with ExitStack() as stack:
        moodle = stack.enter_context(running_moodle(world, multicall=False))
        config = (
            f'[cache]\nurl = "{redis_url}"\nsecret = "{"s" * 32}"\n'
            f'namespace = "replicas-{uuid.uuid4().hex}"\n'
            f'[session]\nkeys = ["{Fernet.generate_key().decode()}"]\n'
            f'[sources.flarum]\nurl = "{sims["flarum"].url}"\ncache_ttl_s = 60\n'
            f'[sources.moodle]\nurl = "{moodle.url}"\ncache_ttl_s = 0\n'
            f'[sources.elgg]\nurl = "{sims["elgg"].url}"\napi_key = "{ELGG_API_KEY}"\n'
            f'secret = "{ELGG_SECRET}"\ncache_ttl_s = 0\n'
            f'[sources.civicrm]\nurl = "{sims["civicrm"].url}"\n'
            f'site_key = "{CIVICRM_SITE_KEY}"\n'
        )
        quiet = "access_log = false\n"
        first = stack.enter_context(gateway_process(config, directory, server=quiet))
        second = stack.enter_context(gateway_process(config, directory, server=quiet))
        yield first, second, moodle


@pytest.fixture(scope="module")
def replicas(
    tmp_path_factory: pytest.TempPathFactory,
    redis_url: str,
    flarum: Simulator,
    elgg: Simulator,
    civicrm: Simulator,
    world: World,
) -> Iterator[tuple[str, str, Simulator]]:
    """One pair for the module's tests."""
    sims = {"flarum": flarum, "elgg": elgg, "civicrm": civicrm}
    with two_replicas(tmp_path_factory.mktemp("replicas"), redis_url, sims, world) as pair:
        yield pair


@pytest.fixture
def new_replicas(
    tmp_path: Path,
    redis_url: str,
    flarum: Simulator,
    elgg: Simulator,
    civicrm: Simulator,
    world: World,
) -> Iterator[tuple[str, str, Simulator]]:
    """A pair of its own: what a replica learns about a site is learned once."""
    sims = {"flarum": flarum, "elgg": elgg, "civicrm": civicrm}
    with two_replicas(tmp_path, redis_url, sims, world) as pair:
        yield pair


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
    new_replicas: tuple[str, str, Simulator], elgg: Simulator
) -> None:
    first, second, moodle = new_replicas
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


def test_a_retry_sent_to_another_replica_is_not_written_again(
    replicas: tuple[str, str, Simulator], civicrm: Simulator
) -> None:
    first, second, _ = replicas
    email, key = new_email(), str(uuid.uuid4())
    written = send(first, create_body(email), key)
    assert written.json()["data"]["createContact"]["email"] == email
    civicrm.counter.reset()
    retry = send(second, create_body(email), key)
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.content == written.content
    assert civicrm.counter.total == 0
    assert records(civicrm, email) == 1
    refused = send(second, create_body(email, first_name="Noa"), key)
    assert refused.status_code == 422
