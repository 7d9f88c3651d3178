"""What a query cost upstream: `extensions.upstream` for the caller who asks, and OpenTelemetry
spans (one per operation, one per upstream request) for the operator who traces."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from graph.config import ConfigError, load_settings
from graph.server.app import create_app
from simulators.serve import serve_in_thread
from tests.conftest import Gateway, Simulator, login, moodle_login, running_gateway

TRACED = {"X-Legacygraph-Trace": "1"}
FRONT_PAGE = """
query FrontPage {
  discussions(first: 10) { nodes { title author { displayName } tags { name } } }
  courses(first: 5) { nodes { fullName } }
}
"""


def caller(flarum: Simulator, moodle: Simulator) -> dict[str, str]:
    return {
        "X-Flarum-Token": login(flarum.url, "bea.abebe"),
        "X-Moodle-Token": moodle_login(moodle.url, "bea.abebe"),
    }


def test_the_upstream_cost_is_reported_to_a_caller_who_asks(
    flarum: Simulator, moodle: Simulator
) -> None:
    headers = caller(flarum, moodle)
    off = {"cache_ttl_s": 0.0}
    with running_gateway(flarum.url, moodle.url, off, **off) as gateway:
        flarum.counter.reset()
        moodle.counter.reset()
        body = gateway.query(FRONT_PAGE, **headers, **TRACED)
        assert "errors" not in body, body
        cost = body["extensions"]["upstream"]
        assert set(cost) == {"flarum", "moodle"}
        # The list, and once whether Flarum knows the caller's token (`GET /api`).
        assert cost["flarum"]["requests"] == flarum.counter.total == 2
        assert cost["moodle"]["requests"] == moodle.counter.total >= 1
        for report in cost.values():
            assert report["cacheHits"] == 0
            assert len(report["calls"]) == report["requests"]
            assert all(call["status"] == "200" for call in report["calls"])
            assert report["ms"] == pytest.approx(sum(c["ms"] for c in report["calls"]), abs=0.2)
            assert report["ms"] > 0
        assert sorted(c["call"] for c in cost["flarum"]["calls"]) == [
            "GET /api",
            "GET /api/discussions",
        ]

        untraced = gateway.query(FRONT_PAGE, **headers)
        assert "extensions" not in untraced
        assert untraced["data"] == body["data"]


def test_cache_hits_are_reported(flarum: Simulator, moodle: Simulator) -> None:
    headers = caller(flarum, moodle)
    with running_gateway(flarum.url, moodle.url) as gateway:  # cache on (30 s by default)
        gateway.query(FRONT_PAGE, **headers)
        flarum.counter.reset()
        moodle.counter.reset()
        cost = gateway.query(FRONT_PAGE, **headers, **TRACED)["extensions"]["upstream"]
    assert flarum.counter.total == moodle.counter.total == 0
    assert cost["flarum"] == {"requests": 0, "ms": 0.0, "cacheHits": 1, "calls": []}
    assert cost["moodle"]["requests"] == 0
    assert cost["moodle"]["cacheHits"] >= 1


@pytest.fixture
def spans() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter


def text_of(span: ReadableSpan) -> str:
    """Everything a span says, as text: its name, attributes, events and status."""
    events = [(event.name, dict(event.attributes or {})) for event in span.events]
    return f"{span.name} {dict(span.attributes or {})} {events} {span.status.description}"


def test_one_span_per_operation_and_per_upstream_request(
    flarum: Simulator, moodle: Simulator, spans: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    provider, exporter = spans
    headers = caller(flarum, moodle)
    off = {"cache_ttl_s": 0.0}
    with running_gateway(flarum.url, moodle.url, off, traces=provider, **off) as gateway:
        flarum.counter.reset()
        moodle.counter.reset()
        body = gateway.query(FRONT_PAGE, **headers)
        assert "errors" not in body, body
    finished = exporter.get_finished_spans()
    (operation,) = [span for span in finished if span.kind == SpanKind.SERVER]
    assert operation.name == "query FrontPage"
    assert operation.attributes is not None
    assert operation.attributes["graphql.operation.name"] == "FrontPage"
    assert operation.attributes["legacygraph.outcome"] == "ok"
    upstream = [span for span in finished if span.kind == SpanKind.CLIENT]
    served = flarum.counter.total + moodle.counter.total
    assert len(upstream) == operation.attributes["legacygraph.upstream.requests"] == served
    assert operation.context is not None
    for span in upstream:
        assert span.parent is not None
        assert span.parent.span_id == operation.context.span_id
        assert span.context is not None
        assert span.context.trace_id == operation.context.trace_id
        assert span.attributes is not None
        assert span.attributes["http.response.status_code"] == 200
        assert span.attributes["server.address"] == "127.0.0.1"
    assert {span.attributes["legacygraph.source"] for span in upstream if span.attributes} == {
        "flarum",
        "moodle",
    }
    assert "flarum GET /api/discussions" in {span.name for span in upstream}
    said = " ".join(text_of(span) for span in finished)
    for token in headers.values():
        assert token not in said


def test_a_failed_upstream_request_is_an_error_span_without_secrets(
    flarum: Simulator, spans: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    provider, exporter = spans
    token = "s3cret-moodle-token"
    with running_gateway(
        flarum.url, "http://127.0.0.1:9", {"read_retries": 0}, traces=provider
    ) as gateway:
        body = gateway.query(FRONT_PAGE, **{"X-Moodle-Token": token})
    assert body["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert body["data"]["discussions"] is not None  # the other source still answers
    finished = exporter.get_finished_spans()
    (failed,) = [span for span in finished if span.name.startswith("moodle ")]
    assert failed.status.status_code == StatusCode.ERROR
    assert failed.status.description == "unavailable"
    (operation,) = [span for span in finished if span.kind == SpanKind.SERVER]
    assert operation.attributes is not None
    assert operation.attributes["legacygraph.outcome"] == "partial"
    assert token not in " ".join(text_of(span) for span in finished)


def test_traces_are_exported_over_otlp_to_the_configured_collector(
    flarum: Simulator, tmp_path: Any
) -> None:
    received: list[tuple[str, bytes]] = []

    async def collect(request: Request) -> Response:
        received.append((request.headers["content-type"], await request.body()))
        return Response(b"", media_type="application/x-protobuf")

    collector = Starlette(routes=[Route("/v1/traces", collect, methods=["POST"])])
    token = login(flarum.url, "bea.abebe")
    with serve_in_thread(collector) as collector_url:
        config = tmp_path / "gateway.toml"
        config.write_text(
            f'[tracing]\nexporter = "otlp"\nendpoint = "{collector_url}/v1/traces"\n'
            f'[sources.flarum]\nurl = "{flarum.url}"\n'
        )
        app = create_app(load_settings(config))
        with serve_in_thread(app) as url:
            assert "errors" not in Gateway(url).query(
                "query Latest { discussions(first: 3) { nodes { title } } }",
                **{"X-Flarum-Token": token},
            )
        # Stopping the gateway flushed the batch of spans to the collector.
    assert received
    names = set()
    for content_type, payload in received:
        assert content_type == "application/x-protobuf"
        assert token.encode() not in payload
        export = ExportTraceServiceRequest.FromString(payload)
        for resource_spans in export.resource_spans:
            service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            assert service["service.name"] == "legacygraph"
            names |= {s.name for scope in resource_spans.scope_spans for s in scope.spans}
    assert names == {"query Latest", "flarum GET /api", "flarum GET /api/discussions"}


def test_an_unknown_exporter_stops_the_gateway_with_one_line(tmp_path: Any) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text('[tracing]\nexporter = "zipkin"\n')
    with pytest.raises(ConfigError, match=r"tracing\.exporter: must be otlp, console or empty"):
        load_settings(config)
