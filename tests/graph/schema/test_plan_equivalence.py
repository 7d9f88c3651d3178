"""The gateway's executor answers exactly what graphql-core's own executor answers.

graphql-core is the oracle. Each query runs twice on the same data (every simulator, signed in
as one user, the response cache shared by both runs): once through the gateway's schema as it
serves (`GatewayExecutor`, lean resolvers), once through the same schema built `stock`
(graphql-core's `ExecutionContext`, Strawberry's resolver wrappers). The answers must be equal
byte for byte: the same `data` in the same key order, the same errors (message, path,
locations, extensions) in the same order.

The queries: every playground example, every read recorded through the gateway on a real site
(Moodle 4.5.6 and Elgg 5.1.11, over that site's recorded answers), and queries generated over
`schema.graphql` (hypothesis-graphql: every root field, arguments, inline fragments on interfaces
and unions), each then dressed up at random with what hypothesis-graphql does not write itself:
arguments passed as variables, aliases, named fragments, `@skip`/`@include` with literals and
variables.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
import strawberry
from graphql import (
    ArgumentNode,
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    InlineFragmentNode,
    NamedTypeNode,
    NameNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableDefinitionNode,
    VariableNode,
    get_named_type,
    parse,
    parse_type,
    print_ast,
)
from graphql.utilities import value_from_ast_untyped
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes, queries

from graph.config import GraphQLSettings, LimitsSettings, Settings
from graph.context import Context
from graph.credentials import Credentials
from graph.gateway import Gateway
from graph.internals import graphql_schema
from graph.schema.root import build_schema
from graph.sources.civicrm.settings import CivicrmSettings
from graph.sources.elgg.settings import ElggSettings
from graph.sources.eqsash.settings import EqsashSettings
from graph.sources.flarum.settings import FlarumSettings
from graph.sources.moodle.settings import MoodleSettings
from graph.sources.sections import SourcesSettings
from simulators.civicrm import SITE_KEY as CIVICRM_SITE_KEY
from simulators.civicrm.store import api_key_of
from simulators.elgg import API_KEY as ELGG_API_KEY
from simulators.elgg import SECRET as ELGG_SECRET
from simulators.eqsash import API_KEY as EQSASH_API_KEY
from tests.conftest import Simulator
from tests.realworld import RecordedMoodle, corpus
from tests.recorded_elgg import RecordedElgg, graph_cases, token_of

ROOT = Path(__file__).parents[3]
SCHEMA = (ROOT / "schema.graphql").read_text()
EXAMPLES = sorted((ROOT / "playground" / "examples").glob("*.graphql"))
SCALARS = {
    "DateTime": st.just("2026-01-01T00:00:00+00:00").map(nodes.String),
    "JSON": st.just("{}").map(nodes.String),
}
GENERATED = 150
"""Generated queries per run (each run twice, once per executor)."""
USER = "ada.costa"
"""The forum administrator, a Moodle site administrator and CiviCRM staff: the most to see."""


@dataclass
class Pair:
    """The gateway's schema and the oracle, over one open gateway and one caller."""

    loop: asyncio.AbstractEventLoop
    gateway: Gateway
    credentials: Credentials
    served: strawberry.Schema
    oracle: strawberry.Schema
    ran: int = 0

    def answers(self, query: str, variables: dict[str, Any] | None = None) -> tuple[bytes, bytes]:
        """The gateway's answer and the oracle's, as JSON. The query runs once before, its
        answer unused: the first run fills the response cache and learns tokens, and its
        upstream calls take their own time, which orders errors of concurrent fields
        differently from a run that finds everything cached, whichever executor runs it."""

        async def run(schema: strawberry.Schema) -> bytes:
            context = Context(self.gateway, self.credentials)
            result = await schema.execute(query, variables, context_value=context)
            errors = [error.formatted for error in result.errors or ()]
            return msgspec.json.encode({"data": result.data, "errors": errors})

        self.ran += 1
        self.loop.run_until_complete(run(self.oracle))
        return self.loop.run_until_complete(run(self.served)), self.loop.run_until_complete(
            run(self.oracle)
        )


def source_settings(sims: dict[str, Simulator]) -> Settings:
    return Settings(
        graphql=GraphQLSettings(),
        sources=SourcesSettings(
            flarum=FlarumSettings(url=sims["flarum"].url),
            moodle=MoodleSettings(url=sims["moodle"].url),
            civicrm=CivicrmSettings(url=sims["civicrm"].url, site_key=CIVICRM_SITE_KEY),
            elgg=ElggSettings(url=sims["elgg"].url, api_key=ELGG_API_KEY, secret=ELGG_SECRET),
            eqsash=EqsashSettings(url=sims["eqsash"].url, api_key=EQSASH_API_KEY),
        ),
    )


@pytest.fixture(scope="module")
def pair(
    flarum: Simulator, moodle: Simulator, civicrm: Simulator, elgg: Simulator, eqsash: Simulator
) -> Iterator[Pair]:
    sims = {"flarum": flarum, "moodle": moodle, "civicrm": civicrm, "elgg": elgg, "eqsash": eqsash}
    settings_ = source_settings(sims)
    served = build_schema(settings_.limits, settings_.graphql)
    oracle = build_schema(settings_.limits, settings_.graphql, stock=True)
    loop = asyncio.new_event_loop()
    opened = Gateway.open(settings_, None, None)
    gateway = loop.run_until_complete(opened.__aenter__())
    try:
        signed_in = loop.run_until_complete(
            served.execute(
                'mutation($u: String!) { loginAll(username: $u, password: "demo-password")'
                " { logins { source login { token } } } }",
                {"u": USER},
                context_value=Context(gateway, Credentials()),
            )
        )
        assert signed_in.data is not None, signed_in.errors
        tokens = {
            entry["source"].lower(): entry["login"]["token"]
            for entry in signed_in.data["loginAll"]["logins"]
            if entry["login"]
        }
        tokens["civicrm"] = api_key_of(USER)
        assert sorted(tokens) == ["civicrm", "elgg", "eqsash", "flarum", "moodle"]
        yield Pair(loop, gateway, Credentials(tokens), served, oracle)
    finally:
        loop.run_until_complete(opened.__aexit__(None, None, None))
        loop.close()


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_playground_example_answers_alike(pair: Pair, example: Path) -> None:
    served, oracle = pair.answers(example.read_text())
    assert served == oracle
    assert b'"data":{' in served  # each example answers something here


class Dresser:
    """Rewrites a generated query with what hypothesis-graphql does not write itself."""

    def __init__(self, draw: st.DrawFn, schema: Any) -> None:
        self.draw = draw
        self.schema = schema
        self.variables: dict[str, Any] = {}
        self.definitions: list[VariableDefinitionNode] = []
        self.fragments: list[FragmentDefinitionNode] = []
        self.count = 0

    def name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def dress(self, document: DocumentNode) -> tuple[str, dict[str, Any]]:
        operation = document.definitions[0]
        assert isinstance(operation, OperationDefinitionNode)
        selection_set = self.selections(operation.selection_set, self.schema.query_type)
        if self.draw(st.booleans()):  # the whole root in a named fragment
            selection_set = self.spread(selection_set, "Query")
        named = bool(self.definitions) and self.draw(st.booleans())
        operation = replace(
            operation,
            selection_set=selection_set,
            variable_definitions=tuple(self.definitions),
            name=NameNode(value="Dressed") if named else operation.name,
        )
        dressed = replace(document, definitions=(operation, *self.fragments))
        return print_ast(dressed), self.variables

    def spread(self, selection_set: SelectionSetNode, type_name: str) -> SelectionSetNode:
        name = self.name("Part")
        self.fragments.append(
            FragmentDefinitionNode(
                name=NameNode(value=name),
                type_condition=NamedTypeNode(name=NameNode(value=type_name)),
                selection_set=selection_set,
                directives=(),
                variable_definitions=None,
            )
        )
        return SelectionSetNode(
            selections=(FragmentSpreadNode(name=NameNode(value=name), directives=()),)
        )

    def selections(self, selection_set: SelectionSetNode, parent: GraphQLNamedType) -> Any:
        dressed: list[Any] = []
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                dressed.append(self.field(selection, parent))
            elif isinstance(selection, InlineFragmentNode):
                assert selection.type_condition is not None
                kind = self.schema.type_map[selection.type_condition.name.value]
                inner = self.selections(selection.selection_set, kind)
                if self.draw(st.booleans()):
                    spread = self.spread(inner, kind.name).selections[0]
                    dressed.append(replace(spread, directives=self.directives()))
                else:
                    dressed.append(
                        replace(selection, selection_set=inner, directives=self.directives())
                    )
            else:
                dressed.append(selection)
        if self.draw(st.integers(0, 4)) == 0:  # the same fields again, under a type condition
            dressed.append(
                InlineFragmentNode(
                    type_condition=None,
                    directives=self.directives(),
                    selection_set=SelectionSetNode(selections=tuple(dressed)),
                )
            )
        return SelectionSetNode(selections=tuple(dressed))

    def field(self, node: FieldNode, parent: GraphQLNamedType) -> FieldNode:
        name = node.name.value
        if name == "__typename":
            return replace(node, directives=self.directives())
        assert isinstance(parent, GraphQLObjectType | GraphQLInterfaceType)
        definition = parent.fields[name]
        arguments = tuple(
            self.argument(argument, definition.args[argument.name.value])
            for argument in node.arguments or ()
        )
        alias = node.alias
        if alias is None and self.draw(st.integers(0, 3)) == 0:
            alias = NameNode(value=self.name("a"))
        selection_set = node.selection_set
        if selection_set is not None:
            selection_set = self.selections(selection_set, get_named_type(definition.type))
        return replace(
            node,
            arguments=arguments,
            alias=alias,
            directives=self.directives(),
            selection_set=selection_set,
        )

    def argument(self, node: ArgumentNode, definition: GraphQLArgument) -> ArgumentNode:
        if self.draw(st.booleans()):
            return node
        name = self.name("v")
        self.variables[name] = value_from_ast_untyped(node.value)
        self.definitions.append(
            VariableDefinitionNode(
                variable=VariableNode(name=NameNode(value=name)),
                type=parse_type(str(definition.type)),
                default_value=None,
                directives=(),
            )
        )
        return ArgumentNode(name=node.name, value=VariableNode(name=NameNode(value=name)))

    def directives(self) -> tuple[DirectiveNode, ...]:
        choice = self.draw(st.sampled_from(["none", "none", "none", "literal", "variable"]))
        if choice == "none":
            return ()
        directive = self.draw(st.sampled_from(["skip", "include"]))
        value: Any
        if choice == "literal":
            value = BooleanValueNode(value=self.draw(st.booleans()))
        else:
            name = self.name("flag")
            self.variables[name] = self.draw(st.booleans())
            self.definitions.append(
                VariableDefinitionNode(
                    variable=VariableNode(name=NameNode(value=name)),
                    type=parse_type("Boolean!"),
                    default_value=None,
                    directives=(),
                )
            )
            value = VariableNode(name=NameNode(value=name))
        return (
            DirectiveNode(
                name=NameNode(value=directive),
                arguments=(ArgumentNode(name=NameNode(value="if"), value=value),),
            ),
        )


@st.composite
def dressed_queries(draw: st.DrawFn, schema: Any) -> tuple[str, dict[str, Any]]:
    generated = draw(queries(SCHEMA, custom_scalars=SCALARS, allow_x00=False))
    return Dresser(draw, schema).dress(parse(generated))


@settings(
    max_examples=GENERATED,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(operation=dressed_queries(graphql_schema(build_schema(LimitsSettings()))))
def test_generated_queries_answer_alike(pair: Pair, operation: tuple[str, dict[str, Any]]) -> None:
    query, variables = operation
    served, oracle = pair.answers(query, variables)
    assert served.decode() == oracle.decode(), query


@dataclass(frozen=True)
class Recorded:
    """A query recorded through the gateway on a real site, with its site replayed."""

    case: str
    source: str
    site: str
    """The recorded site: a Moodle recording's file or folder, or `elgg`."""
    caller: str | None
    query: str
    variables: dict[str, Any]


def recorded_queries() -> list[Recorded]:
    """The read operations of the real-site corpora: Moodle 4.5.6 (issue 27's and `legacygraph
    record`'s) and Elgg 5.1.11. Mutations are left out: the replayed sites answer a write once."""
    found = []
    for site, name, key in (
        ("issue27.jsonl", "graph27.jsonl", "user"),
        ("record", "record/graph.jsonl", "as"),
    ):
        for line in (corpus("moodle-4.5.6") / name).read_text().splitlines():
            case = json.loads(line)
            found.append(
                Recorded(case["case"], "moodle", site, case[key], case["query"], case["variables"])
            )
    for case in graph_cases():
        if "query" not in case:  # a readiness probe, no operation
            continue
        user = case.get("as")
        found.append(
            Recorded(
                case["case"],
                "elgg",
                "elgg",
                token_of(user) if user else None,
                case["query"],
                case.get("variables") or {},
            )
        )
    return [
        each
        for each in found
        if all(
            op.operation != OperationType.MUTATION
            for op in parse(each.query).definitions
            if isinstance(op, OperationDefinitionNode)
        )
    ]


RECORDED = recorded_queries()
ELGG_SECRET_REPLAYED = "replay-secret-0123456789abcdef01234567"


def replayed_site(recorded: Recorded) -> tuple[Settings, Any]:
    if recorded.source == "moodle":
        moodle = MoodleSettings(url="http://moodle.test", cache_ttl_s=0)
        site: Any = (
            RecordedMoodle(corpus=corpus("moodle-4.5.6") / "record")
            if recorded.site == "record"
            else RecordedMoodle(recorded.site)
        )
        return Settings(sources=SourcesSettings(moodle=moodle)), site
    elgg = ElggSettings(
        url="http://elgg.test", api_key="a" * 40, secret=ELGG_SECRET_REPLAYED, cache_ttl_s=0
    )
    return Settings(sources=SourcesSettings(elgg=elgg)), RecordedElgg(ELGG_SECRET_REPLAYED)


@pytest.mark.parametrize(
    "recorded", RECORDED, ids=[f"{r.source}: {r.case} ({i})" for i, r in enumerate(RECORDED)]
)
def test_recorded_real_site_queries_answer_alike(recorded: Recorded) -> None:
    """Each read recorded on a real site, over that site's recorded answers (the `record`
    corpus over its own exchanges)."""
    settings_, site = replayed_site(recorded)
    served = build_schema(settings_.limits, settings_.graphql)
    oracle = build_schema(settings_.limits, settings_.graphql, stock=True)
    credentials = Credentials({recorded.source: recorded.caller} if recorded.caller else {})

    async def both() -> tuple[bytes, bytes]:
        transports = {recorded.source: httpx.MockTransport(site)}
        async with Gateway.open(settings_, None, transports) as gateway:
            pair = Pair(asyncio.get_running_loop(), gateway, credentials, served, oracle)
            answers = []
            for schema in (pair.oracle, pair.served, pair.oracle):
                context = Context(gateway, credentials)
                result = await schema.execute(
                    recorded.query, recorded.variables, context_value=context
                )
                errors = [error.formatted for error in result.errors or ()]
                answers.append(msgspec.json.encode({"data": result.data, "errors": errors}))
            return answers[1], answers[2]

    served_answer, oracle_answer = asyncio.run(both())
    assert served_answer == oracle_answer
    assert site.missing == [], "the gateway asked what the real site was not asked"


def test_the_recorded_queries_are_many() -> None:
    assert len(RECORDED) >= 20
    assert {r.source for r in RECORDED} == {"moodle", "elgg"}
