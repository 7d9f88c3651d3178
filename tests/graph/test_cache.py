"""The per-caller response cache, end to end: faster for one caller, never shared between two."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from typing import Any

import httpx
import pytest
import redis

from graph.config import CacheSettings
from graph.schema.ids import GlobalId
from simulators.world import World
from tests.conftest import Simulator, flarum_headers, login, moodle_login, running_gateway

MINE = """
query Mine {
  viewer { flarum { username } moodle { username } }
  discussions(first: 30) { nodes { title } }
  courses(first: 5) { nodes { fullName } }
}
"""

OFF = {"cache_ttl_s": 0.0}


def headers_of(flarum: Simulator, moodle: Simulator, username: str) -> dict[str, str]:
    return {
        **flarum_headers(login(flarum.url, username)),
        "X-Moodle-Token": moodle_login(moodle.url, username),
    }


async def ask_many(
    url: str, plan: list[tuple[str, dict[str, str]]]
) -> tuple[list[dict[str, Any]], int]:
    """Send every (caller, headers) of `plan`, sixteen at a time, in the plan's order; the answers,
    and how many requests were sent while one of another caller was in flight."""
    gate = asyncio.Semaphore(16)
    in_flight: Counter[str] = Counter()
    mixed = 0
    async with httpx.AsyncClient(timeout=30) as client:

        async def one(name: str, headers: dict[str, str]) -> dict[str, Any]:
            nonlocal mixed
            async with gate:
                mixed += any(n for caller, n in in_flight.items() if caller != name)
                in_flight[name] += 1
                try:
                    response = await client.post(
                        f"{url}/graphql", json={"query": MINE}, headers=headers
                    )
                finally:
                    in_flight[name] -= 1
                assert response.status_code == 200, response.text
                body: dict[str, Any] = response.json()
                return body

        answers = await asyncio.gather(*(one(name, headers) for name, headers in plan))
    return answers, mixed


@pytest.mark.parametrize("kept_in", ["process", "redis"])
def test_two_callers_interleaved_never_see_each_others_data(
    world: World, flarum: Simulator, moodle: Simulator, kept_in: str, request: pytest.FixtureRequest
) -> None:
    cache = CacheSettings()
    if kept_in == "redis":
        url = request.getfixturevalue("redis_url")
        cache = CacheSettings(
            url=url, secret="a-secret-for-tests", namespace=f"interleave{id(cache)}"
        )
    callers = {
        name: headers_of(flarum, moodle, name) for name in (world.admin.username, "bea.abebe")
    }
    with running_gateway(flarum.url, moodle.url, moodle_options=OFF, **OFF) as uncached:
        expected = {name: uncached.query(MINE, **headers) for name, headers in callers.items()}
    admin, bea = (expected[name] for name in callers)
    assert "errors" not in admin and "errors" not in bea
    assert admin["data"]["discussions"] != bea["data"]["discussions"]  # admin sees private ones
    assert admin["data"]["viewer"] != bea["data"]["viewer"]

    pick = random.Random(10).choice
    plan = [pick(list(callers.items())) for _ in range(400)]
    flarum_before, moodle_before = flarum.counter.total, moodle.counter.total
    with running_gateway(flarum.url, moodle.url, cache=cache) as cached:
        answers, mixed = asyncio.run(ask_many(cached.url, plan))
    assert mixed > len(plan) // 2  # most requests ran beside one of the other caller
    wrong = [
        n
        for n, ((name, _), body) in enumerate(zip(plan, answers, strict=True))
        if body != expected[name]
    ]
    assert wrong == []
    if kept_in == "redis":  # what Redis holds is named by keyed hashes, never by a credential
        with redis.Redis.from_url(cache.url) as server:
            names = [name.decode() for name in server.scan_iter(f"{cache.namespace}:*")]
        secrets = [value for headers in callers.values() for value in headers.values()]
        assert names and not [name for name in names if any(s in name for s in secrets)]
    # The cache did answer: each caller's reads went upstream about once, not 200 times.
    assert flarum.counter.total - flarum_before < 40
    assert moodle.counter.total - moodle_before < 40


def test_a_write_through_the_gateway_is_seen_by_the_next_read(
    world: World, fresh_flarum: Simulator
) -> None:
    headers = flarum_headers(login(fresh_flarum.url, "bea.abebe"))
    titles = "{ discussions(first: 50) { nodes { title } } }"
    with running_gateway(fresh_flarum.url) as gateway:
        before = gateway.query(titles, **headers)["data"]["discussions"]["nodes"]
        assert gateway.query(titles, **headers)["data"]["discussions"]["nodes"] == before
        started = gateway.query(
            "mutation($tags: [ID!]) {"
            ' startDiscussion(title: "Cached no more", content: "Hello", tags: $tags) { title } }',
            {"tags": [GlobalId("flarum", "Tag", "1").encode()]},
            **headers,
        )
        assert "errors" not in started, started
        after = gateway.query(titles, **headers)["data"]["discussions"]["nodes"]
    assert {"title": "Cached no more"} in after and {"title": "Cached no more"} not in before
