"""The schema: root fields, mutations, and the exported SDL."""

from __future__ import annotations

import asyncio
import typing
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import strawberry
from graphql import GraphQLError
from opentelemetry.trace import SpanKind
from strawberry.extensions import (
    DisableIntrospection,
    SchemaExtension,
)
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext, ExecutionResult, get_object_definition
from strawberry.types.graphql import OperationType

from connectors.errors import UpstreamError
from graph.config import FederationSettings, GraphQLSettings, LimitsSettings
from graph.context import Context
from graph.schema.documents import PreparedDocuments
from graph.schema.errors import CODE_BY_KIND, UserInputError, give_codes
from graph.schema.execution import use_lean_resolvers
from graph.schema.federation import mark_entities
from graph.schema.hooks import HookRunner
from graph.schema.ids import GlobalId, InvalidId
from graph.schema.limits import query_limits
from graph.schema.login import LoginAllPayload, LoginPayload, SourceLogin, login_on
from graph.schema.nodes import resolve_node
from graph.schema.pagination import Connection, sliced
from graph.schema.plans import PlanExecutor
from graph.schema.running import execute_plainly, plain_hooks
from graph.schema.tracing import upstream_report
from graph.schema.types.common import (
    Group,
    GroupSource,
    Info,
    Node,
    PersonRoot,
    page_window,
)
from graph.schema.types.person import Person, find_accounts
from graph.schema.types.source import Source
from graph.schema.types.sources import SOURCE_TYPES, SourcesMutation, SourcesQuery
from graph.schema.viewer import Viewer

__all__ = ["schema"]


@strawberry.type
class CoreQuery:
    @strawberry.field(description="Any object by its global id.", graphql_type=Node | None)
    async def node(self, info: Info, id: strawberry.ID) -> Node | PersonRoot | None:
        return await resolve_node(info, id)

    @strawberry.field(
        description="Objects by global id, in order; null where one failed.",
        graphql_type=list[Node | None],
    )
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | PersonRoot | None]:
        # Resolved together so the loaders batch them by type; graphql-core reports an exception
        # returned in a slot as an error at that index and leaves the others intact.
        found = await asyncio.gather(*(resolve_node(info, i) for i in ids), return_exceptions=True)
        return typing.cast(list[Node | PersonRoot | None], found)

    @strawberry.field
    def viewer(self) -> Viewer:
        return Viewer()

    @strawberry.field(
        description="Groups of people: CiviCRM's and Elgg's, or one source's. Without a source, "
        "a source where the caller has no credential is left out."
    )
    async def groups(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        source: Source | None = None,
        search: str | None = None,
    ) -> Connection[Group] | None:
        if source is not None and source.value not in GROUP_SOURCES:
            raise UserInputError(f"source: {source.name} has no groups", field="source")
        at = page_window(info, first, after)
        found: list[Group] = []
        for name, part in GROUP_SOURCES.items():
            if (source is None and part.listed(info.context)) or (source and source.value == name):
                found += await part.groups(info, search)
        return sliced(found, at, node=lambda group: group)

    @strawberry.field
    async def group(self, info: Info, id: strawberry.ID) -> Group | None:
        decoded = GlobalId.decode(id)
        if decoded.type_name not in {part.type_name for part in GROUP_SOURCES.values()}:
            raise InvalidId(f"{id!r} is not a group id")
        return typing.cast(Group, await resolve_node(info, id))

    @strawberry.field(
        description="One human across systems, by e-mail; null if no source the "
        "caller may search has an account for it.",
        graphql_type=Person | None,
    )
    async def person(self, info: Info, email: str) -> PersonRoot | None:
        found = PersonRoot.of(info, email)
        return found if await find_accounts(info, found) else None


@strawberry.type
class CoreMutation:
    @strawberry.mutation(
        description="Sign in on one source; returns the token to send as its header."
    )
    async def login(
        self, info: Info, source: Source, username: str, password: str
    ) -> LoginPayload | None:
        return await login_on(info, source, username, password)

    @strawberry.mutation(
        description="Sign in on every configured source with one username and password. With "
        "gateway sessions enabled, also returns one token (send it as `Authorization: Bearer`) "
        "that carries the source tokens, encrypted."
    )
    async def login_all(self, info: Info, username: str, password: str) -> LoginAllPayload:
        sources = [Source(name) for name in info.context.settings.sources.configured()]
        results = await asyncio.gather(
            *(login_on(info, source, username, password) for source in sources),
            return_exceptions=True,
        )
        logins = []
        tokens: dict[str, str] = {}
        for source, result in zip(sources, results, strict=True):
            if isinstance(result, LoginPayload):
                tokens[source.value] = result.token
                logins.append(SourceLogin(source=source, login=result, error=None, error_code=None))
            elif isinstance(result, UpstreamError):
                code = CODE_BY_KIND.get(result.kind, "INTERNAL")
                logins.append(
                    SourceLogin(source=source, login=None, error=result.message, error_code=code)
                )
            else:
                raise typing.cast(BaseException, result)
        sessions = info.context.gateway.sessions
        session = sessions.issue(tokens) if sessions is not None and tokens else None
        expires = None
        if session is not None and sessions is not None:
            expires = datetime.now(UTC) + timedelta(seconds=sessions.ttl_s)
        return LoginAllPayload(logins=logins, session_token=session, session_expires_at=expires)


GROUP_SOURCES: dict[str, GroupSource] = {
    name: types.groups for name, types in SOURCE_TYPES.items() if types.groups is not None
}

PUBLISHED_ORDER = {
    "Query": (
        "node", "nodes", "viewer", "discussions", "courses", "course", "contacts", "contact",
        "groups", "group", "person", "people", "articles", "eqsash_call", "discussion",
    ),
    "Mutation": (
        "login", "login_all", "create_contact", "update_contact", "add_contact_to_group",
        "join_group", "start_discussion", "reply",
    ),
}  # fmt: skip
"""The order the root fields were published in: the exported SDL keeps it (a client diffing
`schema.graphql` sees no change). Fields not listed follow, core first, then by source."""


T = typing.TypeVar("T")


def in_published_order(root: type[T]) -> type[T]:
    """A root type with its fields in the published order; the others keep theirs (the core's,
    then each source's), after them."""
    order = PUBLISHED_ORDER[root.__name__]
    fields = get_object_definition(root, strict=True).fields
    fields.sort(key=lambda f: order.index(f.python_name) if f.python_name in order else len(order))
    return root


@in_published_order
@strawberry.type
class Query(CoreQuery, SourcesQuery):
    """The core's root fields and the sources' (`graph/schema/types/sources.py`)."""


@in_published_order
@strawberry.type
class Mutation(CoreMutation, SourcesMutation):
    """The core's mutations and the sources' (`graph/schema/types/sources.py`)."""


class RecordOperation(SchemaExtension):
    """Note the operation's name and outcome in the context, for the access log and metrics;
    trace it when the deployment traces; report its upstream cost when the caller asks."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        tracer = context.gateway.tracer if isinstance(context, Context) else None
        if tracer is None:
            yield from self._record(context)
            return
        # The span is current while the operation runs, so upstream spans become its children.
        with tracer.start_as_current_span("graphql", kind=SpanKind.SERVER) as span:
            try:
                yield from self._record(context)
            finally:
                kind = self._operation_type()
                name = self.execution_context.operation_name
                span.update_name(f"{kind} {name}" if name else kind)
                span.set_attribute("graphql.operation.type", kind)
                if name:
                    span.set_attribute("graphql.operation.name", name)
                if isinstance(context, Context):
                    span.set_attribute("legacygraph.outcome", context.outcome)
                    span.set_attribute("legacygraph.upstream.requests", context.stats.total)
                    span.set_attribute("legacygraph.cache.hits", sum(context.stats.hits.values()))

    def _operation_type(self) -> str:
        try:
            return self.execution_context.operation_type.value
        except Exception:  # no document (a syntax error), or no operation by that name
            return "graphql"

    def _record(self, context: Any) -> Iterator[None]:
        try:
            yield  # the name is known once the document is parsed
        finally:  # also when a syntax error is raised through the hooks
            if isinstance(context, Context):
                context.operation_name = self.execution_context.operation_name
                result = self.execution_context.result
                if result is None or (result.errors and result.data is None):
                    context.outcome = "failed"
                elif result.errors:
                    context.outcome = "partial"

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        if isinstance(context, Context) and context.traced:
            return {"upstream": upstream_report(context.stats)}
        return {}


class GatewaySchema(strawberry.Schema):
    plainly = True
    """`execute` enters the extensions' hooks plainly where it can (`graph/schema/running.py`);
    off: Strawberry's own `execute`, always."""

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        extensions = self.get_extensions()
        hooks = None
        if self.plainly and not self.config.enable_experimental_incremental_execution:
            hooks = plain_hooks(extensions)
        if hooks is None:
            return await super().execute(
                query,
                variable_values,
                context_value,
                root_value,
                operation_name,
                allowed_operation_types,
                operation_extensions,
            )
        return await execute_plainly(
            self,
            extensions,
            hooks,
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed_operation_types,
            operation_extensions,
        )

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        give_codes(errors)

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return HookRunner(execution_context=execution_context, extensions=extensions)


class GatewaySubgraph(strawberry.federation.Schema):
    """The same schema as an Apollo Federation v2 subgraph (`graph/schema/federation.py`)."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        give_codes(errors)


def build_schema(
    limits: LimitsSettings,
    pages: GraphQLSettings | None = None,
    *,
    federation: FederationSettings | None = None,
    stock: bool = False,
) -> strawberry.Schema:
    """The schema, with the query limits of this deployment (and its page sizes, for cost);
    with `federation` enabled, as a Federation v2 subgraph linking its version. `stock`:
    executed as Strawberry does by default (graphql-core's executor, Strawberry's resolver
    wrappers), the oracle the gateway's executor is tested against."""
    pages = pages or GraphQLSettings()
    # Made once: the validation cache is keyed by the rules too, so a rule class made per
    # request would make every request a miss (and fill the cache with dead entries).
    rules = [
        query_limits(
            max_depth=limits.max_depth,
            max_aliases=limits.max_aliases,
            max_fields=limits.max_fields,
            max_cost=limits.max_cost,
            page_size=pages.max_page_size,
            default_page_size=pages.default_page_size,
        )
    ]
    extensions: list[Any] = [
        # Apps send the same few documents again and again: parse and validate each one once.
        lambda: PreparedDocuments(max_tokens=limits.max_tokens, rules=rules),
        RecordOperation,
    ]
    parts: dict[str, Any] = {
        "execution_context_class": None if stock else PlanExecutor,
        "query": Query,
        "mutation": Mutation,
        # Every type a global id names, so that the types reached only through an interface
        # are in the schema too.
        "types": [*(node for t in SOURCE_TYPES.values() for node in t.nodes), Person],
        "extensions": [*extensions, *([] if limits.introspection else [DisableIntrospection])],
    }
    built: strawberry.Schema
    if federation is not None and federation.enabled:
        mark_entities()
        # Strawberry types the version as a literal; the config checked it is one of them.
        version = typing.cast(Any, federation.version)
        built = GatewaySubgraph(federation_version=version, **parts)
    else:
        built = GatewaySchema(**parts)
    if not stock:
        use_lean_resolvers(built)
    return built


schema = build_schema(LimitsSettings())
"""The schema with default limits: what `export-schema` writes (limits do not change the SDL)."""


def export_sdl(*, federation: FederationSettings | None = None) -> str:
    """The SDL; with `federation` enabled, the subgraph's (then this process serves no plain
    schema)."""
    if federation is not None and federation.enabled:
        return build_schema(LimitsSettings(), federation=federation).as_str() + "\n"
    return schema.as_str() + "\n"
