"""What every request sets up once: its headers read into a dict that answers as Starlette's
`Headers` does, the metrics' label children found once per label set, and an access log line
made only when it is written (the metrics counted either way)."""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

import pytest
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from connectors.calls import Call, CallStats
from graph.config import Settings
from graph.context import Context
from graph.credentials import Credentials
from graph.gateway import Gateway
from graph.server.endpoint import CONTEXT_KEY
from graph.server.headers import headers_of
from graph.server.metrics import Metrics
from graph.server.middleware import AccessLog
from tests.graph.server.test_metrics import samples

RAW = [
    (b"content-type", b"application/json"),
    (b"x-flarum-token", b"first"),
    (b"accept", b"application/graphql-response+json"),
    (b"x-flarum-token", b"second"),
    (b"x-legacygraph-trace", b"1"),
    (b"x-latin", "caf\xe9".encode("latin-1")),
]


def request_with(raw: list[tuple[bytes, bytes]]) -> Request:
    return Request({"type": "http", "method": "POST", "path": "/graphql", "headers": raw})


@pytest.mark.parametrize(
    "name",
    [
        "content-type",
        "Content-Type",
        "X-Flarum-Token",
        "x-flarum-token",
        "ACCEPT",
        "X-Legacygraph-Trace",
        "x-latin",
        "authorization",
        "idempotency-key",
    ],
)
def test_the_headers_answer_as_starlette_s(name: str) -> None:
    ours, starlette = headers_of(request_with(RAW)), Headers(raw=RAW)
    assert ours.get(name) == starlette.get(name)
    assert ours.get(name, "") == starlette.get(name, "")
    assert (name in ours) == (name in starlette)
    if name in starlette:
        assert ours[name] == starlette[name]
    else:
        with pytest.raises(KeyError):
            ours[name]


def test_the_headers_are_read_once_per_request() -> None:
    request = request_with(RAW)
    assert headers_of(request) is headers_of(request)
    assert headers_of(request)["x-flarum-token"] == "first"  # the first of repeated ones
    assert 3 not in headers_of(request)  # type: ignore[comparison-overlap]


def test_the_caller_s_credentials_are_read_from_them() -> None:
    credentials = Credentials.from_headers(headers_of(request_with(RAW)))
    assert credentials.tokens == {"flarum": "first"}


def test_each_label_set_counts_every_observation() -> None:
    metrics = Metrics()
    stats = CallStats()
    stats.record(Call("flarum", "GET /api/users", "200", 0.01))
    stats.record(Call("flarum", "GET /api/users", "404", 0.02))
    for outcome in ("ok", "ok", "partial"):
        metrics.observe("Front", outcome, 0.1, stats)
    found = samples(metrics.exposition().decode())
    assert found[("legacygraph_requests_total", (("operation", "Front"), ("outcome", "ok")))] == 2
    partial = (("operation", "Front"), ("outcome", "partial"))
    assert found[("legacygraph_requests_total", partial)] == 1
    assert found[("legacygraph_request_seconds_count", (("operation", "Front"),))] == 3
    for status in ("200", "404"):
        labels = (("call", "GET /api/users"), ("source", "flarum"), ("status", status))
        assert found[("legacygraph_upstream_requests_total", labels)] == 3
    timed = (("call", "GET /api/users"), ("source", "flarum"))
    assert found[("legacygraph_upstream_seconds_count", timed)] == 6


@pytest.mark.parametrize("level", [logging.INFO, logging.WARNING])
async def test_a_request_is_counted_whether_or_not_its_line_is_written(
    level: int, caplog: pytest.LogCaptureFixture
) -> None:
    metrics = Metrics()
    gateway = Gateway(Settings(), {})
    context = Context(gateway, Credentials())
    context.operation_name = "Front"
    context.stats.record(Call("flarum", "GET /api/users", "200", 0.01))

    async def answer(scope: Scope, receive: Receive, send: Send) -> None:
        scope.setdefault("state", {})[CONTEXT_KEY] = context
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    async def receive() -> Any:
        raise AssertionError("not read")

    async def send(message: Any) -> None:
        pass

    scope = {"type": "http", "method": "POST", "path": "/graphql", "headers": []}
    with caplog.at_level(level, logger="legacygraph.access"):
        await AccessLog(answer, metrics)(scope, receive, send)
    lines = [r.getMessage() for r in caplog.records if r.name == "legacygraph.access"]
    if level == logging.INFO:
        assert len(lines) == 1 and "op=Front status=200" in lines[0]
        assert lines[0].endswith("upstream=flarum:1 cached=0")
    else:
        assert lines == []
    found = samples(metrics.exposition().decode())
    assert found[("legacygraph_requests_total", (("operation", "Front"), ("outcome", "ok")))] == 1


def test_a_caller_s_key_is_the_keyed_hash_of_source_and_credential() -> None:
    gateway = Gateway(Settings(), {}, secret=b"k" * 32)
    expected = hmac.new(b"k" * 32, b"flarum:token-1", hashlib.sha256).hexdigest()
    assert gateway.caller_key("flarum", "token-1") == expected
    assert gateway.caller_key("moodle", "token-1") != expected
