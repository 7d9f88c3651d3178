"""What the gateway uses of its libraries beyond their public APIs, in one place.

Strawberry, graphql-core, aiodataloader, Starlette and the standard library leave a few things
the gateway needs without a public name: the graphql-core schema under a Strawberry schema, the
marker on Strawberry's attribute reader, how an `Info` is made, Strawberry's check of a batch,
its hook for errors, its look for a streaming transport, its extensions' runner and the context
managers of its stages, its result of a refused operation; graphql-core's token-limit error;
aiodataloader's queue and what its `DataLoader.__init__` sets; Starlette's compressing
responders and the parts of its CORS middleware; contextlib's context manager of a generator.
Each is reached here and nowhere else, and `tests/graph/test_internals.py` checks that each is
still there and still behaves, so that an upgrade that moves one fails there first, naming what
moved. The versions these were written
against are the lock's (requirements/*.txt: Strawberry 0.341, graphql-core 3.3, aiodataloader
0.4, Starlette 1.10).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable, Generator, Mapping, MutableMapping
from contextlib import AbstractContextManager
from functools import partial
from typing import Any

import strawberry
from aiodataloader import DataLoader, dispatch_queue
from aiodataloader import Loader as _Queued
from graphql import GraphQLError, GraphQLField, GraphQLResolveInfo, GraphQLSchema
from starlette.middleware.cors import SAFELISTED_HEADERS, CORSMiddleware
from starlette.middleware.gzip import GZipResponder, IdentityResponder
from strawberry.extensions.context import (
    ExecutingContextManager,
    ExtensionContextManagerBase,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
    WrappedHook,
)
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.federation.schema_directives import Key
from strawberry.federation.types import FieldSet
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext, validate_document
from strawberry.types import get_object_definition
from strawberry.types.execution import PreExecutionError
from strawberry.types.field import StrawberryField
from strawberry.types.info import Info

__all__ = [
    "SAFELISTED_HEADERS",
    "BatchCheck",
    "CORSMiddleware",
    "ExecutingContextManager",
    "ExtensionContextManagerBase",
    "GZipResponder",
    "IdentityResponder",
    "OperationContextManager",
    "ParsingContextManager",
    "PreExecutionError",
    "SchemaExtensionsRunner",
    "StrawberryExecutionContext",
    "ValidationContextManager",
    "WrappedHook",
    "dispatch",
    "enqueue",
    "entered_by",
    "give_key",
    "graphql_schema",
    "handle_errors",
    "has_key",
    "info_of",
    "reads_attribute",
    "set_up_loader",
    "streams",
    "token_limit",
    "validate_document",
]

# Strawberry's schema extension runner and the context managers of its four stages
# (`strawberry.extensions.runner` and `strawberry.extensions.context`, modules with no
# `__all__`, in no documentation): `graph/schema/hooks.py` subclasses them to look each
# extension's hooks up once per class. What it relies on of them (`get_hook`, `HOOK_NAME`,
# `default_hook`, `WrappedHook`'s fields, the runner's stage methods) is checked by
# `tests/graph/test_internals.py`.

# Starlette's responders under its `GZipMiddleware` (`starlette.middleware.gzip`, no `__all__`,
# documented only as the middleware): `graph/server/compression.py` answers in gzip with
# `GZipResponder(app, minimum_size, compresslevel=...)` and in brotli with a subclass of
# `IdentityResponder` that sets `content_encoding` and overrides `apply_compression(body,
# more_body=...)`, and reads `content_encoding_set` (the app's answer was encoded already).

# Starlette's `CORSMiddleware` is documented by its options only: `graph/server/cors.py`
# overrides its `preflight_response(request_headers)` and `send(message, send,
# request_headers)`, calls its `is_allowed_origin(origin)`, and reads `SAFELISTED_HEADERS`, the
# request headers it always allows.

# `PreExecutionError`: the result Strawberry's `Schema.execute` answers with when an operation is
# refused before it runs (no query, a syntax or validation error, an operation type not
# allowed), which its transports tell from an executed result; `strawberry.types.execution`
# lists it in no `__all__`. `graph/schema/running.py` answers with it where Strawberry does.

StrawberryExecutionContext = StrawberryGraphQLCoreExecutionContext
"""Strawberry's graphql-core execution context (it gives resolvers Strawberry's `info`), which
`graph/schema/execution.py` extends; Strawberry exports it from no public module."""

TOO_MANY_TOKENS = re.compile(r"^Syntax Error: Document contains more than (\d+) tokens")
"""graphql-core's words when a document passes the parser's `max_tokens` (the error carries no
other mark of it)."""


def graphql_schema(schema: strawberry.Schema) -> GraphQLSchema:
    """The graphql-core schema a Strawberry schema built (Strawberry keeps it as `_schema`)."""
    built: GraphQLSchema = schema._schema
    return built


def reads_attribute(field: GraphQLField) -> bool:
    """Whether Strawberry resolves `field` by reading an attribute (no resolver of its own, no
    extension, no exception handler): Strawberry marks that resolver `_is_default`."""
    return bool(getattr(field.resolve, "_is_default", False))


def info_of(
    info_class: type[Info[Any, Any]], raw: GraphQLResolveInfo, field: StrawberryField
) -> Info[Any, Any]:
    """The Strawberry `Info` a resolver of `field` receives (its fields are named `_raw_info`
    and `_field`)."""
    return info_class(_raw_info=raw, _field=field)


def token_limit(error: GraphQLError) -> int | None:
    """The limit a document passed, when `error` is graphql-core's refusal of a document with
    more tokens than `max_tokens`; None for any other error."""
    if error.original_error is not None:
        return None
    found = TOO_MANY_TOKENS.search(error.message)
    return int(found[1]) if found else None


def has_key(cls: type) -> bool:
    """Whether the Strawberry type `cls` already carries a federation `@key`."""
    definition = get_object_definition(cls, strict=True)
    return any(isinstance(directive, Key) for directive in definition.directives or ())


def give_key(cls: type, fields: str) -> None:
    """Give the Strawberry type `cls` the federation directive `@key(fields: ...)` after it was
    made (Strawberry takes keys only where a type is declared, and prints them from its
    definition's `directives`)."""
    definition = get_object_definition(cls, strict=True)
    definition.directives = [*(definition.directives or ()), Key(fields=FieldSet(fields))]


class BatchCheck:
    """Checks a JSON array of operations with `check_batch_request`, in place of Strawberry's
    own check (`BaseView._validate_batch_request`, which `parse_http_body` calls with the array
    before reading its items, and which reads the schema's `batching_config`)."""

    def check_batch_request(self, items: list[Any]) -> None:
        raise NotImplementedError

    def _validate_batch_request(self, request_data: list[Any], protocol: Any) -> None:
        self.check_batch_request(request_data)


def enqueue(loader: DataLoader[Any, Any], key: Any, future: asyncio.Future[Any]) -> bool:
    """Queue `key` for `loader`'s next batch, as `DataLoader.do_resolve_reject` does, without
    scheduling the batch; True when it is the first key of that batch (the caller schedules
    `dispatch`)."""
    queue: list[Any] = loader._queue
    queue.append(_Queued(key=key, future=future))
    return len(queue) == 1


def dispatch(loader: DataLoader[Any, Any]) -> None:
    """Send `loader`'s queued keys as one batch (aiodataloader's `dispatch_queue`)."""
    dispatch_queue(loader)


def entered_by(
    hook: Callable[..., Generator[Any, Any, Any]], owner: Any
) -> Callable[[], AbstractContextManager[Any]]:
    """What enters the generator method `hook` of `owner` as a context manager: what
    `contextlib.contextmanager(hook)(owner)` makes, with neither the wrapper `contextmanager`
    makes of each function (and `functools.wraps`) nor its call each time (about 9,000
    instructions of a Q2 query through Strawberry's runner). contextlib names the class it
    makes `_GeneratorContextManager`, taking the function, its arguments and keywords."""
    return partial(contextlib._GeneratorContextManager, hook, (owner,), {})


def streams(view: Any, headers: Mapping[str, str]) -> bool:
    """Whether Strawberry's HTTP `view` would answer a request with these headers through a
    streaming transport (multipart, server-sent events): `BaseView`'s
    `_get_stream_transport_from_headers`."""
    return view._get_stream_transport_from_headers(headers) is not None


def handle_errors(view: Any, errors: list[GraphQLError], response_data: Any) -> None:
    """Strawberry's hook on an answer with errors (`AsyncBaseHTTPView._handle_errors`, a no-op
    that integrations such as Sentry's override), called where Strawberry's `run` calls it."""
    view._handle_errors(errors, response_data)


def set_up_loader(
    loader: DataLoader[Any, Any],
    batch_load_fn: Any,
    cache_map: MutableMapping[Any, asyncio.Future[Any]],
    get_cache_key: Callable[[Any], Any],
) -> None:
    """Set `loader` up as `DataLoader.__init__(loader, batch_load_fn, cache_map=cache_map,
    get_cache_key=get_cache_key)` does, less its check that `batch_load_fn` is a coroutine
    function (inspect's, most of the cost of making a loader, and a request makes every
    loader of each source it touches): the event loop, the function, the key, and the cache
    and queue aiodataloader keeps as `_cache` and `_queue`."""
    loader.loop = asyncio.get_event_loop()
    loader.batch_load_fn = batch_load_fn
    loader.get_cache_key = get_cache_key
    loader._cache = cache_map
    loader._queue = []
