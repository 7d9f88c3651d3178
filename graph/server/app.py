"""The Starlette app: `/graphql` (POST JSON and GET) and `/healthz`."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import httpx
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from graph.config import Settings, load_settings, secrets_in
from graph.gateway import Gateway
from graph.schema.root import build_schema
from graph.schema.tracing import tracer_provider
from graph.server.compression import compression_middleware
from graph.server.cors import cors_middleware
from graph.server.endpoint import GraphQLEndpoint
from graph.server.health import readiness
from graph.server.logs import configure_logging
from graph.server.metrics import Metrics
from graph.server.middleware import AccessLog, LimitBody
from graph.server.persisted import PersistedQueries
from graph.server.playground import playground_routes
from graph.server.routing import JsonOperations

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

__all__ = ["app_from_environment", "create_app"]


async def healthz(request: Request) -> Response:
    """The process is up."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Every configured source answers within its timeout (503 with per-source detail if not)."""
    gateway = request.app.state.gateway
    report = await readiness(gateway.settings, gateway.clients)
    return JSONResponse(report, status_code=200 if report["ready"] else 503)


def app_from_environment() -> Starlette:
    """The app of one of several worker processes: the configuration is read again in each
    (`LEGACYGRAPH_CONFIG` and the `LEGACYGRAPH_<SECTION>__<KEY>` variables), as is logging."""
    settings = load_settings(None, os.environ)
    configure_logging(settings.server.log_format, secrets_in(settings))
    return create_app(settings)


def create_app(
    settings: Settings,
    traces: TracerProvider | None = None,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> Starlette:
    """The gateway app; the per-source HTTP clients open and close with its lifespan, and so
    does the tracer provider (`traces`, or the one `[tracing]` configures), which is flushed.
    `transports` stands in for the network of the sources it names (replay tests, benches)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        provider = traces or tracer_provider(settings.tracing)
        tracer = provider.get_tracer("legacygraph") if provider is not None else None
        try:
            async with Gateway.open(settings, tracer, transports) as gateway:
                app.state.gateway = gateway
                graphql.learned = gateway.learned_queries
                yield
        finally:
            if provider is not None:  # flushes the spans still queued: it may wait on a network
                await asyncio.to_thread(provider.shutdown)

    metrics = Metrics()

    async def scrape(request: Request) -> Response:
        breakers = request.app.state.gateway.breakers
        return Response(metrics.exposition(breakers), media_type=CONTENT_TYPE_LATEST)

    playground = playground_routes(settings.playground)
    graphql = GraphQLEndpoint(
        build_schema(settings.limits, settings.graphql, federation=settings.federation),
        PersistedQueries(settings.graphql.persisted_queries, only=settings.graphql.persisted_only),
        playground=bool(playground),
        graphql_ide=None,  # the stock page loads scripts from a CDN; the playground is ours
        allow_queries_via_get=True,
        batch_max=settings.graphql.batch_max,
        max_tokens=settings.limits.max_tokens,
    )
    graphql_route = Route("/graphql", graphql, methods=["GET", "POST"])
    return Starlette(
        routes=[
            graphql_route,
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", scrape),
            *playground,
        ],
        middleware=[
            Middleware(AccessLog, metrics=metrics, log=settings.server.access_log),
            *compression_middleware(settings.server),
            *cors_middleware(settings.cors),
            Middleware(LimitBody, max_bytes=settings.limits.max_body_bytes),
            Middleware(JsonOperations, route=graphql_route),  # past the router, at once
        ],
        lifespan=lifespan,
    )
