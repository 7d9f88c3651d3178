"""Every distribution the code imports is declared, and the locks pin what is declared."""

from __future__ import annotations

import ast
import importlib.metadata
import pathlib
import re
import sys
import tomllib

ROOT = pathlib.Path(__file__).parent.parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
OWN = {"connectors", "graph", "simulators", "playground", "tests", "bench"}


def declared(*extras: str) -> set[str]:
    lines = list(PROJECT["dependencies"])
    for extra in extras:
        lines += PROJECT["optional-dependencies"][extra]
    return {normal(re.split(r"[\s<>=!~;\[]", line, maxsplit=1)[0]) for line in lines}


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def imported(*folders: str) -> dict[str, set[str]]:
    """Each top-level module imported from outside the project and the standard library, with
    the files that import it."""
    found: dict[str, set[str]] = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if {"recordings", "node_modules"} & set(path.relative_to(ROOT).parts):
                continue  # scripts run against a real site, with what that setup installs
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top in sys.stdlib_module_names or top in OWN:
                        continue
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def undeclared(modules: dict[str, set[str]], allowed: set[str]) -> dict[str, set[str]]:
    distributions = importlib.metadata.packages_distributions()
    return {
        module: files
        for module, files in modules.items()
        if not {normal(d) for d in distributions.get(module, [module])} & allowed
    }


def test_the_code_imports_only_declared_distributions() -> None:
    # The SDK and the exporter are imported only when tracing is configured (the `otel` extra).
    assert undeclared(imported("connectors", "graph", "simulators"), declared("otel")) == {}


def test_the_tests_import_only_declared_distributions() -> None:
    assert undeclared(imported("tests", "bench"), declared("otel", "test")) == {}


def pins(lock: str) -> dict[str, str]:
    text = (ROOT / "requirements" / lock).read_text()
    return {normal(n): v for n, v in re.findall(r"^([A-Za-z0-9._-]+)==(\S+)", text, re.M)}


def test_the_locks_pin_every_declared_distribution_alike() -> None:
    demo, test = pins("demo.txt"), pins("test.txt")
    assert declared() - {"uvloop"} <= demo.keys() and "uvloop" in demo
    assert declared("otel", "test") - {"legacygraph"} <= test.keys()
    assert {name: test[name] for name in demo} == demo
