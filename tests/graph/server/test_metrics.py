"""/metrics after real traffic: the expected counters, and no credential anywhere in them."""

from __future__ import annotations

import logging
import socket

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from simulators.civicrm import api_key_of
from tests.conftest import Simulator, login, moodle_login, running_gateway


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_counters_after_a_run(
    flarum: Simulator, moodle: Simulator, civicrm: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    flarum_token = login(flarum.url, "bea.abebe")
    moodle_token = moodle_login(moodle.url, "bea.abebe")
    civicrm_key = api_key_of("bea.abebe")
    headers = {
        "X-Flarum-Token": flarum_token,
        "X-Moodle-Token": moodle_token,
        "X-Civicrm-Api-Key": civicrm_key,
    }
    with (
        caplog.at_level(logging.INFO),
        running_gateway(flarum.url, moodle.url, civicrm_url=civicrm.url) as gateway,
    ):
        gateway.query("query Front { discussions(first: 3) { nodes { title } } }", **headers)
        gateway.query("query Front { discussions(first: 3) { nodes { title } } }", **headers)
        gateway.query(
            'query Mixed { courses(first: 1) { nodes { fullName } } contact(id: "bm9wZQ") { id } }',
            **headers,
        )
        gateway.post("{ syntax error")
        text = httpx.get(f"{gateway.url}/metrics").text
    found = samples(text)
    assert found[("legacygraph_requests_total", (("operation", "Front"), ("outcome", "ok")))] == 2
    assert (
        found[("legacygraph_requests_total", (("operation", "Mixed"), ("outcome", "partial")))] == 1
    )
    assert (
        found[("legacygraph_requests_total", (("operation", "anonymous"), ("outcome", "failed")))]
        == 1
    )
    flarum_calls = (("call", "GET /api/discussions"), ("source", "flarum"), ("status", "200"))
    # The second Front query was answered by the cache, for the same caller.
    assert found[("legacygraph_upstream_requests_total", flarum_calls)] == 1
    assert found[("legacygraph_cache_reads_total", (("result", "hit"), ("source", "flarum")))] == 1
    # The list, and whether Flarum knows the caller's token (`GET /api`, once per token).
    assert found[("legacygraph_cache_reads_total", (("result", "miss"), ("source", "flarum")))] == 2
    moodle_calls = (
        ("call", "core_course_get_courses_by_field"),
        ("source", "moodle"),
        ("status", "200"),
    )
    assert found[("legacygraph_upstream_requests_total", moodle_calls)] == 1
    assert found[("legacygraph_request_seconds_count", (("operation", "Front"),))] == 2
    assert found[("legacygraph_breaker_open", (("source", "flarum"),))] == 0
    logs = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (flarum_token, moodle_token, civicrm_key):
        assert secret not in text and secret not in logs


def test_an_open_breaker_fails_fast_and_shows_in_the_metrics() -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{probe.getsockname()[1]}"
    query = "{ discussions(first: 1) { nodes { title } } }"
    with running_gateway(nowhere, breaker_failures=2, read_retries=0) as gateway:
        codes = [gateway.query(query)["errors"][0]["extensions"] for _ in range(2)]
        failing_fast = gateway.query(query, **{"X-Legacygraph-Trace": "1"})
        codes.append(failing_fast["errors"][0]["extensions"])
        text = httpx.get(f"{gateway.url}/metrics").text
    # No request went out for the third: the caller's cost report says so.
    (call,) = failing_fast["extensions"]["upstream"]["flarum"]["calls"]
    assert call["status"] == "circuit_open"
    assert failing_fast["extensions"]["upstream"]["flarum"]["requests"] == 0
    assert [c.get("upstreamCode") for c in codes] == [None, None, "circuit_open"]
    assert {c["code"] for c in codes} == {"UPSTREAM_UNAVAILABLE"}
    found = samples(text)
    assert found[("legacygraph_breaker_open", (("source", "flarum"),))] == 1
    refused = (("call", "GET /api/discussions"), ("source", "flarum"), ("status", "unavailable"))
    assert found[("legacygraph_upstream_requests_total", refused)] == 2
