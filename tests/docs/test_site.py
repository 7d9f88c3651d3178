"""The documentation site builds in strict mode, its generated references cover the schema and
the settings, and every file it names is in the checkout."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import typing
from pathlib import Path
from types import ModuleType

from graphql import build_schema

from graph.config import Settings
from graph.sources import SOURCES
from tests.conftest import missing_tool

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
QUIET = {"NO_MKDOCS_2_WARNING": "1"}
"""mkdocs-material prints a notice about its future on every build; it is not a warning."""

REPOSITORY_FOLDERS = (
    ".ci/",
    "bench/",
    "connectors/",
    "docs/",
    "graph/",
    "integrations/",
    "playground/",
    "requirements/",
    "simulators/",
    "tests/",
)


def generator() -> ModuleType:
    """docs/gen_reference.py, as mkdocs loads it."""
    spec = importlib.util.spec_from_file_location("gen_reference", DOCS / "gen_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(sys.modules[spec.name])
    return sys.modules[spec.name]


def build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None:
        missing_tool("mkdocs-material is not installed (pip install -e '.[docs]')")
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
        cwd=ROOT,
        env={**os.environ, **QUIET},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_site_builds_in_strict_mode(tmp_path: Path) -> None:
    built = build(ROOT / "mkdocs.yml", tmp_path / "site")
    assert built.returncode == 0, built.stderr
    assert "WARNING" not in built.stderr, built.stderr
    for page in ("index.html", "reference/graph/index.html", "reference/configuration/index.html"):
        assert (tmp_path / "site" / page).is_file(), page
    graph = (tmp_path / "site" / "reference/graph/index.html").read_text(encoding="utf-8")
    assert 'id="type-discussion"' in graph


def test_a_broken_link_fails_the_build(tmp_path: Path) -> None:
    """The strict build is what catches broken links: a page pointing at a missing page and at
    a missing heading stops it, naming both."""
    docs = tmp_path / "docs"
    shutil.copytree(DOCS, docs)
    with (docs / "index.md").open("a", encoding="utf-8") as page:
        page.write("\n[gone](no-such-page.md) and [moved](systems/moodle.md#no-such-heading)\n")
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    config = config.replace("docs_dir: docs", f"docs_dir: {docs}")
    config = config.replace("- docs/gen_reference.py", f"- {DOCS / 'gen_reference.py'}")
    (tmp_path / "mkdocs.yml").write_text(config, encoding="utf-8")
    built = build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert built.returncode != 0
    assert "no-such-page.md" in built.stderr and "#no-such-heading" in built.stderr


def test_every_file_the_pages_name_is_in_the_checkout() -> None:
    missing = []
    for page in sorted(DOCS.rglob("*.md")):
        for name in re.findall(r"`([A-Za-z0-9_./-]+)`", page.read_text(encoding="utf-8")):
            if name.startswith(REPOSITORY_FOLDERS) and not (ROOT / name).exists():
                missing.append(f"{page.relative_to(ROOT)}: {name}")
    assert missing == []


def test_the_graph_reference_has_every_type_and_field() -> None:
    sdl = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    page = generator().graph_reference(sdl)
    schema = build_schema(sdl)
    for name, kind in schema.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Float", "Boolean", "ID"}:
            continue
        assert f" {name} {{ #type-{name.lower()} }}" in page, name
        for field in getattr(kind, "fields", {}):
            assert f"| `{field}` |" in page, f"{name}.{field}"
    assert "`first`: `Int`" in page  # arguments are listed with their types


def test_the_configuration_reference_has_every_key() -> None:
    page = generator().configuration_reference()
    hints = typing.get_type_hints(Settings)
    for section in dataclasses.fields(Settings):
        if section.name == "sources":
            continue
        assert f"## `[{section.name}]`" in page, section.name
        for key in dataclasses.fields(hints[section.name]):
            assert f"| `{key.name}` |" in page, f"{section.name}.{key.name}"
    for name, spec in SOURCES.items():
        assert f"### `[sources.{name}]`" in page, name
        for key in dataclasses.fields(spec.settings):
            assert f"| `{key.name}` |" in page, f"sources.{name}.{key.name}"
    # Secrets say so; defaults are shown as TOML.
    assert re.search(r"\| `secret` \| string \| `\"\"` \| \*Secret\.\*", page)
    assert "| `port` | integer | `8000` |" in page
    # A key the code does not describe takes the comment of the documented sample.
    assert "| `max_depth` | integer | `15` | Nested fields |" in page
