"""What `graph/internals.py` reaches of Strawberry, graphql-core, aiodataloader and contextlib is
still there and still behaves: an upgrade that moves one fails here first, naming what moved."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import inspect
from collections.abc import Iterator
from functools import partial
from typing import Any

import httpx
import pytest
import strawberry
from aiodataloader import DataLoader
from cross_web import HTTPException
from graphql import GraphQLError, GraphQLSchema, parse, specified_rules
from graphql.execution.executor import Executor
from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse, Response
from starlette.types import Message, Send
from strawberry.asgi import GraphQL
from strawberry.extensions import SchemaExtension
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL, MULTIPART_SUBSCRIPTION_PROTOCOL
from strawberry.types import ExecutionContext

from graph.internals import (
    SAFELISTED_HEADERS,
    BatchCheck,
    CORSMiddleware,
    ExecutingContextManager,
    ExtensionContextManagerBase,
    GZipResponder,
    IdentityResponder,
    OperationContextManager,
    ParsingContextManager,
    PreExecutionError,
    SchemaExtensionsRunner,
    StrawberryExecutionContext,
    ValidationContextManager,
    WrappedHook,
    dispatch,
    enqueue,
    entered_by,
    give_key,
    graphql_schema,
    handle_errors,
    has_key,
    info_of,
    reads_attribute,
    set_up_loader,
    streams,
    token_limit,
    validate_document,
)
from graph.loaders import Loader
from graph.schema.execution import GatewayExecutor, use_lean_resolvers


@strawberry.type
class Thing:
    id: strawberry.ID
    name: str

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()


@strawberry.type
class Problem:
    message: str


class Broken(Exception):
    pass


class ProblemHandler(strawberry.ExceptionHandler[Broken, Problem]):
    def handle(self, exception: Broken, *, field: Any, info: Any) -> Problem:
        return Problem(message=f"handled: {exception}")


@strawberry.type
class Query:
    @strawberry.field
    def thing(self) -> Thing:
        return Thing(id=strawberry.ID("1"), name="ada")

    @strawberry.field
    def risky(self) -> Thing | Problem:
        raise Broken("no thing")


def test_the_graphql_core_schema_is_the_one_strawberry_built() -> None:
    schema = strawberry.Schema(query=Query)
    built = graphql_schema(schema)
    assert isinstance(built, GraphQLSchema)
    assert set(built.type_map["Thing"].fields) == {"id", "name", "shout"}  # type: ignore[union-attr]


def test_strawberry_still_marks_the_fields_it_reads_as_attributes() -> None:
    fields = graphql_schema(strawberry.Schema(query=Query)).type_map["Thing"].fields  # type: ignore[union-attr]
    assert reads_attribute(fields["name"]) and reads_attribute(fields["id"])
    assert not reads_attribute(fields["shout"])


def test_an_info_is_made_from_graphql_cores() -> None:
    seen: list[Any] = []

    @strawberry.type
    class Probe:
        @strawberry.field
        def look(self, info: strawberry.Info) -> str:
            made = info_of(type(info), info._raw_info, info._field)
            seen.append((made.field_name, made.python_name, made.context))
            return "ok"

    result = strawberry.Schema(query=Probe).execute_sync("{ look }", context_value={"c": 1})
    assert result.errors is None and seen == [("look", "look", {"c": 1})]


def test_validation_still_takes_a_schema_a_document_and_rules() -> None:
    assert list(inspect.signature(validate_document).parameters) == [
        "schema",
        "document",
        "validation_rules",
    ]
    built = graphql_schema(strawberry.Schema(query=Query))
    rules = tuple(specified_rules)
    assert validate_document(built, parse("{ thing { name } }"), rules) == []
    (error,) = validate_document(built, parse("{ thing { nosuch } }"), rules)
    assert "nosuch" in error.message


def test_the_executor_strawberry_uses_is_the_one_extended() -> None:
    assert strawberry.Schema(query=Query).execution_context_class is StrawberryExecutionContext
    assert issubclass(GatewayExecutor, StrawberryExecutionContext)
    assert issubclass(StrawberryExecutionContext, Executor)


EXECUTE_FIELDS_SHA256 = "797f54fbd779b4e381b688bce8e249abffa2e057974676e5f5ef3cefc0ff654c"
"""graphql-core 3.3.2's `Executor.execute_fields`, which `GatewayExecutor.execute_fields`
copies with an inline read added: when graphql-core changes it, copy it again."""


def test_graphql_cores_execute_fields_is_still_the_one_copied() -> None:
    source = inspect.getsource(Executor.execute_fields)
    assert hashlib.sha256(source.encode()).hexdigest() == EXECUTE_FIELDS_SHA256, source
    assert list(inspect.signature(Executor.execute_fields).parameters) == list(
        inspect.signature(GatewayExecutor.execute_fields).parameters
    )
    assert list(inspect.signature(Executor.execute_field).parameters) == [
        "self",
        "parent_type",
        "source",
        "field_details_list",
        "path",
        "position_context",
    ]
    for name in ("is_awaitable", "settle_in_background", "build"):
        assert callable(getattr(Executor, name)), name


def test_exception_handlers_are_honoured_beside_the_shortcuts() -> None:
    schema = strawberry.Schema(
        query=Query, execution_context_class=GatewayExecutor, exception_handlers=[ProblemHandler()]
    )
    # Query.thing and Thing.shout; Query.risky keeps Strawberry's wrapper and its handler.
    assert use_lean_resolvers(schema) == 2
    result = schema.execute_sync("{ risky { ... on Problem { message } } thing { name shout } }")
    assert result.errors is None
    assert result.data == {
        "risky": {"message": "handled: no thing"},
        "thing": {"name": "ada", "shout": "ADA"},
    }


def test_without_handlers_the_union_field_takes_the_shortcut_too() -> None:
    schema = strawberry.Schema(query=Query, execution_context_class=GatewayExecutor)
    assert use_lean_resolvers(schema) == 3
    result = schema.execute_sync("{ risky { ... on Problem { message } } }")
    assert result.errors is not None and result.errors[0].message == "no thing"


def test_graphql_cores_token_limit_is_recognised() -> None:
    with pytest.raises(GraphQLError) as passed:
        parse("{ a b c d e }", max_tokens=4)
    assert token_limit(passed.value) == 4
    with pytest.raises(GraphQLError) as broken:
        parse("{ a b", max_tokens=40)
    assert token_limit(broken.value) is None


@strawberry.type
class Keyed:
    id: strawberry.ID


@strawberry.type
class KeyedRoot:
    keyed: Keyed


def test_a_key_given_late_is_printed() -> None:
    assert not has_key(Keyed)
    give_key(Keyed, "id")
    assert has_key(Keyed)
    sdl = strawberry.federation.Schema(query=KeyedRoot).as_str()
    assert 'type Keyed @key(fields: "id"' in sdl


class Checked(BatchCheck, GraphQL[Any, None]):
    def check_batch_request(self, items: list[Any]) -> None:
        raise HTTPException(400, f"checked {len(items)} operations")


async def test_strawberry_hands_a_batch_to_the_views_check() -> None:
    app = Checked(strawberry.Schema(query=Query))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        batch = [{"query": "{ thing { name } }"}, {"query": "{ thing { id } }"}]
        answer = await client.post("/", json=batch)
        single = await client.post("/", json={"query": "{ thing { name } }"})
    assert (answer.status_code, answer.text) == (400, "checked 2 operations")
    assert single.json() == {"data": {"thing": {"name": "ada"}}}


class Held(DataLoader[int, str]):
    """Queues its keys and sends them only when told."""

    def do_resolve_reject(self, key: int, future: asyncio.Future[str]) -> None:
        if enqueue(self, key, future):
            self.first.append(key)


async def test_keys_queued_by_hand_go_in_one_batch() -> None:
    batches: list[list[int]] = []

    async def batch(keys: list[int]) -> list[str]:
        batches.append(keys)
        return [f"v{key}" for key in keys]

    held = Held(batch)
    held.first = []  # type: ignore[attr-defined]
    one, two = held.load(1), held.load(2)
    await asyncio.sleep(0)
    assert batches == [] and held.first == [1]  # type: ignore[attr-defined]
    dispatch(held)
    assert await asyncio.gather(one, two) == ["v1", "v2"]
    assert batches == [[1, 2]]


async def test_a_loader_says_what_it_holds() -> None:
    async def batch(keys: list[int]) -> list[str | BaseException]:
        return [f"v{key}" for key in keys]

    loaded = Loader[int, str](batch)
    loaded.prime(1, "primed")
    assert loaded.held(1) == "primed" and loaded.held(2) is None
    assert await loaded.load(2) == "v2" and loaded.held(2) == "v2"


async def test_a_loader_set_up_by_hand_is_the_one_dataloader_sets_up() -> None:
    async def batch(keys: list[int]) -> list[str]:
        return [f"v{key}" for key in keys]

    def key(value: int) -> int:
        return value

    held: dict[Any, asyncio.Future[str]] = {}
    theirs: DataLoader[int, str] = DataLoader(batch, cache_map=held, get_cache_key=key)
    ours = DataLoader.__new__(DataLoader)
    set_up_loader(ours, batch, {}, key)
    assert vars(ours).keys() == vars(theirs).keys(), "DataLoader.__init__ sets other attributes"
    for name in ("loop", "batch_load_fn", "get_cache_key", "_queue"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert theirs._cache is held  # aiodataloader still keeps `cache_map` as `_cache`
    assert await asyncio.gather(ours.load(1), ours.load(2)) == ["v1", "v2"]
    assert set(ours._cache) == {1, 2}
    ours.prime(3, "primed")
    assert await ours.load(3) == "primed"


class Noted:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def hook(self) -> Iterator[None]:
        self.seen.append("in")
        try:
            yield
        except ValueError:
            self.seen.append("failed")
            raise
        self.seen.append("out")


def test_a_generator_is_entered_as_contextmanager_enters_it() -> None:
    ours, theirs = Noted(), Noted()
    for make in (
        entered_by(Noted.hook, ours),
        partial(contextlib.contextmanager(Noted.hook), theirs),
    ):
        with make():
            pass
        with pytest.raises(ValueError), make():
            raise ValueError("no")
    assert ours.seen == theirs.seen == ["in", "out", "in", "failed"]
    made = entered_by(Noted.hook, Noted())()
    assert type(made) is type(contextlib.contextmanager(Noted.hook)(Noted()))


class Hooked(SchemaExtension):
    def on_parse(self) -> Iterator[None]:
        yield


STAGES = {
    "operation": (OperationContextManager, "on_operation"),
    "validation": (ValidationContextManager, "on_validate"),
    "parsing": (ParsingContextManager, "on_parse"),
    "executing": (ExecutingContextManager, "on_execute"),
}


def test_strawberrys_runner_still_makes_its_stages_so() -> None:
    """What graph/schema/hooks.py subclasses: the runner's stage methods, each stage's
    `HOOK_NAME` and `default_hook`, `get_hook` and the `WrappedHook` it gives."""
    schema = strawberry.Schema(query=Query)
    context = ExecutionContext(query="{ thing { name } }", schema=schema, allowed_operations=())
    extension = Hooked(execution_context=context)
    runner = schema.create_extensions_runner(context, [extension])
    assert isinstance(runner, SchemaExtensionsRunner)
    for method, (stage_class, hook_name) in STAGES.items():
        assert issubclass(stage_class, ExtensionContextManagerBase)
        stage = getattr(runner, method)()
        assert type(stage) is stage_class and hook_name == stage.HOOK_NAME, method
        assert stage.default_hook is getattr(SchemaExtension, hook_name)
        hook = stage.get_hook(extension)
        if hook_name == "on_parse":
            assert isinstance(hook, WrappedHook)
            assert (hook.extension, hook.is_async) == (extension, False)
            with hook.hook():
                pass
        else:
            assert hook is None
    assert list(WrappedHook._fields) == ["extension", "hook", "is_async"]


class Streaming(GraphQL[Any, None]):
    handled: list[tuple[list[str], Any]]

    def _handle_errors(self, errors: list[GraphQLError], response_data: Any) -> None:
        self.handled.append(([e.message for e in errors], response_data))


def test_strawberry_still_says_which_requests_stream() -> None:
    plain = Streaming(strawberry.Schema(query=Query))  # WebSocket protocols only: none streams
    both = Streaming(
        strawberry.Schema(query=Query),
        subscription_protocols=[MULTIPART_SUBSCRIPTION_PROTOCOL, GRAPHQL_SSE_PROTOCOL],
    )
    for accept in ('multipart/mixed;subscriptionSpec="1.0"', "text/event-stream"):
        assert streams(both, {"Accept": accept}) and not streams(plain, {"accept": accept})
    assert not streams(both, {"accept": "application/json"}) and not streams(both, {})


async def test_strawberry_still_hands_errors_to_its_hook() -> None:
    view = Streaming(strawberry.Schema(query=Query))
    view.handled = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=view), base_url="http://test"
    ) as client:
        answer = await client.post("/", json={"query": "{ risky { ... on Thing { name } } }"})
    assert answer.json()["errors"][0]["message"] == "no thing"
    assert view.handled == [(["no thing"], answer.json())]
    handle_errors(view, [GraphQLError("by hand")], {"data": None})
    assert view.handled[-1] == (["by hand"], {"data": None})


async def test_strawberry_answers_an_operation_refused_before_it_runs_so() -> None:
    schema = strawberry.Schema(query=Query)
    for refused in ("{ thing {", "{ nosuch }"):
        answer = await schema.execute(refused)
        assert type(answer) is PreExecutionError and answer.errors, refused
    assert not isinstance(await schema.execute("{ thing { name } }"), PreExecutionError)


class Shouting(IdentityResponder):
    """A responder of its own coding, as graph/server/compression.py makes brotli's."""

    content_encoding = "shout"

    async def apply_compression(self, body: bytes, *, more_body: bool) -> bytes:
        return body.upper()


def answering(body: bytes, *, encoded: bool = False, chunks: int = 1) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"application/json")]
        if encoded:
            headers.append((b"content-encoding", b"identity"))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for at in range(chunks):
            more = at < chunks - 1
            await send({"type": "http.response.body", "body": body, "more_body": more})

    return app


async def through(responder: IdentityResponder) -> tuple[dict[str, str], bytes]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    await responder({"type": "http", "headers": []}, receive, send)
    head = {k.decode(): v.decode() for k, v in sent[0]["headers"]}
    return head, b"".join(m.get("body", b"") for m in sent[1:])


async def test_starlettes_responders_still_compress_as_told() -> None:
    body = b'{"data": "' + b"a" * 600 + b'"}'
    head, sent = await through(Shouting(answering(body), 100))
    assert sent == body.upper()
    assert (head["content-encoding"], head["vary"]) == ("shout", "Accept-Encoding")
    assert head["content-length"] == str(len(body))
    head, sent = await through(Shouting(answering(body, chunks=3), 100))  # each chunk in turn
    assert sent == body.upper() * 3 and "content-length" not in head
    head, sent = await through(Shouting(answering(b"{}"), 100))  # too small
    assert sent == b"{}" and "content-encoding" not in head
    already = Shouting(answering(body, encoded=True), 100)
    head, sent = await through(already)
    assert sent == body and head["content-encoding"] == "identity"
    assert already.content_encoding_set
    zipped = GZipResponder(answering(body), 100, compresslevel=6)
    head, sent = await through(zipped)
    assert head["content-encoding"] == "gzip" and gzip.decompress(sent) == body
    assert not zipped.content_encoding_set


class NotedCors(CORSMiddleware):
    """Notes which of Starlette's parts its `__call__` goes through."""

    noted: list[str]

    def preflight_response(self, request_headers: Headers) -> Response:
        self.noted.append(f"preflight {request_headers['origin']}")
        return super().preflight_response(request_headers)

    async def send(self, message: Message, send: Send, request_headers: Headers) -> None:
        self.noted.append(
            f"send {message['type']} {self.is_allowed_origin(request_headers['origin'])}"
        )
        await super().send(message, send, request_headers)


async def test_starlettes_cors_middleware_still_goes_through_its_parts() -> None:
    assert {name.lower() for name in SAFELISTED_HEADERS} >= {"accept", "content-type"}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await PlainTextResponse("ok")(scope, receive, send)

    cors = NotedCors(app, allow_origins=["https://app.test"], allow_methods=["POST"])
    cors.noted = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=cors), base_url="http://test"
    ) as client:
        preflight = await client.options(
            "/",
            headers={"origin": "https://app.test", "access-control-request-method": "POST"},
        )
        allowed = await client.post("/", headers={"origin": "https://app.test"})
        refused = await client.post("/", headers={"origin": "https://evil.test"})
    assert preflight.status_code == 200 and allowed.text == refused.text == "ok"
    assert allowed.headers["access-control-allow-origin"] == "https://app.test"
    assert "access-control-allow-origin" not in refused.headers
    assert cors.noted == [
        "preflight https://app.test",
        "send http.response.start True",
        "send http.response.body True",
        "send http.response.start False",
        "send http.response.body False",
    ]
