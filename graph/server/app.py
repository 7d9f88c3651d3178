"""The Starlette app: `/graphql` (POST JSON and GET) and `/healthz`."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import httpx
import msgspec
from cross_web import (
    HTTPException,  # what Strawberry's HTTP views raise
    StarletteRequestAdapter,
)
from graphql import GraphQLError
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET

from connectors.memory import LocalMemory, Recollection
from graph.config import Settings, load_settings, secrets_in
from graph.context import LEARNED_FOR_S, LEARNED_QUERIES, Context, Credentials, Gateway
from graph.idempotency import IDEMPOTENCY_KEY, caller_of
from graph.internals import BatchCheck, handle_errors, streams
from graph.schema.documents import operation_type
from graph.schema.root import build_schema
from graph.schema.tracing import TRACE_HEADER, tracer_provider
from graph.server.batching import Refused, check_batch, check_queries_only
from graph.server.caching import described
from graph.server.client_json import ClientJsonError, read_client_json
from graph.server.compression import compression_middleware
from graph.server.cors import cors_middleware
from graph.server.headers import headers_of
from graph.server.health import readiness
from graph.server.logs import configure_logging
from graph.server.media import (
    GRAPHQL_RESPONSE,
    is_request_error,
    media_type_for,
    status_of_request_error,
)
from graph.server.metrics import Metrics
from graph.server.persisted import PersistedQueries, PersistedQueryError
from graph.server.playground import playground_routes
from graph.server.routing import JsonOperations
from graph.session import InvalidSession, session_of

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

__all__ = ["app_from_environment", "create_app"]

access_log = logging.getLogger("legacygraph.access")
CONTEXT_KEY = "legacygraph.context"
SESSION_KEY = "legacygraph.session"
REQUEST_ERROR_KEY = "legacygraph.request-error"
"""Set by `process_result` when the answer is a request error: the status it calls for."""
ANSWER_KEY = "legacygraph.answer"
"""What the request ran and how it went: `batch` (an array of operations), `queries` (every
operation is a query), `errors` (some answer has errors). Read for the caching headers."""


class RequestAdapter(StarletteRequestAdapter):
    """Starlette's request as Strawberry reads it, with the media type of `Content-Type` in
    lower case: media types are case-insensitive (RFC 9110, 8.3.1), and Strawberry compares
    them as written."""

    @property
    def content_type(self) -> str | None:
        written = super().content_type
        if written is None:
            return None
        media_type, semicolon, parameters = written.partition(";")
        return media_type.lower() + semicolon + parameters


class GraphQLEndpoint(BatchCheck, GraphQL[Context, None]):
    request_adapter_class = RequestAdapter

    def __init__(
        self,
        schema: Any,
        persisted: PersistedQueries,
        *,
        playground: bool,
        batch_max: int = 0,
        max_tokens: int = 5_000,
        **options: Any,
    ) -> None:
        super().__init__(schema, **options)
        self.persisted = persisted
        self.batch_max = batch_max
        """The most operations a JSON array may carry; 0: arrays are refused."""
        self.max_tokens = max_tokens
        self.learned: Recollection = LocalMemory(LEARNED_QUERIES, LEARNED_FOR_S)
        """Where queries learned from clients are kept: the gateway's, set as it opens."""
        self.playground = playground
        """Send a browser that opens /graphql to the playground."""
        self.short_way = True
        """One operation POSTed as JSON runs through `run_json` (off: Strawberry's `run`)."""

    def decode_json(self, data: str | bytes) -> object:
        """The client's JSON, read strictly: what is not readable is the client's 400, with
        the parser's reason and where it stopped."""
        try:
            found = read_client_json(data)
        except ClientJsonError as error:
            raise HTTPException(400, str(error)) from None
        except json.JSONDecodeError as error:
            reason = f"Not valid JSON: {error}"  # the parser's reason, line and column
            if error.msg.startswith("Invalid control character"):
                reason += "; a line break inside a JSON string must be written as \\n"
            raise HTTPException(400, reason) from None
        if not isinstance(found, dict | list):
            kind = kind_of(found)
            raise HTTPException(400, f"Expected a JSON object, or an array of them; got {kind}.")
        return found

    def encode_json(self, data: object) -> bytes:
        """The response, as UTF-8 JSON (msgspec: a tenth of `json.dumps`'s time for a page)."""
        return msgspec.json.encode(data)

    def should_render_graphql_ide(self, request: Any) -> bool:
        """Never: there is no IDE here (browsers are sent to the playground before this), and a
        GET with only `extensions` is an APQ request by hash, not a page load."""
        return False

    def check_batch_request(self, items: list[Any]) -> None:
        """A JSON array's check, in place of Strawberry's (`graph/internals.py`):
        `[graphql] batch_max` and the shape of each operation."""
        check_batch(items, self.batch_max)

    async def parse_http_body(self, request: Any) -> Any:
        data = await super().parse_http_body(request)
        if isinstance(data, GraphQLRequestData):
            return await self._resolved(data)
        return [await self._resolve_in_batch(item) for item in data]

    async def _resolved(self, data: GraphQLRequestData) -> GraphQLRequestData:
        """One operation, its name checked and its persisted query found."""
        if not isinstance(data.operation_name, str | None):
            raise HTTPException(
                400, "The GraphQL operation's `operationName` must be a string or null."
            )
        data.query = await self.persisted.resolve(data.query, data.extensions, self.learned)
        return data

    async def _resolve_in_batch(self, data: GraphQLRequestData) -> GraphQLRequestData:
        """A batch's operation with its persisted query found, or refused on its own."""
        try:
            data.query = await self.persisted.resolve(data.query, data.extensions, self.learned)
        except PersistedQueryError as error:
            refusal = GraphQLError(str(error), extensions={"code": error.code})
            return Refused(None, None, data.operation_name, data.extensions, error=refusal)
        return data

    async def execute_operation(self, *args: Any, **kwargs: Any) -> Any:
        """Note what runs (for the caching headers); a batch runs queries only."""
        request, data = kwargs["request"], kwargs["request_data"]
        operations = data if isinstance(data, list) else [data]
        kinds = [
            operation_type(o.query, o.operation_name, max_tokens=self.max_tokens)
            for o in operations
        ]
        batch = isinstance(data, list)
        if batch:
            check_queries_only(kinds)
        answer = request.scope.setdefault("state", {}).setdefault(ANSWER_KEY, {})
        answer.update(batch=batch, queries=all(kind == "query" for kind in kinds))
        return await super().execute_operation(*args, **kwargs)

    async def execute_single(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        refused = kwargs.get("request_data")
        if isinstance(refused, Refused) and refused.error is not None:
            return ExecutionResult(data=None, errors=[refused.error])
        return await super().execute_single(*args, **kwargs)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        if self.playground and opened_in_a_browser(request):
            root = scope.get("root_path", "")
            await RedirectResponse(f"{root}/playground/")(scope, receive, send)
            return
        headers = headers_of(request)
        try:
            sessions = request.app.state.gateway.sessions
            session = session_of(headers.get("authorization", ""), sessions)
        except InvalidSession as error:
            refusal = {"message": str(error), "extensions": {"code": "UNAUTHENTICATED"}}
            refused = JSONResponse({"errors": [refusal]}, status_code=401)
            await described(request, refused, None)(scope, receive, send)
            return
        if session is not None:
            scope.setdefault("state", {})[SESSION_KEY] = session
        media_type = media_type_for(headers.get("accept"))
        answered = False
        try:
            response = await self.run_once(request)
            answered = True
            request_error = scope.get("state", {}).get(REQUEST_ERROR_KEY)
            batch = scope.get("state", {}).get(ANSWER_KEY, {}).get("batch", False)
            if request_error is not None and media_type == GRAPHQL_RESPONSE and not batch:
                response.status_code = request_error  # a batch's status cannot speak for all
        except PersistedQueryError as error:
            refusal = {"message": str(error), "extensions": {"code": error.code}}
            status = 400 if media_type == GRAPHQL_RESPONSE else 200
            response = JSONResponse({"errors": [refusal]}, status_code=status)
        except HTTPException as error:
            # Not GraphQL at all (a body that is not JSON, no query): still answer in GraphQL's
            # error format, so that every client can read what went wrong.
            response = JSONResponse(
                {"errors": [{"message": error.reason, "extensions": {"code": "BAD_USER_INPUT"}}]},
                status_code=error.status_code,
            )
        if media_type == GRAPHQL_RESPONSE:
            response.headers["content-type"] = f"{GRAPHQL_RESPONSE}; charset=utf-8"
        state = scope.get("state", {})
        answer = state.get(ANSWER_KEY, {})
        cacheable = answered and answer.get("queries") and not answer.get("errors")
        response = described(request, response, state.get(CONTEXT_KEY) if cacheable else None)
        await response(scope, receive, send)

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        """The answer; a request error's has no `data` entry, and notes the status it calls for
        (sent under `application/graphql-response+json`; JSON clients get 200)."""
        answer = process_result(result)
        if result.errors:
            request.scope.setdefault("state", {}).setdefault(ANSWER_KEY, {})["errors"] = True
        if is_request_error(result.data, result.errors):
            del answer["data"]
            codes = [(e.extensions or {}).get("code", "") for e in result.errors or ()]
            request.scope.setdefault("state", {})[REQUEST_ERROR_KEY] = status_of_request_error(
                codes
            )
        return answer

    async def get_context(self, request: Any, response: Any) -> Context:
        session = request.scope.get("state", {}).get(SESSION_KEY)
        headers = headers_of(request)
        credentials = Credentials.from_headers(headers, session)
        traced = headers.get(TRACE_HEADER, "").strip() == "1"
        context = Context(request.app.state.gateway, credentials, traced=traced)
        request.scope.setdefault("state", {})[CONTEXT_KEY] = context
        return context

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        """Strawberry's `run`; one operation POSTed as JSON (nearly every request) goes the
        short way, `run_json`, unless `short_way` is off."""
        if (
            self.short_way
            and context is UNSET
            and root_value is UNSET
            and isinstance(request, Request)
            and request.method == "POST"
            and plain_json(headers_of(request).get("content-type", ""))
            and not streams(self, headers_of(request))
            and not self.schema.config.enable_experimental_incremental_execution
        ):
            return await self.run_json(request)
        return await super().run(request, context, root_value)

    async def run_json(self, request: Request) -> Response:
        """Strawberry's `run` for one operation POSTed as JSON, step by step in its order, with
        the same hooks, checks and answers (tests/graph/server/test_short_way.py compares the two),
        less its per-request adapters, content-type parsing and dispatch. A body that is not
        one JSON object (a batch, say) goes back to `run`."""
        root_value = await self.get_root_value(request)  # type: ignore[func-returns-value]
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, response=sub_response)
        data = self.parse_json(await request.body())
        if not isinstance(data, dict):  # Starlette keeps the body read, for `run` to read
            return await super().run(request, context, root_value)
        # What Strawberry's `parse_http_body` checks of one operation, with its words.
        query, variables, extensions = (
            data.get("query"),
            data.get("variables"),
            data.get("extensions"),
        )
        if not isinstance(query, str | None):
            raise HTTPException(
                400, "The GraphQL operation's `query` must be a string or null, if provided."
            )
        if not isinstance(variables, dict | None):
            raise HTTPException(
                400, "The GraphQL operation's `variables` must be an object or null, if provided."
            )
        if not isinstance(extensions, dict | None):
            raise HTTPException(
                400,
                "The GraphQL operation's `extensions` must be an object or null, if provided.",
            )
        operation = await self._resolved(
            GraphQLRequestData(
                query=query,
                variables=variables,
                operation_name=data.get("operationName"),
                extensions=extensions,
                protocol="http",
            )
        )
        kind = operation_type(operation.query, operation.operation_name, max_tokens=self.max_tokens)
        answer = request.scope.setdefault("state", {}).setdefault(ANSWER_KEY, {})
        answer.update(batch=False, queries=kind == "query")
        try:
            result = await self.schema.execute(
                operation.query,
                root_value=root_value,
                variable_values=operation.variables,
                context_value=context,
                operation_name=operation.operation_name,
                allowed_operation_types=POST_OPERATIONS,
                operation_extensions=operation.extensions,
            )
        except CannotGetOperationTypeError as error:
            raise HTTPException(400, error.as_http_error_reason()) from error
        except InvalidOperationTypeError as error:
            raise HTTPException(400, error.as_http_error_reason("POST")) from error
        except MissingQueryError as error:
            raise HTTPException(400, "No GraphQL query found in the request") from error
        response_data = await self.process_result(request, result)
        if result.errors:
            handle_errors(self, result.errors, response_data)
        return self.create_response(response_data=response_data, sub_response=sub_response)

    async def run_once(self, request: Request) -> Response:
        """`run`; a mutation sent with an `Idempotency-Key` runs once, and its retries get
        the first answer (graph/idempotency.py)."""
        if IDEMPOTENCY_KEY not in headers_of(request):
            return await self.run(request)
        gateway: Gateway = request.app.state.gateway
        session = request.scope.get("state", {}).get(SESSION_KEY)
        tokens = Credentials.from_headers(request.headers, session).tokens
        return await gateway.idempotency.run_once(
            request,
            self.run,
            caller=caller_of(tokens, gateway.caller_key),
            persisted=self.persisted,
            learned=self.learned,
            max_tokens=gateway.settings.limits.max_tokens,
        )


POST_OPERATIONS = OperationType.from_http("POST")


def plain_json(content_type: str) -> bool:
    """The content type is JSON's, in any case, with parameters or none; the other spellings
    Strawberry reads as JSON go its own way."""
    return content_type.partition(";")[0].strip().lower() == "application/json"


def kind_of(value: object) -> str:
    """What a JSON value is, in a client's words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a string" if isinstance(value, str) else "a number"


def opened_in_a_browser(request: Request) -> bool:
    """A page load (GET, asking for HTML, no query), not a GraphQL request sent by GET."""
    return (
        request.method == "GET"
        and "text/html" in request.headers.get("accept", "")
        and "query" not in request.query_params
    )


class AccessLog:
    """One line per request: method, path, operation, status, time, upstream calls. The query
    string is left out (a GET query's variables may hold a password), and so are all headers."""

    def __init__(self, app: ASGIApp, metrics: Metrics, *, log: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        noted = False

        def note() -> None:
            nonlocal noted
            if not noted:
                noted = True
                self._note(scope, status, time.perf_counter() - started)

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                # Noted before the last bytes leave: a client that has its answer finds the
                # request already counted in /metrics and written to the log.
                note()
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            note()

    def _note(self, scope: Scope, status: int, seconds: float) -> None:
        context = scope.get("state", {}).get(CONTEXT_KEY)
        if isinstance(context, Context):
            outcome = context.outcome if status < 400 else "failed"
            self.metrics.observe(context.operation_name, outcome, seconds, context.stats)
        # The line is made only when it is written (a deployment may raise the logger's level).
        if self.log and access_log.isEnabledFor(logging.INFO):
            upstream = "-"
            cached = "-"
            operation = "-"
            if isinstance(context, Context):
                operation = context.operation_name or "-"
                upstream = ",".join(f"{s}:{n}" for s, n in context.stats.requests.items()) or "0"
                cached = ",".join(f"{s}:{n}" for s, n in context.stats.hits.items()) or "0"
            access_log.info(
                "%s %s op=%s status=%d %.1fms upstream=%s cached=%s",
                scope["method"],
                scope["path"],
                operation,
                status,
                seconds * 1000,
                upstream,
                cached,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "operation": operation,
                    "status": status,
                    "ms": round(seconds * 1000, 1),
                    "upstream": upstream,
                    "cached": cached,
                },
            )


class BodyTooLarge(Exception):
    pass


class LimitBody:
    """Refuse a request body larger than `max_bytes` (413, in GraphQL's error format), whether
    it says its length up front or streams it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        seen = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise BodyTooLarge
            return message

        async def noting_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, noting_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = {
            "message": f"The request body is larger than {self.max_bytes} bytes",
            "extensions": {"code": "QUERY_TOO_COMPLEX", "limit": "body", "max": self.max_bytes},
        }
        await JSONResponse({"errors": [refusal]}, status_code=413)(scope, receive, send)


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
