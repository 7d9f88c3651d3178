"""The two generated pages of the documentation site: the graph reference (from `schema.graphql`)
and the configuration reference (from the settings classes).

mkdocs runs it as a hook (`hooks:` in `mkdocs.yml`) at every build; `python
docs/gen_reference.py OUT_DIR` writes the same pages into a folder, to read them without building
the site.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import io
import re
import sys
import textwrap
import tokenize
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
    build_schema,
    get_named_type,
    print_type,
)
from graphql.language import print_ast
from graphql.utilities import ast_from_value

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
if str(ROOT) not in sys.path:  # mkdocs runs this from the checkout, not as an installed module
    sys.path.insert(0, str(ROOT))

__all__ = ["configuration_reference", "graph_reference", "on_files", "pages"]

GRAPH_PAGE = "reference/graph.md"
CONFIG_PAGE = "reference/configuration.md"
BUILT_IN = {"String", "Int", "Float", "Boolean", "ID"}


# The graph ---------------------------------------------------------------------------------


def graph_reference(sdl: str) -> str:
    """Every type of the exported schema: its description, fields, arguments and values."""
    schema = build_schema(sdl)
    types = {
        name: kind
        for name, kind in schema.type_map.items()
        if not name.startswith("__") and name not in BUILT_IN
    }
    roots = [t for t in (schema.query_type, schema.mutation_type) if t is not None]
    groups: list[tuple[str, type[GraphQLNamedType]]] = [
        ("Objects", GraphQLObjectType),
        ("Interfaces", GraphQLInterfaceType),
        ("Unions", GraphQLUnionType),
        ("Enums", GraphQLEnumType),
        ("Inputs", GraphQLInputObjectType),
        ("Scalars", GraphQLScalarType),
    ]
    out = [
        "# Graph reference",
        "",
        "Generated from `schema.graphql`, the exported SDL (`legacygraph export-schema`), each",
        "time the site is built. Root fields first, then every type by kind and name. The same",
        "descriptions show in the playground's docs pane.",
        "",
    ]
    for root in roots:
        out += _type_section(root, heading="##")
    for title, kind in groups:
        members = [t for name, t in sorted(types.items()) if isinstance(t, kind) and t not in roots]
        if not members:
            continue
        out += [f"## {title}", ""]
        for named in members:
            out += _type_section(named, heading="###")
    return "\n".join(out) + "\n"


def _anchor(name: str) -> str:
    return f"type-{name.lower()}"


def _type_link(kind: Any) -> str:
    """`[Discussion!]!` with the named type linked to its section (built-in scalars are not)."""
    text = str(kind)
    name = get_named_type(kind).name
    if name in BUILT_IN:
        return f"`{text}`"
    return f"[`{text}`](#{_anchor(name)})"


def _cell(text: str | None) -> str:
    """A description fit for one table cell."""
    return " ".join((text or "").split()).replace("|", "\\|")


def _type_section(named: GraphQLNamedType, *, heading: str) -> list[str]:
    out = [f"{heading} {named.name} {{ #{_anchor(named.name)} }}", ""]
    if named.description:
        out += [named.description.strip(), ""]
    if isinstance(named, GraphQLObjectType | GraphQLInterfaceType) and named.interfaces:
        links = ", ".join(f"[`{i.name}`](#{_anchor(i.name)})" for i in named.interfaces)
        out += [f"Implements {links}.", ""]
    if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
        out += ["| Field | Type | Description |", "|---|---|---|"]
        out += [_field_row(name, f) for name, f in named.fields.items()]
    elif isinstance(named, GraphQLInputObjectType):
        out += ["| Field | Type | Description |", "|---|---|---|"]
        out += [_input_row(name, f) for name, f in named.fields.items()]
    elif isinstance(named, GraphQLEnumType):
        out += ["| Value | Description |", "|---|---|"]
        for name, value in named.values.items():
            note = _cell(value.description)
            if value.deprecation_reason:
                note += f" *Deprecated: {_cell(value.deprecation_reason)}*"
            out.append(f"| `{name}` | {note} |")
    elif isinstance(named, GraphQLUnionType):
        links = ", ".join(f"[`{t.name}`](#{_anchor(t.name)})" for t in named.types)
        out.append(f"One of {links}.")
    elif isinstance(named, GraphQLScalarType):
        out += ["```graphql", print_type(named), "```"]
    return [*out, ""]


def _field_row(name: str, field: GraphQLField) -> str:
    note = _cell(field.description)
    if field.args:
        arguments = "; ".join(_argument(arg_name, a) for arg_name, a in field.args.items())
        note = f"{note}<br>Arguments: {arguments}" if note else f"Arguments: {arguments}"
    if field.deprecation_reason:
        note += f" *Deprecated: {_cell(field.deprecation_reason)}*"
    return f"| `{name}` | {_type_link(field.type)} | {note} |"


def _argument(name: str, argument: GraphQLArgument) -> str:
    text = f"`{name}`: {_type_link(argument.type)}{_default(argument)}"
    if argument.description:
        text += f" ({_cell(argument.description)})"
    return text


def _input_row(name: str, field: GraphQLInputField) -> str:
    return f"| `{name}` | {_type_link(field.type)}{_default(field)} | {_cell(field.description)} |"


def _default(argument: GraphQLArgument | GraphQLInputField) -> str:
    if argument.default_value is inspect.Parameter.empty or argument.ast_node is None:
        return ""
    node = argument.ast_node.default_value
    if node is None:
        value = ast_from_value(argument.default_value, argument.type)
        return f" = `{print_ast(value)}`" if value is not None else ""
    return f" = `{print_ast(node)}`"


# The configuration -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Key:
    """One configuration key, as an operator writes it."""

    name: str
    kind: str
    default: str
    note: str
    secret: bool


def configuration_reference() -> str:
    """Every section and key of the configuration file, from the settings classes."""
    from graph.config import Settings
    from graph.sources import SOURCES
    from graph.sources.settings import SourceSettings

    out = [
        "# Configuration reference",
        "",
        "Generated from the settings classes (`graph/config.py`, and each source's settings in",
        "`graph/sources/<name>/settings.py`, one field each of `SourcesSettings` in",
        "`graph/sources/sections.py`) each time the site is built. Give them in a TOML file",
        "(`legacygraph serve --config FILE`, or `LEGACYGRAPH_CONFIG=FILE`) or as environment",
        "variables `LEGACYGRAPH_<SECTION>__<KEY>` (`LEGACYGRAPH_SOURCES__FLARUM__URL`; a list as",
        "comma-separated text); [Configuration](../operations/configuration.md) shows a whole file",
        "and how mistakes are reported. *Secret* keys are never logged or shown. A key the code",
        "does not describe takes the comment of the page's sample.",
        "",
    ]
    sample = sample_comments((DOCS / "operations/configuration.md").read_text(encoding="utf-8"))
    any_source: dict[str, str] = {}  # each source's own `url` comment names that system
    for section, comments in sample.items():
        if section.startswith("sources."):
            any_source = {**{k: v for k, v in comments.items() if k != "url"}, **any_source}
    hints = typing.get_type_hints(Settings)
    for name, _kind, _default in _fields(Settings):
        if name == "sources":
            continue
        section = hints[name]
        out += [f"## `[{name}]`", ""]
        out += _class_note(section)
        out += _key_table(_keys(section, sample.get(name, {})))
    out += [
        "## `[sources.<name>]`",
        "",
        "A section per source the gateway serves; a source without a section is not served.",
        f"Sources: {', '.join(f'`{name}`' for name in SOURCES)}.",
        "",
        "### Every source",
        "",
        "Each `[sources.<name>]` section takes these keys besides its own.",
        "",
    ]
    out += _class_note(SourceSettings)
    common = _keys(SourceSettings, any_source)
    out += _key_table(common)
    common_names = {key.name for key in common}
    for name, spec in SOURCES.items():
        out += [f"### `[sources.{name}]`", ""]
        out += _class_note(spec.settings)
        keys = _keys(spec.settings, {**any_source, **sample.get(f"sources.{name}", {})})
        own = [key for key in keys if key.name not in common_names]
        changed = [key for key in keys if key.name in common_names and key not in common]
        out += (
            _key_table(own + changed) if own or changed else ["Only the keys of every source.", ""]
        )
    return "\n".join(out) + "\n"


def _fields(cls: type) -> Iterator[tuple[str, Any, Any]]:
    """(name, type, default) of a dataclass (or a msgspec Struct), in order."""
    if dataclasses.is_dataclass(cls):
        for f in dataclasses.fields(cls):
            if f.default is not dataclasses.MISSING:
                default: Any = f.default
            elif f.default_factory is not dataclasses.MISSING:
                default = f.default_factory()
            else:
                default = dataclasses.MISSING
            yield f.name, f.type, default
        return
    import msgspec

    for info in msgspec.structs.fields(cls):
        if info.default is not msgspec.NODEFAULT:
            default = info.default
        elif info.default_factory is not msgspec.NODEFAULT:
            default = info.default_factory()
        else:
            default = dataclasses.MISSING
        yield info.encode_name, info.type, default


def sample_comments(markdown: str) -> dict[str, dict[str, str]]:
    """The comment beside each key of a page's TOML samples (and the comment lines under it),
    by section and key."""
    found: dict[str, dict[str, str]] = {}
    section, key, in_toml = "", "", False
    for line in markdown.splitlines():
        if line.startswith("```"):
            in_toml = line.strip() == "```toml"
            section = key = ""
            continue
        if not in_toml:
            continue
        if header := re.match(r"\[([\w.]+)\]", line):
            section, key = header[1], ""
        elif item := re.match(r"(\w+)\s*=.*?\s{2,}#\s?(.*)$", line):
            key = item[1]
            comment = item[2].strip()
            found.setdefault(section, {})[key] = comment[:1].upper() + comment[1:]
        elif (more := re.match(r"\s+#\s?(.*)$", line)) and key:
            found[section][key] += " " + more[1].strip()
        else:
            key = ""
    return found


def _keys(cls: type, comments: dict[str, str] | None = None) -> list[Key]:
    notes = {**(comments or {}), **_attribute_notes(cls)}
    hints = typing.get_type_hints(cls)
    secret = _secret_fields(cls)
    return [
        Key(name, _kind(hints.get(name, kind)), _toml(default), notes.get(name, ""), name in secret)
        for name, kind, default in _fields(cls)
    ]


def _secret_fields(cls: type) -> set[str]:
    if dataclasses.is_dataclass(cls):
        return {f.name for f in dataclasses.fields(cls) if not f.repr}
    return set()


def _kind(kind: Any) -> str:
    origin = typing.get_origin(kind)
    if origin is tuple:
        (item, *_rest) = typing.get_args(kind)
        return f"list of {_kind(item)}"
    names = {str: "string", int: "integer", float: "number", bool: "boolean"}
    if kind in names:
        return names[kind]
    return getattr(kind, "__name__", str(kind))


def _toml(value: Any) -> str:
    if value is dataclasses.MISSING:
        return "(required)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`'.replace("|", "\\|")
    if isinstance(value, tuple | list):
        items = ", ".join(_toml(v).strip("`") for v in value)
        return f"`[{items}]`"
    return f"`{value!r}`"


def _class_note(cls: type) -> list[str]:
    """The class's own docstring (not the one dataclasses write)."""
    node = _class_node(cls)
    text = ast.get_docstring(node) if node is not None else None
    return [" ".join(text.split()), ""] if text else []


def _class_node(cls: type) -> ast.ClassDef | None:
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        return None
    tree = ast.parse(source)
    return next((n for n in tree.body if isinstance(n, ast.ClassDef)), None)


def _attribute_notes(cls: type) -> dict[str, str]:
    """Each field's attribute docstring (the string under it), else the comment on its line;
    a base class's note where the class has none of its own."""
    notes: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        node = _class_node(klass)
        if node is None:
            continue
        comments = _line_comments(inspect.getsource(klass))
        for index, statement in enumerate(node.body):
            if not (
                isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)
            ):
                continue
            following = node.body[index + 1] if index + 1 < len(node.body) else None
            if (
                isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                notes[statement.target.id] = " ".join(following.value.value.split())
            elif comment := comments.get(statement.lineno):
                notes[statement.target.id] = comment
    return notes


def _line_comments(source: str) -> dict[int, str]:
    found = {}
    readline: Callable[[], str] = io.StringIO(textwrap.dedent(source)).readline
    for token in tokenize.generate_tokens(readline):
        if token.type == tokenize.COMMENT:
            found[token.start[0]] = token.string.lstrip("#").strip()
    return found


def _key_table(keys: list[Key]) -> list[str]:
    if not keys:
        return []
    rows = ["| Key | Type | Default | Description |", "|---|---|---|---|"]
    for key in keys:
        note = _cell(key.note)
        if key.secret:
            note = f"*Secret.* {note}".strip()
        rows.append(f"| `{key.name}` | {key.kind} | {key.default} | {note} |")
    return [*rows, ""]


# Output ------------------------------------------------------------------------------------


def pages() -> dict[str, str]:
    """Each generated page's path in the site, and its text."""
    sdl = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    return {GRAPH_PAGE: graph_reference(sdl), CONFIG_PAGE: configuration_reference()}


def on_files(files: Any, config: Any) -> Any:
    """mkdocs's hook (`hooks:` in mkdocs.yml): the generated pages join the site's files."""
    from mkdocs.structure.files import File

    for path, text in pages().items():
        files.append(File.generated(config, path, content=text))
    return files


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python docs/gen_reference.py OUT_DIR")
    for path, text in pages().items():
        target = Path(sys.argv[1]) / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
