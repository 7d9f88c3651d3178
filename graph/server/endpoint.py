"""The GraphQL endpoint: Strawberry's ASGI view, with the gateway's reading of requests (strict
JSON, persisted queries, batches, sessions), its answers' media types and status codes, and the
short way for one JSON operation."""

from __future__ import annotations

import json
from typing import Any

import msgspec
from cross_web import (
    HTTPException,  # what Strawberry's HTTP views raise
    StarletteRequestAdapter,
)
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET

from connectors.memory import LocalMemory, Recollection
from graph.context import Context
from graph.credentials import Credentials
from graph.gateway import LEARNED_FOR_S, LEARNED_QUERIES, Gateway
from graph.idempotency import IDEMPOTENCY_KEY, caller_of
from graph.internals import BatchCheck, handle_errors, streams
from graph.schema.documents import operation_type
from graph.schema.tracing import TRACE_HEADER
from graph.server.batching import Refused, check_batch, check_queries_only
from graph.server.caching import described
from graph.server.client_json import ClientJsonError, read_client_json
from graph.server.headers import headers_of
from graph.server.media import (
    GRAPHQL_RESPONSE,
    is_request_error,
    media_type_for,
    plain_json,
    status_of_request_error,
)
from graph.server.persisted import PersistedQueries, PersistedQueryError
from graph.session import InvalidSession, session_of

__all__ = [
    "ANSWER_KEY",
    "CONTEXT_KEY",
    "REQUEST_ERROR_KEY",
    "SESSION_KEY",
    "GraphQLEndpoint",
    "RequestAdapter",
]


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
        """One operation POSTed as JSON runs through `run_json` (off: Strawberry's `run`, which
        the tests compare it with; nothing else turns it off)."""

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
