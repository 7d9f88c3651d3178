"""The wheel runs anywhere: built, installed into a fresh virtualenv outside the checkout, and
started from an empty directory, `legacygraph demo` serves the playground and answers a query.

The fresh virtualenv gets no pip of its own: this environment's pip installs the wheel and its
dependencies into it (`pip --python`), without compiling their bytecode (the demo compiles what it
imports). Installing a pip and compiling everything were most of this test's time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port, wait_until_up

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow  # builds a wheel and installs it with its dependencies (~120 MB)


def test_the_wheel_serves_the_demo_and_the_playground_from_anywhere(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("legacygraph-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/", 1)[0] for name in names if "/" in name} >= {
        "connectors",
        "graph",
        "playground",
        "simulators",
    }
    assert "playground/dist/index.html" in names
    assert "playground/examples/front-page.graphql" in names
    assert not any(name.startswith(("tests/", "bench/", "playground/src/")) for name in names)

    environment = tmp_path / "venv"
    venv.create(environment, with_pip=False)
    python = environment / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "install", "--quiet", "--no-compile", str(wheel)],
        check=True,
        capture_output=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    command = environment / "bin" / "legacygraph"
    version = subprocess.run(
        [command, "--version"], cwd=elsewhere, check=True, capture_output=True, text=True
    )
    assert version.stdout.strip() == "legacygraph 0.1.0"

    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LEGACYGRAPH_", "PYTHON"))}
    anywhere = [
        f"--simulator-port={name}=0" for name in ("flarum", "moodle", "civicrm", "elgg", "eqsash")
    ]
    server = subprocess.Popen(
        [command, "demo", "--port", str(port), *anywhere],
        cwd=elsewhere,  # nothing of the checkout is reachable from here
        env=clean,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, server, timeout_s=60)
        page = httpx.get(f"{base}/playground/")
        assert page.status_code == 200 and "<script" in page.text
        examples = httpx.get(f"{base}/playground/examples.json").json()
        assert "front-page" in {example["name"] for example in examples}
        answer = httpx.post(
            f"{base}/graphql", json={"query": "{ discussions(first: 3) { nodes { title } } }"}
        ).json()
        assert len(answer["data"]["discussions"]["nodes"]) == 3
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 0, output
    assert str(ROOT) not in output
