"""What a request cost upstream: OpenTelemetry traces for operators (optional), and
`extensions.upstream` for the caller who asks with `X-Legacygraph-Trace: 1`.

Neither carries a query's text, its variables, an upstream URL or a header: a login mutation's
variables hold a password, and some legacy systems put the caller's token in the URL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors.http import CallStats
from graph.config import TracingSettings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

__all__ = ["TRACE_HEADER", "tracer_provider", "upstream_report"]

TRACE_HEADER = "X-Legacygraph-Trace"


def tracer_provider(settings: TracingSettings) -> TracerProvider | None:
    """The provider the configured exporter needs, or None when traces are off. Imported here
    so that a gateway without the `otel` extra never loads the SDK."""
    if not settings.exporter:
        return None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SpanExporter,
    )

    exporter: SpanExporter
    if settings.exporter == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=settings.endpoint)
    else:
        exporter = ConsoleSpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": settings.service_name}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def upstream_report(stats: CallStats) -> dict[str, Any]:
    """Per source: the HTTP requests made (each with its call, status and time), their total
    time, and the reads the cache answered."""
    report: dict[str, Any] = {}
    for source in dict.fromkeys(
        [*(call.source for call in stats.calls), *stats.hits, *stats.misses]
    ):
        report[source] = {
            "requests": stats.requests.get(source, 0),
            "ms": round(stats.seconds.get(source, 0.0) * 1000, 1),
            "cacheHits": stats.hits.get(source, 0),
            "calls": [
                {"call": call.name, "status": call.status, "ms": round(call.seconds * 1000, 1)}
                for call in stats.calls
                if call.source == source
            ],
        }
    return report
