"""The schema: root fields, mutations, and the exported SDL."""

from __future__ import annotations

import asyncio
import typing
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from opentelemetry.trace import SpanKind
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.scalars import JSON
from strawberry.types import ExecutionContext

from connectors.elgg import GROUPS_AT_MOST
from connectors.errors import UpstreamError

from .config import GraphQLSettings, LimitsSettings
from .context import Context
from .errors import CODE_BY_KIND, UserInputError, give_codes
from .ids import GlobalId, InvalidId
from .limits import query_limits
from .login import LoginAllPayload, LoginPayload, SourceLogin, login_on
from .nodes import resolve_node
from .pagination import Connection, connection, sliced
from .selection import node_paths
from .sources import CIVICRM, ELGG, EQSASH, FLARUM, MOODLE
from .tracing import upstream_report
from .types.civicrm import CivicrmGroup, Contact, ContactInput, contact_fields
from .types.common import Group, Info, Node, Source, page_window
from .types.elgg import ElggGroup, ElggUser
from .types.eqsash import Article, EqsashUser, Section, articles_connection
from .types.flarum import Discussion, FlarumUser, Post, Tag
from .types.moodle import Assignment, Course, MoodleUser, courses_connection
from .types.person import Person
from .viewer import Viewer

__all__ = ["schema"]

# GraphQL fields below a Discussion, and the Flarum relationships that bring them in the same
# request. Flarum 1.7 allows no `firstPost.user`: the first posts' authors, where the query asks
# for them, are one more request for all of them (`Post.author`).
DISCUSSION_INCLUDES = {
    "author": ("user",),
    "tags": ("tags",),
    "firstPost": ("firstPost",),
}


def discussion_includes(info: Info, *, connection: bool) -> list[str]:
    paths = node_paths(info.selected_fields, connection=connection)
    return [
        include
        for path, includes in DISCUSSION_INCLUDES.items()
        if path in paths
        for include in includes
    ]


@strawberry.type
class Query:
    @strawberry.field(description="Any object by its global id.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id)

    @strawberry.field(description="Objects by global id, in order; null where one failed.")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        # Resolved together so the loaders batch them by type; graphql-core reports an exception
        # returned in a slot as an error at that index and leaves the others intact.
        found = await asyncio.gather(*(resolve_node(info, i) for i in ids), return_exceptions=True)
        return typing.cast(list[Node | None], found)

    @strawberry.field(graphql_type=Viewer)
    def viewer(self) -> object:
        return Viewer()

    @strawberry.field(description="Flarum discussions, most recently active first.")
    async def discussions(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        search: str | None = None,
        tag: Annotated[str | None, strawberry.argument(description="A tag's slug.")] = None,
    ) -> Connection[Discussion] | None:
        at = page_window(info, first, after)
        page = await info.context.site(FLARUM).discussions(
            offset=at.offset,
            limit=at.limit,
            search=search,
            tag=tag,
            include=discussion_includes(info, connection=True),
        )
        info.context.loaders(FLARUM).remember(page.related)
        return connection(page.items, at, has_next=page.has_next, node=Discussion.of)

    @strawberry.field(description="Moodle courses the caller can see, by name when searching.")
    async def courses(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        search: str | None = None,
    ) -> Connection[Course] | None:
        moodle = info.context.site(MOODLE)
        if search:
            _, courses = await moodle.search_courses(search)
        else:
            courses = await moodle.courses()
        info.context.loaders(MOODLE).remember_courses(courses)
        return courses_connection(info, courses, first, after)

    @strawberry.field
    async def course(self, info: Info, id: strawberry.ID) -> Course | None:
        upstream_id = GlobalId.expect_int(id, "moodle", "Course")
        return Course.of(await info.context.loaders(MOODLE).courses.load(upstream_id))

    @strawberry.field(description="CiviCRM contacts the caller may see, by name or group.")
    async def contacts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        search: str | None = None,
        group_id: strawberry.ID | None = None,
    ) -> Connection[Contact] | None:
        at = page_window(info, first, after)
        group = GlobalId.expect_int(group_id, "civicrm", "CivicrmGroup") if group_id else None
        found = await info.context.site(CIVICRM).contacts(
            search=search, group_id=group, limit=at.limit + 1, offset=at.offset
        )
        info.context.loaders(CIVICRM).remember_contacts(found)
        return connection(found[: at.limit], at, has_next=len(found) > at.limit, node=Contact.of)

    @strawberry.field
    async def contact(self, info: Info, id: strawberry.ID) -> Contact | None:
        contact_id = GlobalId.expect_int(id, "civicrm", "Contact")
        return Contact.of(await info.context.loaders(CIVICRM).contacts.load(contact_id))

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
        if source not in (None, Source.CIVICRM, Source.ELGG):
            raise UserInputError(f"source: {source.name} has no groups", field="source")
        context = info.context
        at = page_window(info, first, after)
        found: list[Group] = []
        configured = context.settings.sources.configured()
        if source is Source.CIVICRM or (source is None and context.has_identity("civicrm")):
            for group in await context.site(CIVICRM).groups(search=search):
                context.loaders(CIVICRM).groups.prime(group.id, group)
                found.append(CivicrmGroup.of(group))
        if source is Source.ELGG or (source is None and "elgg" in configured):
            needle = (search or "").lower()
            found += [
                ElggGroup.of(g)
                for g in await context.site(ELGG).groups(limit=GROUPS_AT_MOST)
                if needle in g.name.lower()
            ]
        return sliced(found, at, node=lambda group: group)

    @strawberry.field
    async def group(self, info: Info, id: strawberry.ID) -> Group | None:
        decoded = GlobalId.decode(id)
        if decoded.type_name not in ("CivicrmGroup", "ElggGroup"):
            raise InvalidId(f"{id!r} is not a group id")
        return typing.cast(Group, await resolve_node(info, id))

    @strawberry.field(
        description="One human across systems, by e-mail; null if no source the "
        "caller may search has an account for it."
    )
    async def person(self, info: Info, email: str) -> Person | None:
        found = Person.of(info, email)
        return found if await found.find_accounts(info) else None

    @strawberry.field(
        description="The people in the CRM (CiviCRM individuals with an e-mail), "
        "each with their accounts elsewhere."
    )
    async def people(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        search: str | None = None,
    ) -> Connection[Person] | None:
        at = page_window(info, first, after)
        found = await info.context.site(CIVICRM).contacts(
            search=search,
            contact_type="Individual",
            with_email=True,
            limit=at.limit + 1,
            offset=at.offset,
        )
        people = info.context.people_loaders
        for contact in found:
            if contact.email:
                people.of("civicrm").prime(people.key(contact.email), contact)
        return connection(
            [c for c in found[: at.limit] if c.email],
            at,
            has_next=len(found) > at.limit,
            node=lambda contact: Person.of(info, contact.email or ""),
        )

    @strawberry.field(description="Eqsash articles, newest first.")
    async def articles(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        search: str | None = None,
    ) -> Connection[Article] | None:
        return await articles_connection(info, first, after, search=search)

    @strawberry.field(
        description="Call an Eqsash method the graph does not type, as the caller. Only the "
        "`module.method` pairs the operator allowed (`[sources.eqsash] callable`) are accepted."
    )
    async def eqsash_call(
        self, info: Info, module: str, method: str, data: JSON | None = None
    ) -> JSON | None:
        settings = info.context.settings.sources.eqsash
        if settings is None or f"{module}.{method}" not in settings.callable:
            raise UserInputError(
                f"{module}.{method} is not on this gateway's list of callable Eqsash methods",
                field="method",
            )
        if data is not None and not isinstance(data, dict):
            raise UserInputError("data: must be a JSON object", field="data")
        return typing.cast(JSON, await info.context.site(EQSASH).call(module, method, data))

    @strawberry.field
    async def discussion(self, info: Info, id: strawberry.ID) -> Discussion | None:
        upstream_id = GlobalId.expect(id, "flarum", "Discussion")
        return Discussion.of(await info.context.loaders(FLARUM).discussions.load(upstream_id))


@strawberry.type
class Mutation:
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

    @strawberry.mutation(description="Create a CiviCRM contact as the caller.")
    async def create_contact(self, info: Info, input: ContactInput) -> Contact | None:
        fields = contact_fields(input, creating=True)
        # The connector reads the contact back and fails where it did not save what was sent.
        created = await info.context.site(CIVICRM).create_contact(fields)
        info.context.loaders(CIVICRM).remember_contacts([created])
        return Contact.of(created)

    @strawberry.mutation(description="Change the given fields of a CiviCRM contact, and no others.")
    async def update_contact(
        self, info: Info, id: strawberry.ID, input: ContactInput
    ) -> Contact | None:
        contact_id = GlobalId.expect_int(id, "civicrm", "Contact")
        fields = contact_fields(input, creating=False)
        updated = await info.context.site(CIVICRM).update_contact(contact_id, fields)
        info.context.loaders(CIVICRM).remember_contacts([updated])
        return Contact.of(updated)

    @strawberry.mutation(description="Add a contact to a CiviCRM group; returns the group.")
    async def add_contact_to_group(
        self, info: Info, contact_id: strawberry.ID, group_id: strawberry.ID
    ) -> CivicrmGroup | None:
        contact = GlobalId.expect_int(contact_id, "civicrm", "Contact")
        group = GlobalId.expect_int(group_id, "civicrm", "CivicrmGroup")
        await info.context.site(CIVICRM).add_to_group(group, [contact])
        return CivicrmGroup.of(await info.context.loaders(CIVICRM).groups.load(group))

    @strawberry.mutation(description="Join an Elgg group as the caller (open groups only).")
    async def join_group(self, info: Info, group_id: strawberry.ID) -> ElggGroup | None:
        guid = GlobalId.expect_int(group_id, "elgg", "ElggGroup")
        await info.context.site(ELGG).join(guid)
        return ElggGroup.of(await info.context.site(ELGG).group(guid))

    @strawberry.mutation(description="Start a Flarum discussion as the caller.")
    async def start_discussion(
        self, info: Info, title: str, content: str, tags: list[strawberry.ID] | None = None
    ) -> Discussion | None:
        tag_ids = [GlobalId.expect(tag, "flarum", "Tag") for tag in tags or ()]
        found = await info.context.site(FLARUM).start_discussion(title, content, tag_ids)
        info.context.loaders(FLARUM).remember(found.related)
        return Discussion.of(found.item)

    @strawberry.mutation(description="Reply to a Flarum discussion as the caller.")
    async def reply(self, info: Info, discussion_id: strawberry.ID, content: str) -> Post | None:
        upstream_id = GlobalId.expect(discussion_id, "flarum", "Discussion")
        found = await info.context.site(FLARUM).reply(upstream_id, content)
        info.context.loaders(FLARUM).remember(found.related)
        return Post.of(found.item)


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
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        give_codes(errors)


def build_schema(limits: LimitsSettings, pages: GraphQLSettings | None = None) -> GatewaySchema:
    """The schema, with the query limits of this deployment (and its page sizes, for cost)."""
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
        # (The caches are module-level in Strawberry, shared by the per-request instances.)
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: ParserCache(maxsize=256),
        lambda: AddValidationRules(rules),
        lambda: ValidationCache(maxsize=256),
        RecordOperation,
    ]
    return GatewaySchema(
        query=Query,
        mutation=Mutation,
        types=[
            FlarumUser,
            Discussion,
            Post,
            Tag,
            MoodleUser,
            Course,
            Assignment,
            Contact,
            CivicrmGroup,
            ElggUser,
            ElggGroup,
            EqsashUser,
            Article,
            Section,
            Person,
        ],
        extensions=[*extensions, *([] if limits.introspection else [DisableIntrospection])],
    )


schema = build_schema(LimitsSettings())
"""The schema with default limits: what `export-schema` writes (limits do not change the SDL)."""


def export_sdl() -> str:
    return schema.as_str() + "\n"
