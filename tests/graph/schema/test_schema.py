"""schema.graphql is the exported SDL of the code, and follows the design's conventions."""

from __future__ import annotations

from pathlib import Path

from graphql import GraphQLNonNull, build_schema

from graph.schema.root import export_sdl

SCHEMA_FILE = Path(__file__).resolve().parents[3] / "schema.graphql"


def test_schema_file_is_in_sync_with_the_code() -> None:
    assert SCHEMA_FILE.read_text() == export_sdl(), "run `make schema` and commit schema.graphql"


def test_fields_that_call_upstream_are_nullable() -> None:
    schema = build_schema(export_sdl())
    query = schema.query_type
    assert query is not None
    for name, field in query.fields.items():
        if name not in ("viewer", "nodes"):
            assert not isinstance(field.type, GraphQLNonNull), name
    for type_name, field_name in [
        ("Discussion", "author"),
        ("Discussion", "tags"),
        ("Discussion", "posts"),
        ("Post", "author"),
    ]:
        assert not isinstance(schema.get_type(type_name).fields[field_name].type, GraphQLNonNull)  # type: ignore[union-attr]


def test_every_object_type_with_an_id_is_a_node() -> None:
    schema = build_schema(export_sdl())
    node = schema.get_type("Node")
    for type_ in schema.type_map.values():
        fields = getattr(type_, "fields", {})
        if "id" in fields and hasattr(type_, "interfaces") and not type_.name.startswith("__"):
            assert node in type_.interfaces or type_.name == "Node", type_.name
