"""The shared HTTP layer."""

from __future__ import annotations

import httpx
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from connectors.http import Upstream, new_client
from tests.connectors.recording import Recorder


async def test_the_shared_client_never_keeps_a_cookie() -> None:
    recorder = Recorder(
        lambda r: httpx.Response(200, headers={"Set-Cookie": "PHPSESSID=caller-one; Path=/"})
    )
    # The real client, with a fake network.
    transport = httpx.MockTransport(recorder)
    async with new_client(timeout_s=5, max_connections=2, transport=transport) as client:
        await client.get("http://crm.test/login")
        await client.get("http://crm.test/contacts")
    assert "cookie" not in recorder.requests[1].headers
    assert len(client.cookies) == 0


async def test_a_traced_request_carries_its_trace_context_and_an_untraced_one_none() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    recorder = Recorder(lambda request: httpx.Response(200, json={}))
    async with httpx.AsyncClient(transport=httpx.MockTransport(recorder)) as client:
        for tracer in (provider.get_tracer("test"), None):
            source = Upstream("lms", client, "http://lms.test", httpx.Auth(), tracer=tracer)
            await source.request("GET", "/courses")
    traced, untraced = recorder.requests
    (span,) = exporter.get_finished_spans()
    assert span.context is not None
    _, trace_id, span_id, _ = traced.headers["traceparent"].split("-")
    assert (int(trace_id, 16), int(span_id, 16)) == (span.context.trace_id, span.context.span_id)
    assert "traceparent" not in untraced.headers
