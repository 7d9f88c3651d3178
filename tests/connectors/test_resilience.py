"""Retries for reads and the per-source circuit breaker, in `Upstream.request`."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from connectors.errors import Unavailable, UpstreamTimeout
from connectors.http import CallStats, Resilience, Upstream, breaker_for
from tests.connectors.recording import Recorder


def answers(*steps: int | type[Exception]) -> Callable[[httpx.Request], httpx.Response]:
    """Answer each request with the next step: an HTTP status, or an httpx exception to raise."""
    queue = list(steps)

    def respond(request: httpx.Request) -> httpx.Response:
        step = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(step, type):
            raise step("simulated", request=request)
        return httpx.Response(step, json={"ok": step < 500})

    return respond


def upstream(
    recorder: Recorder, resilience: Resilience, stats: CallStats | None = None
) -> Upstream:
    client = httpx.AsyncClient(transport=httpx.MockTransport(recorder))
    return Upstream("lms", client, "http://lms.test", httpx.Auth(), stats, resilience=resilience)


async def test_a_read_is_retried_after_503_or_a_refused_connection() -> None:
    for first in (503, httpx.ConnectError):
        recorder = Recorder(answers(first, 200))
        stats = CallStats()
        response = await upstream(recorder, Resilience(read_retries=1), stats).request("GET", "/x")
        assert response.status_code == 200
        assert len(recorder.requests) == 2
        assert [c.status for c in stats.calls] == ["503" if first == 503 else "unavailable", "200"]


async def test_writes_and_read_timeouts_are_not_retried() -> None:
    recorder = Recorder(answers(503, 200))
    response = await upstream(recorder, Resilience(read_retries=3)).request(
        "POST", "/x", form={"a": "1"}
    )
    assert response.status_code == 503 and len(recorder.requests) == 1
    recorder = Recorder(answers(httpx.ReadTimeout, 200))
    with pytest.raises(UpstreamTimeout):
        await upstream(recorder, Resilience(read_retries=3)).request("GET", "/x")
    assert len(recorder.requests) == 1
    recorder = Recorder(answers(503, 200))
    response = await upstream(recorder, Resilience(read_retries=2)).request(
        "POST", "/x", form={"a": "1"}, idempotent=True
    )
    assert response.status_code == 200 and len(recorder.requests) == 2  # a read sent by POST


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_the_breaker_opens_fails_fast_and_tries_again_later() -> None:
    recorder = Recorder(answers(500, 500, 500, 200))
    clock = Clock()
    breaker = breaker_for("lms", failures=3, reset_s=30, clock=clock)
    source = upstream(recorder, Resilience(breaker=breaker))
    for _ in range(3):
        assert (await source.request("GET", "/x")).status_code == 500  # the connector maps it
    with pytest.raises(Unavailable) as caught:
        await source.request("GET", "/x")
    assert caught.value.upstream_code == "circuit_open" and len(recorder.requests) == 3
    clock.now += 29.5
    with pytest.raises(Unavailable):
        await source.request("GET", "/x")  # still open
    assert len(recorder.requests) == 3
    clock.now += 0.5
    assert (await source.request("GET", "/x")).status_code == 200  # let through, and closes
    assert (await source.request("GET", "/x")).status_code == 200
    assert len(recorder.requests) == 5


async def test_client_errors_do_not_count_against_the_source() -> None:
    recorder = Recorder(answers(404))
    breaker = breaker_for("lms", failures=2, reset_s=30)
    source = upstream(recorder, Resilience(breaker=breaker))
    for _ in range(5):
        assert (await source.request("GET", "/missing")).status_code == 404
    assert len(recorder.requests) == 5 and not breaker.opened
