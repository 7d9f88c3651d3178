"""The source registry: every source provides every part, and the shared layers name none."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
import typing
from pathlib import Path

import pytest
from strawberry.types import get_object_definition, has_object_definition

from graph.credentials import CALLER_HEADERS
from graph.schema.nodes import NODE_LOADERS
from graph.schema.root import GROUP_SOURCES, PUBLISHED_ORDER, Mutation, Query
from graph.schema.types.common import Account
from graph.schema.types.person import Person
from graph.schema.types.source import Source
from graph.schema.types.sources import (
    SOURCE_TYPES,
    SourcesMutation,
    SourcesPersonAccounts,
    SourcesPersonFields,
    SourcesQuery,
    SourcesViewer,
)
from graph.schema.viewer import Viewer
from graph.sources import SOURCES, SourceSpec
from graph.sources.sections import SourcesSettings

GRAPH = Path(__file__).parents[3] / "graph"
SCHEMA_SDL = (GRAPH.parent / "schema.graphql").read_text()
SHARED_LAYERS = [
    "cli.py",
    "config.py",
    "context.py",
    "server/health.py",
    "loaders.py",
    "schema/login.py",
    "schema/nodes.py",
    "people.py",
    "schema/types/common.py",
    "schema/types/person.py",
    "schema/viewer.py",
]
"""Modules that reach every source through the registry and may name none of them. (The
`Source` enum, `graph/schema/types/source.py`, and the list of each source's parts,
`graph/schema/types/sources.py`, name them all, as written classes.)"""
PARTS = {
    "Query": SourcesQuery,
    "Mutation": SourcesMutation,
    "Viewer": SourcesViewer,
    "PersonAccount": SourcesPersonAccounts,
    "PersonFields": SourcesPersonFields,
}
"""What a source's GraphQL module may give, by the end of its class's name, and the class of
`graph/schema/types/sources.py` that lists each source's."""


@pytest.mark.parametrize("spec", SOURCES.values(), ids=list(SOURCES))
def test_every_source_provides_each_part(spec: SourceSpec[object, object, object]) -> None:
    required = [f for f in dataclasses.fields(SourceSpec) if f.default is dataclasses.MISSING]
    assert len(required) >= 14
    for part in required:
        assert getattr(spec, part.name), f"{spec.name} gives no {part.name}"
    for part in ("credential", "connect", "loaders", "people", "over_simulator"):
        assert callable(getattr(spec, part)), (spec.name, part)
    for part in ("ping", "login", "account", "viewer"):
        assert inspect.iscoroutinefunction(getattr(spec, part)), (spec.name, part)
    assert re.fullmatch(r"X-[A-Za-z-]+", spec.header)


@pytest.mark.parametrize("name", SOURCES)
def test_every_source_has_its_types_and_their_way_back_from_an_id(name: str) -> None:
    types = SOURCE_TYPES[name]
    assert types is importlib.import_module(f"graph.schema.types.{name}").TYPES
    assert types.nodes, f"graph/schema/types/{name}.py: TYPES names no nodes"
    assert issubclass(types.account, Account) and types.account in types.nodes
    person = Person.__strawberry_definition__.fields
    assert [f for f in person if getattr(f.type, "of_type", None) is types.account], name
    for node, load in types.nodes.items():
        type_name = get_object_definition(node, strict=True).name
        assert type_name == node.__name__
        assert NODE_LOADERS[(name, type_name)] is load
        assert f"type {type_name} implements" in SCHEMA_SDL


def test_the_registry_is_the_list_of_sources() -> None:
    assert list(SOURCES) == [source.value for source in Source]
    # `SourcesSettings` is written out: a source added to the registry needs its line there too.
    configured = typing.get_type_hints(SourcesSettings)
    assert [f.name for f in dataclasses.fields(SourcesSettings)] == list(SOURCES)
    for name, spec in SOURCES.items():
        assert spec.name == name
        assert configured[name] == spec.settings | None, name
        assert SourcesSettings(**{name: spec.settings(url="http://x")}).configured() == {
            name: spec.settings(url="http://x")
        }
    assert dict(CALLER_HEADERS) == {name: spec.header for name, spec in SOURCES.items()}
    assert len(set(CALLER_HEADERS.values())) == len(SOURCES)


@pytest.mark.parametrize("module", SHARED_LAYERS)
def test_shared_layers_name_no_source(module: str) -> None:
    code = (GRAPH / module).read_text()
    code = re.sub(r'"""[\s\S]*?"""', "", code)  # docstrings and descriptions may say "Flarum"
    code = re.sub(r'description="[^"]*"', "", code)
    code = re.sub(r"#.*", "", code)
    named = [name for name in SOURCES if re.search(name, code, re.IGNORECASE)]
    assert named == [], f"graph/{module} names {named}: reach them through graph.sources"


@pytest.mark.parametrize("name", SOURCES)
def test_every_part_a_source_gives_is_listed_with_the_others(name: str) -> None:
    assert list(SOURCE_TYPES) == list(SOURCES), "graph/schema/types/sources.py: SOURCE_TYPES"
    types = importlib.import_module(f"graph.schema.types.{name}")
    given = [
        part
        for part in vars(types).values()
        if isinstance(part, type)
        and part.__module__ == types.__name__
        and has_object_definition(part)
        and part.__name__.endswith(tuple(PARTS))
    ]
    kinds = {kind for kind in PARTS for part in given if part.__name__.endswith(kind)}
    assert {"Viewer", "PersonAccount"} <= kinds, f"graph/schema/types/{name}.py"
    for part in given:
        listed = next(c for kind, c in PARTS.items() if part.__name__.endswith(kind))
        assert part in listed.__bases__, (
            f"graph/schema/types/sources.py: {listed.__name__} does not list {part.__name__}"
        )


def test_the_root_types_are_the_core_and_each_sources_parts_in_the_published_order() -> None:
    for root, listed in ((Query, SourcesQuery), (Mutation, SourcesMutation)):
        names = [f.python_name for f in root.__strawberry_definition__.fields]
        for part in listed.__bases__:
            assert {f.python_name for f in part.__strawberry_definition__.fields} <= set(names)
        published = PUBLISHED_ORDER[root.__name__]
        assert names[: len(published)] == list(published), "a published root field is gone"
        assert len(names) == len(set(names))


def test_the_viewer_has_each_sources_account_in_the_registrys_order_then_the_person() -> None:
    fields = Viewer.__strawberry_definition__.fields
    assert [f.name for f in fields] == [*SOURCES, "person"]
    for field in fields[: len(SOURCES)]:
        assert getattr(field.type, "of_type", None) is SOURCE_TYPES[field.name].account
        assert (field.description or "").startswith("Null when the request carries no ")


def test_groups_come_from_the_sources_that_have_them() -> None:
    assert {name for name, types in SOURCE_TYPES.items() if types.groups} == set(GROUP_SOURCES)
    for name, part in GROUP_SOURCES.items():
        assert part.type_name in {node.__name__ for node in SOURCE_TYPES[name].nodes}
