"""The examples of README.md and of the documentation site (`docs/**/*.md`), run against the demo
world, answer what the page shows.

Which blocks run: every ```sh block (fence at the start of a line) that calls the gateway, i.e.
holds both `curl` and `http://127.0.0.1:8000`. The others (`make demo`, installs, configs,
`legacygraph serve --config ...`) are not run. The runnable blocks of one page go, in its order,
through one bash session of their own (`set -u`, so a variable no earlier block of the page set
fails the block: each page stands alone), README.md first, then the pages by path, against
`legacygraph demo` (what `make demo` runs: the simulators and the gateway over them) on free
loopback ports: the pages' `http://127.0.0.1:8000` and the simulators' usual addresses
(`http://127.0.0.1:9101`...) are replaced by the addresses of this run. A block
must exit 0 with nothing on stderr.

Answers: a ```json block that follows a runnable block with only blank lines between is its
answer. What the block prints must parse as JSON and equal it (as values: whitespace and key order
do not matter), except that a bare `…` as the last item of a list means "these first items, and
maybe more": the printed list must start with the items shown. Objects are compared whole, so an
example asks only for the fields it shows.

Every ```graphql block parses and validates against the schema, and runs against the demo as
`ada.costa` (the session of `loginAll` and her CiviCRM api key) without errors; its answer is not
compared.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import parse, validate

from graph.internals import graphql_schema
from graph.schema.root import schema
from graph.sources import SOURCES
from simulators.civicrm.store import api_key_of
from simulators.world import DEMO_PASSWORD
from tests.conftest import free_port, wait_until_up

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").rglob("*.md"))]
"""README.md, then every page of the documentation site."""
GATEWAY = "http://127.0.0.1:8000"
MORE = object()
"""A bare `…` in an answer: the list goes on."""


@dataclass(frozen=True)
class Block:
    language: str
    line: int
    """The page's line of the opening fence."""
    end: int
    """The page's line of the closing fence."""
    text: str
    page: str = "README.md"
    """The page's path in the checkout."""

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def name(self) -> str:
        first = self.text.strip().splitlines()[0] if self.text.strip() else ""
        return f"{self.where} `{first}`"


def fenced_blocks(markdown: str, page: str = "README.md") -> list[Block]:
    blocks: list[Block] = []
    opened: tuple[str, int, list[str]] | None = None
    for number, line in enumerate(markdown.splitlines(), start=1):
        if opened is None:
            if line.startswith("```"):
                opened = (line[3:].strip(), number, [])
        elif line.rstrip() == "```":
            language, start, body = opened
            text = "".join(f"{b}\n" for b in body)
            blocks.append(Block(language, start, number, text, page))
            opened = None
        else:
            opened[2].append(line)
    assert opened is None, f"{page}:{opened[1]}: a fenced block is never closed"
    return blocks


def runnable(block: Block) -> bool:
    return block.language == "sh" and "curl" in block.text and GATEWAY in block.text


def examples(markdown: str, page: str = "README.md") -> list[tuple[Block, Block | None]]:
    """Each runnable block and its answer (the json block right after it, if any)."""
    lines = markdown.splitlines()
    blocks = fenced_blocks(markdown, page)
    found: list[tuple[Block, Block | None]] = []
    for index, block in enumerate(blocks):
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        if not runnable(block):
            continue
        answer = None
        if following is not None and following.language == "json":
            between = lines[block.end : following.line - 1]
            if not any(line.strip() for line in between):
                answer = following
        found.append((block, answer))
    return found


MARKDOWN = {str(page.relative_to(ROOT)): page.read_text(encoding="utf-8") for page in PAGES}
EXAMPLES = [found for page, text in MARKDOWN.items() for found in examples(text, page)]
GRAPHQL = [
    block
    for page, text in MARKDOWN.items()
    for block in fenced_blocks(text, page)
    if block.language == "graphql"
]


def shown(answer: str) -> Any:
    """The page's answer as a value; each bare `…` (outside strings) becomes `MORE`."""
    marker = '"\\u0000more"'
    text, in_string, escaped = [], False, False
    for char in answer:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "…":
            char = marker
        text.append(char)
    return _replace_marker(json.loads("".join(text)))


def _replace_marker(value: Any) -> Any:
    if value == "\u0000more":
        return MORE
    if isinstance(value, list):
        return [_replace_marker(item) for item in value]
    if isinstance(value, dict):
        return {key: _replace_marker(item) for key, item in value.items()}
    return value


def difference(expected: Any, actual: Any, path: str = "$") -> str | None:
    """Where `actual` differs from the page's `expected`, or None."""
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return f"{path}: the page shows a list, the demo answered {actual!r}"
        more = bool(expected) and expected[-1] is MORE
        items = expected[:-1] if more else expected
        if len(actual) < len(items) or (not more and len(actual) != len(items)):
            return f"{path}: the page shows {len(items)} item(s), the demo answered {len(actual)}"
        for index, item in enumerate(items):
            if found := difference(item, actual[index], f"{path}[{index}]"):
                return found
        return None
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{path}: the page shows an object, the demo answered {actual!r}"
        if set(expected) != set(actual):
            return f"{path}: the page shows the keys {sorted(expected)}, the demo {sorted(actual)}"
        for key, item in expected.items():
            if found := difference(item, actual[key], f"{path}.{key}"):
                return found
        return None
    if expected == actual and isinstance(expected, bool) == isinstance(actual, bool):
        return None
    return f"{path}: the page shows {expected!r}, the demo answered {actual!r}"


@dataclass(frozen=True)
class Demo:
    url: str
    addresses: dict[str, str]
    """The pages' address -> this run's: the gateway's and each simulator's."""

    def localise(self, text: str) -> str:
        for readme, here in self.addresses.items():
            text = text.replace(readme, here)
        return text


def clean_environment() -> dict[str, str]:
    """This environment without gateway settings, with the virtualenv's python3 first and no
    proxy for loopback."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("LEGACYGRAPH_") and key != "BASH_ENV"
    }
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}"
    environment["NO_PROXY"] = environment["no_proxy"] = "127.0.0.1,localhost"
    return environment


def announced(log: Path, process: subprocess.Popen[str]) -> dict[str, str]:
    """Each simulator's address, as the demo prints it once it listens."""
    deadline = time.monotonic() + 30
    while True:
        printed = dict(re.findall(r"^legacygraph: (\w+) at (\S+)$", log.read_text(), re.M))
        if set(SOURCES) <= set(printed):
            return printed
        assert process.poll() is None, f"the demo stopped:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"the demo named no simulators:\n{log.read_text()}"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """`legacygraph demo` with the gateway and every simulator on free loopback ports."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("readme") / "gateway.log"
    command = [sys.executable, "-m", "graph.cli", "demo", "--host", "127.0.0.1"]
    command += ["--port", str(port), *(f"--simulator-port={name}=0" for name in SOURCES)]
    with log.open("w") as output:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=clean_environment(),
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        try:
            wait_until_up(url, process)
        except AssertionError as error:
            raise AssertionError(f"{error}\n{log.read_text()}") from None
        addresses = {GATEWAY: url}
        printed = announced(log, process)
        for name, spec in SOURCES.items():
            addresses[f"http://127.0.0.1:{spec.demo_port}"] = printed[name]
        yield Demo(url, addresses)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        print(log.read_text())


@dataclass(frozen=True)
class Ran:
    started: bool
    status: int | None
    """None: the shell stopped (in this block, if it started)."""
    stdout: str
    stderr: str


@pytest.fixture(scope="module")
def ran(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Ran]:
    """Every runnable block, each page's in a bash session of its own, by page and line."""
    directory = tmp_path_factory.mktemp("readme-run")
    lines = []
    page = None
    for index, (block, _) in enumerate(EXAMPLES):
        if block.page != page:
            lines += [*([")"] if page is not None else []), "(", "set -u"]
            page = block.page
        lines += [
            "{",
            demo.localise(block.text).rstrip("\n"),
            f'}} >"{directory}/{index}.out" 2>"{directory}/{index}.err"',
            f'echo $? >"{directory}/{index}.status"',
        ]
    lines += [")"] if page is not None else []
    script = directory / "examples.sh"
    script.write_text("\n".join(lines) + "\n")
    bash = shutil.which("bash")
    assert bash is not None, "the examples run in bash"
    subprocess.run(
        [bash, str(script)], cwd=directory, env=clean_environment(), timeout=300, check=False
    )
    results = {}
    for index, (block, _) in enumerate(EXAMPLES):
        status, stdout, stderr = (directory / f"{index}.{end}" for end in ("status", "out", "err"))
        results[block.where] = Ran(
            stderr.exists(),
            int(status.read_text()) if status.exists() else None,
            stdout.read_text() if stdout.exists() else "",
            stderr.read_text() if stderr.exists() else "",
        )
    return results


def test_readme_has_runnable_examples_with_answers() -> None:
    assert any(block.page == "README.md" and answer is not None for block, answer in EXAMPLES)
    assert len(EXAMPLES) >= 5
    assert sum(answer is not None for _, answer in EXAMPLES) >= 4


@pytest.mark.parametrize(("block", "answer"), EXAMPLES, ids=[block.where for block, _ in EXAMPLES])
def test_example_answers_as_shown(block: Block, answer: Block | None, ran: dict[str, Ran]) -> None:
    result = ran[block.where]
    assert result.started, f"{block.name} did not run: an earlier block stopped the shell"
    assert result.status is not None, f"{block.name} stopped the shell:\n{result.stderr}"
    assert result.status == 0 and not result.stderr, (
        f"{block.name} failed (exit {result.status}):\n{result.stderr}{result.stdout}"
    )
    if answer is None:
        return
    try:
        printed = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"{block.name} printed no JSON: {result.stdout!r}")
    expected = shown(answer.text)
    found = difference(expected, printed)
    assert found is None, f"{block.name} answers differently than {answer.where}: " + (
        f"{found}\nthe whole answer: {json.dumps(printed)}"
    )


def test_the_civicrm_key_shown_is_the_demo_users() -> None:
    keys = {
        key for text in MARKDOWN.values() for key in re.findall(r"^CIVICRM_KEY=(\w+)", text, re.M)
    }
    assert keys == {api_key_of("ada.costa")}


@pytest.fixture(scope="module")
def ada(demo: Demo) -> dict[str, str]:
    """`ada.costa`'s headers: the session of `loginAll` and her CiviCRM api key."""
    response = httpx.post(
        f"{demo.url}/graphql",
        json={
            "query": 'mutation($p: String!) { loginAll(username: "ada.costa", password: $p)'
            " { sessionToken } }",
            "variables": {"p": DEMO_PASSWORD},
        },
        timeout=30,
    )
    session = response.json()["data"]["loginAll"]["sessionToken"]
    return {"Authorization": f"Bearer {session}", "X-Civicrm-Api-Key": api_key_of("ada.costa")}


@pytest.mark.parametrize("block", GRAPHQL, ids=[block.where for block in GRAPHQL])
def test_graphql_block_is_valid_and_runs(block: Block, demo: Demo, ada: dict[str, str]) -> None:
    errors = validate(graphql_schema(schema), parse(block.text))
    assert not errors, f"{block.name}: {[error.message for error in errors]}"
    response = httpx.post(
        f"{demo.url}/graphql", json={"query": block.text}, headers=ada, timeout=30
    )
    assert response.status_code == 200, f"{block.name}: {response.text}"
    assert "errors" not in response.json(), f"{block.name}: {response.text}"
