"""`[federation] version`: checked when the config is read, and the one the subgraph's `@link`
names (each export runs in a process of its own: the entities' keys stay out of this one)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from graph.config import ConfigError, load_settings

LINK = '@link(url: "https://specs.apollo.dev/federation/v{}", import: ["@key"])'


def config(tmp_path: Path, version: str) -> Path:
    path = tmp_path / "legacygraph.toml"
    path.write_text(f"[federation]\nenabled = true\nversion = {version}\n")
    return path


def export(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "graph.cli", "export-schema", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_default_is_2_9_and_a_supported_version_is_taken(tmp_path: Path) -> None:
    assert load_settings(None, {}).federation.version == "2.9"
    assert load_settings(config(tmp_path, '"2.3"')).federation.version == "2.3"
    environ = {"LEGACYGRAPH_FEDERATION__VERSION": "2.11"}
    assert load_settings(None, environ).federation.version == "2.11"


@pytest.mark.parametrize("version", ['"2.12"', '"v2.9"', '"1.0"', '""'])
def test_an_unsupported_version_is_refused_at_load(tmp_path: Path, version: str) -> None:
    path = config(tmp_path, version)
    with pytest.raises(ConfigError) as refused:
        load_settings(path)
    message = str(refused.value)
    assert message.startswith(f"{path}: federation.version: {version.strip(chr(34))!r} is not")
    assert "2.0, 2.1" in message and "2.11" in message and "\n" not in message


def test_a_version_that_is_not_a_string_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"federation\.version: must be a string, got 2\.9"):
        load_settings(config(tmp_path, "2.9"))
    with pytest.raises(ConfigError, match=r"federation\.version: '3' is not"):
        load_settings(None, {"LEGACYGRAPH_FEDERATION__VERSION": "3"})


def test_the_exported_sdl_links_the_configured_version(tmp_path: Path) -> None:
    output = tmp_path / "subgraph.graphql"
    done = export(
        "--federation", "--config", str(config(tmp_path, '"2.3"')), "--output", str(output)
    )
    assert done.returncode == 0, done.stderr
    assert output.read_text().startswith(f"schema {LINK.format('2.3')} {{\n")

    # The flag wins over the config (and needs no --federation).
    done = export("--federation-version", "2.5", "--output", str(output))
    assert done.returncode == 0, done.stderr
    assert output.read_text().startswith(f"schema {LINK.format('2.5')} {{\n")


def test_export_refuses_an_unsupported_version(tmp_path: Path) -> None:
    output = tmp_path / "subgraph.graphql"
    done = export(
        "--federation", "--config", str(config(tmp_path, '"2.12"')), "--output", str(output)
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"legacygraph: {tmp_path / 'legacygraph.toml'}: federation.version: '2.12' is not a "
        "Federation version the subgraph can link: one of 2.0, 2.1, 2.2, 2.3, 2.4, 2.5, 2.6, "
        "2.7, 2.8, 2.9, 2.10, 2.11"
    ]
    done = export("--federation-version", "2.12", "--output", str(output))
    assert done.returncode == 2 and "invalid choice: '2.12'" in done.stderr
    assert not output.exists()
