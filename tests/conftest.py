"""Fixtures: simulators and the gateway, each a real HTTP server on a loopback port."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from starlette.applications import Starlette

from graph.config import CacheSettings, GraphQLSettings, SessionSettings, Settings
from graph.server.app import create_app
from graph.sources.civicrm.settings import CivicrmSettings
from graph.sources.elgg.settings import ElggSettings
from graph.sources.eqsash.settings import EqsashSettings
from graph.sources.flarum.settings import FlarumSettings
from graph.sources.moodle.settings import MoodleSettings
from graph.sources.sections import SourcesSettings
from simulators.civicrm import SITE_KEY as CIVICRM_SITE_KEY
from simulators.civicrm import create_app as create_civicrm
from simulators.counting import RequestCounter
from simulators.elgg import API_KEY as ELGG_API_KEY
from simulators.elgg import SECRET as ELGG_SECRET
from simulators.elgg import create_app as create_elgg
from simulators.eqsash import API_KEY as EQSASH_API_KEY
from simulators.eqsash import create_app as create_eqsash
from simulators.flarum import create_app as create_flarum
from simulators.moodle import MOBILE_SERVICE
from simulators.moodle import create_app as create_moodle
from simulators.serve import serve_in_thread
from simulators.world import DEMO_PASSWORD, World, build_world


@dataclass
class Simulator:
    url: str
    app: Starlette

    @property
    def counter(self) -> RequestCounter:
        counter: RequestCounter = self.app.state.counter
        return counter


@dataclass
class Gateway:
    url: str

    def post(
        self, query: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> httpx.Response:
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        return httpx.post(f"{self.url}/graphql", json=body, headers=headers, timeout=30)

    def query(
        self, query: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> dict[str, Any]:
        """The response body of a GraphQL request that must come back as HTTP 200."""
        response = self.post(query, variables, **headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@contextmanager
def running(create: Callable[..., Starlette], world: World, **options: Any) -> Iterator[Simulator]:
    """A simulator app on a free loopback port, for as long as the block runs."""
    app = create(world, **options)
    with serve_in_thread(app) as url:
        yield Simulator(url, app)


def flarum_headers(token: str) -> dict[str, str]:
    return {"X-Flarum-Token": token}


def errors_by_path(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {".".join(map(str, error["path"])): error for error in body.get("errors", [])}


@pytest.fixture(scope="session")
def world() -> World:
    return build_world()


def running_flarum(world: World, **options: Any) -> AbstractContextManager[Simulator]:
    return running(create_flarum, world, **options)


@contextmanager
def running_gateway(
    flarum_url: str,
    moodle_url: str | None = None,
    moodle_options: dict[str, Any] | None = None,
    *,
    civicrm_url: str | None = None,
    civicrm_options: dict[str, Any] | None = None,
    elgg_url: str | None = None,
    elgg_options: dict[str, Any] | None = None,
    eqsash_url: str | None = None,
    eqsash_options: dict[str, Any] | None = None,
    session: SessionSettings | None = None,
    cache: CacheSettings | None = None,
    traces: TracerProvider | None = None,
    **flarum_options: Any,
) -> Iterator[Gateway]:
    moodle = MoodleSettings(url=moodle_url, **(moodle_options or {})) if moodle_url else None
    civicrm = None
    if civicrm_url:
        options = {"site_key": CIVICRM_SITE_KEY, **(civicrm_options or {})}
        civicrm = CivicrmSettings(url=civicrm_url, **options)
    elgg = None
    if elgg_url:
        options = {"api_key": ELGG_API_KEY, "secret": ELGG_SECRET, **(elgg_options or {})}
        elgg = ElggSettings(url=elgg_url, **options)
    settings = Settings(
        session=session or SessionSettings(),
        cache=cache or CacheSettings(),
        graphql=GraphQLSettings(),
        sources=SourcesSettings(
            flarum=FlarumSettings(url=flarum_url, **flarum_options),
            moodle=moodle,
            civicrm=civicrm,
            elgg=elgg,
            eqsash=EqsashSettings(
                url=eqsash_url, **{"api_key": EQSASH_API_KEY, **(eqsash_options or {})}
            )
            if eqsash_url
            else None,
        ),
    )
    with serve_in_thread(create_app(settings, traces)) as url:
        yield Gateway(url)


def running_moodle(world: World, **options: Any) -> AbstractContextManager[Simulator]:
    return running(create_moodle, world, **options)


@pytest.fixture(scope="module")
def moodle(world: World) -> Iterator[Simulator]:
    """A Moodle simulator shared by a module's read-only tests."""
    with running_moodle(world) as simulator:
        yield simulator


@pytest.fixture
def fresh_moodle(world: World) -> Iterator[Simulator]:
    with running_moodle(world) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def school(flarum: Simulator, moodle: Simulator) -> Iterator[Gateway]:
    """The gateway over Flarum and Moodle."""
    with running_gateway(flarum.url, moodle.url) as running:
        yield running


def running_civicrm(world: World, **options: Any) -> AbstractContextManager[Simulator]:
    return running(create_civicrm, world, **options)


@pytest.fixture(scope="module")
def civicrm(world: World) -> Iterator[Simulator]:
    with running_civicrm(world) as simulator:
        yield simulator


@pytest.fixture
def fresh_civicrm(world: World) -> Iterator[Simulator]:
    with running_civicrm(world) as simulator:
        yield simulator


def running_elgg(world: World, **options: Any) -> AbstractContextManager[Simulator]:
    return running(create_elgg, world, **options)


@pytest.fixture(scope="module")
def elgg(world: World) -> Iterator[Simulator]:
    with running_elgg(world) as simulator:
        yield simulator


def running_eqsash(world: World, **options: Any) -> AbstractContextManager[Simulator]:
    return running(create_eqsash, world, **options)


@pytest.fixture(scope="module")
def eqsash(world: World) -> Iterator[Simulator]:
    with running_eqsash(world) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def everything(
    flarum: Simulator, moodle: Simulator, civicrm: Simulator, elgg: Simulator, eqsash: Simulator
) -> Iterator[Gateway]:
    """The gateway over every simulated source."""
    with running_gateway(
        flarum.url,
        moodle.url,
        civicrm_url=civicrm.url,
        elgg_url=elgg.url,
        eqsash_url=eqsash.url,
        eqsash_options={"callable": ("stats.get_counters",)},
    ) as running:
        yield running


def moodle_login(moodle_url: str, username: str, service: str = MOBILE_SERVICE) -> str:
    """A Moodle token, fetched straight from the simulator (not through the gateway)."""
    response = httpx.post(
        f"{moodle_url}/login/token.php",
        data={"username": username, "password": DEMO_PASSWORD, "service": service},
    )
    token: str = response.json()["token"]
    return token


@pytest.fixture(scope="module")
def flarum(world: World) -> Iterator[Simulator]:
    """A Flarum simulator shared by a module's read-only tests."""
    with running_flarum(world) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def gateway(flarum: Simulator) -> Iterator[Gateway]:
    with running_gateway(flarum.url) as running:
        yield running


@pytest.fixture
def fresh_flarum(world: World) -> Iterator[Simulator]:
    """A Flarum simulator of its own, for tests that write."""
    with running_flarum(world) as simulator:
        yield simulator


@pytest.fixture
def fresh_gateway(fresh_flarum: Simulator) -> Iterator[Gateway]:
    with running_gateway(fresh_flarum.url) as running:
        yield running


def login(flarum_url: str, username: str, password: str = DEMO_PASSWORD) -> str:
    """A Flarum token, fetched straight from the simulator (not through the gateway)."""
    response = httpx.post(
        f"{flarum_url}/api/token", json={"identification": username, "password": password}
    )
    response.raise_for_status()
    token: str = response.json()["token"]
    return token


def in_ci() -> bool:
    """Whether this is a CI run (`CI=true`), where `.ci/run` has installed every outside tool."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing_tool(reason: str) -> NoReturn:
    """Skip a test whose outside tool is not installed (`reason` names it and how to get it).

    In CI the same absence fails the test instead: there a missing tool means `.ci/run` broke, and
    a skip would hide the tests that need it.
    """
    if in_ci():
        pytest.fail(f"{reason}; CI needs it (.ci/run installs it)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real redis-server of its own on a free loopback port, nothing saved to disk."""
    server = shutil.which("redis-server")
    if server is None:
        missing_tool("redis-server is not installed (apt-get install redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [server, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def wait_until_up(url: str, process: subprocess.Popen[str], timeout_s: float = 30) -> None:
    """Until the gateway started as `process` answers `/healthz` at `url`."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            httpx.get(f"{url}/healthz").raise_for_status()
            return
        except httpx.TransportError:
            assert process.poll() is None, f"the gateway stopped: {process.communicate()[0]}"
            assert time.monotonic() < deadline, "the gateway did not start"
            time.sleep(0.1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gateway_process(config: str, directory: Path, *, server: str = "") -> Iterator[str]:
    """`legacygraph serve` as a process of its own, with `config` (TOML, after a `[server]`
    table holding a free port and the `server` lines); yields its base URL. Its output is printed
    when it stops (pytest shows it for a failed test)."""
    port = free_port()
    path = directory / f"gateway-{port}.toml"
    path.write_text(f"[server]\nport = {port}\n{server}{config}")
    process = subprocess.Popen(
        [sys.executable, "-m", "graph.cli", "serve", "--config", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        print(process.communicate(timeout=30)[0])
