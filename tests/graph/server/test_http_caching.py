"""HTTP caching of answers: Cache-Control from the sources' cache settings, Vary, ETag and 304."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from graph.config import ConfigError, ServerSettings, Settings, load_settings
from graph.server.app import create_app
from graph.server.caching import VARY, matching
from graph.sources.flarum.settings import FlarumSettings
from graph.sources.sections import SourcesSettings
from simulators.serve import serve_in_thread
from tests.conftest import Simulator, flarum_headers, login, running_gateway

FRONT_PAGE = "{ discussions(first: 3) { nodes { title author { displayName } } } }"
TRACE = "X-Legacygraph-Trace"


def get(url: str, query: str, **headers: str) -> httpx.Response:
    return httpx.get(f"{url}/graphql", params={"query": query}, headers=headers, timeout=30)


def post(url: str, query: str, **headers: str) -> httpx.Response:
    return httpx.post(f"{url}/graphql", json={"query": query}, headers=headers, timeout=30)


def test_a_guests_query_may_be_kept_privately_for_the_sources_ttl(flarum: Simulator) -> None:
    with running_gateway(flarum.url, cache_ttl_s=20.0) as gateway:
        answer = get(gateway.url, FRONT_PAGE)
    assert answer.status_code == 200 and "errors" not in answer.json()
    assert answer.headers["cache-control"] == "private, max-age=20"
    vary = [name.strip() for name in answer.headers["vary"].split(",")]
    assert {"Accept", "Authorization", "X-Flarum-Token", "X-Moodle-Token", TRACE} <= set(vary)
    assert answer.headers["etag"].startswith('"') and len(answer.headers["etag"]) == 34


def test_a_public_source_makes_a_guests_answer_public_and_a_callers_private(
    flarum: Simulator,
) -> None:
    token = login(flarum.url, "bea.abebe")
    with running_gateway(flarum.url, cache_ttl_s=20.0, public_max_age_s=120.0) as gateway:
        guest = get(gateway.url, FRONT_PAGE)
        member = get(gateway.url, FRONT_PAGE, **flarum_headers(token))
        bearer = get(gateway.url, FRONT_PAGE, Authorization="Basic eDp5")
    assert guest.headers["cache-control"] == "public, max-age=120"
    assert member.headers["cache-control"] == "private, max-age=20"
    assert bearer.headers["cache-control"] == "private, max-age=20"  # any credential: private


def test_the_shortest_ttl_among_the_calls_wins(flarum: Simulator) -> None:
    by_call = ("GET /api/discussions=7",)
    with running_gateway(flarum.url, cache_ttl_s=20.0, cache_ttl_by_call=by_call) as gateway:
        listed = get(gateway.url, FRONT_PAGE)
        tags = get(gateway.url, "{ discussions(first: 3) { nodes { title } } }")
    assert listed.headers["cache-control"] == "private, max-age=7"
    assert tags.headers["cache-control"] == "private, max-age=7"


def test_no_store_where_no_source_caches(flarum: Simulator) -> None:
    with running_gateway(flarum.url, cache_ttl_s=0.0) as gateway:
        answer = get(gateway.url, FRONT_PAGE)
        nothing_upstream = get(gateway.url, "{ __typename }")
    assert answer.status_code == 200 and "errors" not in answer.json()
    assert answer.headers["cache-control"] == "no-store"
    assert "etag" not in answer.headers
    assert nothing_upstream.headers["cache-control"] == "no-store"


def test_mutations_errors_and_cost_reports_are_never_stored(flarum: Simulator) -> None:
    login_mutation = (
        'mutation { login(source: FLARUM, username: "ada.costa", password: "demo-password") '
        "{ token } }"
    )
    with running_gateway(flarum.url, cache_ttl_s=20.0, public_max_age_s=60.0) as gateway:
        mutated = post(gateway.url, login_mutation)
        by_get = get(gateway.url, login_mutation)
        missing = get(
            gateway.url, '{ discussion(id: "ZmxhcnVtOkRpc2N1c3Npb246OTk5OTk=") { title } }'
        )
        broken = get(gateway.url, "{ discussions(first: 3) { nodes { title }")
        traced = get(gateway.url, FRONT_PAGE, **{TRACE: "1"})
        refused = get(gateway.url, FRONT_PAGE, Authorization="Bearer not-a-session")
    assert mutated.status_code == 200 and mutated.json()["data"]["login"]["token"]
    assert by_get.status_code == 400  # a mutation is never run by GET
    assert "errors" in missing.json() and "errors" in broken.json()
    assert "upstream" in traced.json()["extensions"]
    assert refused.status_code == 401
    for answer in (mutated, by_get, missing, broken, traced, refused):
        assert answer.headers["cache-control"] == "no-store", answer.text
        assert "etag" not in answer.headers
        assert answer.headers["vary"] == VARY


def test_a_post_query_says_how_long_it_holds_but_has_no_etag(flarum: Simulator) -> None:
    with running_gateway(flarum.url, cache_ttl_s=20.0) as gateway:
        answer = post(gateway.url, FRONT_PAGE)
    assert answer.headers["cache-control"] == "private, max-age=20"
    assert "etag" not in answer.headers


def test_a_repeated_get_with_its_etag_is_304_and_costs_no_upstream_request(
    world: Any, flarum: Simulator
) -> None:
    token = login(flarum.url, "ada.costa")
    with running_gateway(flarum.url, cache_ttl_s=20.0) as gateway:
        flarum.counter.reset()
        first = get(gateway.url, FRONT_PAGE, **flarum_headers(token))
        first_cost = flarum.counter.snapshot()
        flarum.counter.reset()
        etag = first.headers["etag"]
        again = get(gateway.url, FRONT_PAGE, **flarum_headers(token), **{"If-None-Match": etag})
        repeat_cost = flarum.counter.total
        weak = get(
            gateway.url, FRONT_PAGE, **flarum_headers(token), **{"If-None-Match": f"W/{etag}"}
        )
        other = get(gateway.url, FRONT_PAGE, **flarum_headers(token), **{"If-None-Match": '"x"'})
    assert first.status_code == 200
    assert first_cost == {"GET /api": 1, "GET /api/discussions": 1}
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == "private, max-age=20"
    assert again.headers["vary"] == VARY
    assert repeat_cost == 0  # made again from the gateway's response cache, not from Flarum
    assert weak.status_code == 304 and weak.headers["etag"] == f"W/{etag}"
    assert other.status_code == 200 and other.content == first.content
    assert other.headers["etag"] == etag


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('"a"', '"a"'),
        ('W/"a"', 'W/"a"'),
        ('"b", "a"', '"a"'),
        ("*", '"a"'),
        ('"b"', None),
        ("", None),
    ],
)
def test_if_none_match_compares_weakly(header: str, expected: str | None) -> None:
    assert matching(header, '"a"') == expected


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("public_max_age_s = -1", "sources.flarum.public_max_age_s: must not be negative"),
        (
            "public_max_age_s = 60\nallow_service_fallback = true\napi_key = 'k'",
            "sources.flarum.public_max_age_s: a guest's answers come from the service identity",
        ),
    ],
)
def test_public_max_age_is_checked_at_load(tmp_path: Any, extra: str, message: str) -> None:
    path = tmp_path / "legacygraph.toml"
    path.write_text(f"[sources.flarum]\nurl = 'http://127.0.0.1:9104'\n{extra}\n")
    with pytest.raises(ConfigError, match=message):
        load_settings(path, {})


def test_a_compressed_answers_weak_etag_is_answered_304(flarum: Simulator) -> None:
    settings = Settings(
        server=ServerSettings(compression_min_bytes=100),
        sources=SourcesSettings(flarum=FlarumSettings(url=flarum.url, cache_ttl_s=20.0)),
    )
    with serve_in_thread(create_app(settings)) as url:
        first = get(url, FRONT_PAGE, **{"Accept-Encoding": "gzip"})
        again = get(
            url, FRONT_PAGE, **{"Accept-Encoding": "gzip", "If-None-Match": first.headers["etag"]}
        )
    assert first.headers["content-encoding"] == "gzip"
    assert first.headers["etag"].startswith('W/"')
    assert "Accept-Encoding" in first.headers["vary"] and "X-Flarum-Token" in first.headers["vary"]
    assert again.status_code == 304 and again.headers["etag"] == first.headers["etag"]
