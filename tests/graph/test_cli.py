"""The `legacygraph` command."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from graph.cli import main
from graph.schema.root import export_sdl
from graph.sources import SOURCES
from simulators.civicrm import SITE_KEY as CIVICRM_SITE_KEY
from simulators.elgg import API_KEY as ELGG_API_KEY
from simulators.elgg import SECRET as ELGG_SECRET
from simulators.flarum import SERVICE_API_KEY
from tests.conftest import Simulator, free_port, login, moodle_login, wait_until_up


def test_export_schema_writes_the_sdl(tmp_path: Path) -> None:
    target = tmp_path / "schema.graphql"
    assert main(["export-schema", "--output", str(target)]) == 0
    assert target.read_text() == export_sdl()


def test_check_config_pings_each_source(
    tmp_path: Path, flarum: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "legacygraph.toml"
    config.write_text(
        f'[sources.flarum]\nurl = "{flarum.url}"\napi_key = "{SERVICE_API_KEY}"\n'
        "api_user_id = 1\nallow_service_fallback = true\n"
    )
    assert main(["check-config", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "config ok: 1 source(s) configured" in out
    assert (
        f"flarum   {flarum.url}  reachable, auth ok as service user ada.costa, Flarum 1.7.2" in out
    )
    assert SERVICE_API_KEY not in out


def test_check_config_fails_on_a_rejected_key(
    tmp_path: Path, flarum: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "legacygraph.toml"
    config.write_text(
        f'[sources.flarum]\nurl = "{flarum.url}"\napi_key = "wrong-key"\napi_user_id = 1\nallow_service_fallback = true\n'
    )
    assert main(["check-config", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert "FAILED (unauthenticated)" in out and "wrong-key" not in out


def test_a_bad_config_stops_the_process_with_one_line(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[sources.flarum]\nurl = "gopher://old"\n')
    result = subprocess.run(
        [sys.executable, "-m", "graph.cli", "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"legacygraph: {config}: sources.flarum.url: must be an http(s) URL, got 'gopher://old'"
    ]


def test_serve_logs_one_line_per_request_and_no_upstream_url(
    tmp_path: Path, flarum: Simulator
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = tmp_path / "legacygraph.toml"
    config.write_text(f'[server]\nport = {port}\n[sources.flarum]\nurl = "{flarum.url}"\n')
    token = login(flarum.url, "ada.costa")
    server = subprocess.Popen(
        [sys.executable, "-m", "graph.cli", "serve", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}", server)
        response = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": "query Who { viewer { flarum { username } } }"},
            headers={"X-Flarum-Token": token},
        )
        assert response.json()["data"]["viewer"]["flarum"]["username"] == "ada.costa"
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 0
    assert "POST /graphql op=Who status=200" in output
    assert "upstream=flarum:1" in output
    assert flarum.url not in output.split("flarum at", 1)[1].split("\n", 1)[1]
    assert token not in output


def test_check_config_pings_moodle_with_and_without_a_service_token(
    tmp_path: Path, moodle: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "legacygraph.toml"
    config.write_text(f'[sources.moodle]\nurl = "{moodle.url}"\n')
    assert main(["check-config", "--config", str(config)]) == 0
    assert "reachable, web services answer; no service token configured" in capsys.readouterr().out
    token = moodle_login(moodle.url, "ada.costa")
    config.write_text(
        f'[sources.moodle]\nurl = "{moodle.url}"\ntoken = "{token}"\nallow_service_fallback = true\n'
    )
    assert main(["check-config", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "auth ok as service user ada.costa, Moodle 4.5.6" in out and token not in out
    config.write_text(
        f'[sources.moodle]\nurl = "{moodle.url}"\ntoken = "{"0" * 32}"\nallow_service_fallback = true\n'
    )
    assert main(["check-config", "--config", str(config)]) == 1
    assert "FAILED (unauthenticated)" in capsys.readouterr().out


def test_check_config_pings_civicrm(
    tmp_path: Path, civicrm: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "legacygraph.toml"
    config.write_text(
        f'[sources.civicrm]\nurl = "{civicrm.url}"\nsite_key = "{CIVICRM_SITE_KEY}"\n'
    )
    assert main(["check-config", "--config", str(config)]) == 0
    assert (
        "reachable, site key ok; callers' calls not checked (no service api_key)"
        in capsys.readouterr().out
    )
    config.write_text(f'[sources.civicrm]\nurl = "{civicrm.url}"\nsite_key = "not-the-key"\n')
    assert main(["check-config", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert "FAILED (unauthenticated): CiviCRM refused the gateway's site key" in out
    assert "not-the-key" not in out


def test_check_config_pings_elgg(
    tmp_path: Path, elgg: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "legacygraph.toml"
    config.write_text(
        f'[sources.elgg]\nurl = "{elgg.url}"\napi_key = "{ELGG_API_KEY}"\nsecret = "{ELGG_SECRET}"\n'
    )
    assert main(["check-config", "--config", str(config)]) == 0
    assert (
        "reachable, signature ok (group.get_groups), 10 methods exposed" in capsys.readouterr().out
    )
    config.write_text(
        f'[sources.elgg]\nurl = "{elgg.url}"\napi_key = "{ELGG_API_KEY}"\nsecret = "wrong-secret"\n'
    )
    assert main(["check-config", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert "FAILED (unauthenticated)" in out and "wrong-secret" not in out
    assert "'Missing API key'" in out and "likely causes: the secret" in out


def test_check_config_pings_eqsash(
    tmp_path: Path, eqsash: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "legacygraph.toml"
    config.write_text(
        f'[sources.eqsash]\nurl = "{eqsash.url}"\napi_key = "12345"\ncallable = ["stats.get_counters"]\n'
    )
    assert main(["check-config", "--config", str(config)]) == 0
    assert "reachable, site key ok (6 sections)" in capsys.readouterr().out
    config.write_text(
        f'[sources.eqsash]\nurl = "{eqsash.url}"\napi_key = "12345"\ncallable = ["no-dot"]\n'
    )
    assert main(["check-config", "--config", str(config)]) == 2


@pytest.mark.slow  # three processes: uvicorn's supervisor and two workers
def test_serve_with_two_workers_and_the_access_log_off(tmp_path: Path, flarum: Simulator) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = tmp_path / "legacygraph.toml"
    config.write_text(
        f'[server]\nport = {port}\naccess_log = false\n[sources.flarum]\nurl = "{flarum.url}"\n'
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "graph.cli", "serve", "--config", str(config), "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,  # each worker finds the configuration by its absolute path
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}", server)
        for _ in range(6):
            response = httpx.post(
                f"http://127.0.0.1:{port}/graphql",
                json={"query": "{ discussions(first: 2) { nodes { title } } }"},
            )
            assert len(response.json()["data"]["discussions"]["nodes"]) == 2
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 0
    assert output.count("Started server process") == 2, output
    assert "POST /graphql" not in output


@pytest.fixture
def no_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    """No `LEGACYGRAPH_…` variable from the environment the tests run in."""
    for name in list(os.environ):
        if name.startswith("LEGACYGRAPH_"):
            monkeypatch.delenv(name)


@pytest.mark.usefixtures("no_configuration")
@pytest.mark.parametrize("args", [["serve"], ["serve", "--workers", "2"]])
def test_serve_without_a_source_refuses_instead_of_serving_the_simulators(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "legacygraph: no source is configured: give --config FILE (or set LEGACYGRAPH_CONFIG, "
        "or LEGACYGRAPH_SOURCES__<NAME>__URL); `legacygraph demo` runs the gateway over the "
        "simulators"
    ]


@pytest.mark.usefixtures("no_configuration")
def test_serve_names_the_file_that_configures_no_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "legacygraph.toml"
    config.write_text("[server]\nport = 9000\n")
    assert main(["serve", "--config", str(config)]) == 2
    assert capsys.readouterr().err.startswith(
        f"legacygraph: {config}: no source is configured (a [sources.<name>] table with its url)"
    )


@pytest.mark.usefixtures("no_configuration")
def test_check_config_without_a_source_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config"]) == 2
    captured = capsys.readouterr()
    assert "config ok" not in captured.out
    assert captured.err.splitlines() == [
        "legacygraph: no source is configured: give --config FILE (or set LEGACYGRAPH_CONFIG, "
        "or LEGACYGRAPH_SOURCES__<NAME>__URL)"
    ]


@pytest.mark.usefixtures("no_configuration")
@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://localhost:99999", "the port must be between 1 and 65535"),
        ("http://localhost:0", "the port must be between 1 and 65535"),
        ("http://localhost:moodle", "the port must be between 1 and 65535"),
        ("localhost:9101", "must be an http(s) URL"),
        ("http:///moodle", "must be an http(s) URL"),
    ],
)
def test_check_config_refuses_a_url_it_cannot_connect_to(
    tmp_path: Path, url: str, problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "legacygraph.toml"
    config.write_text(f'[sources.moodle]\nurl = "{url}"\n')
    assert main(["check-config", "--config", str(config)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"legacygraph: {config}: sources.moodle.url: {problem}, got {url!r}"
    ]


@pytest.mark.usefixtures("no_configuration")
def test_a_mistyped_environment_variable_is_named_as_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "legacygraph.toml"
    config.write_text('[sources.moodle]\nurl = "http://127.0.0.1:9101"\n')
    monkeypatch.setenv("LEGACYGRAPH_SERVER__PROT", "8100")
    assert main(["serve", "--config", str(config)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "legacygraph: environment variable LEGACYGRAPH_SERVER__PROT: server.prot: unknown key"
    ]


def taken_port() -> socket.socket:
    """A loopback port that something else listens on."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


@pytest.mark.usefixtures("no_configuration")
def test_demo_names_a_taken_gateway_port_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with taken_port() as sock:
        port = sock.getsockname()[1]
        assert main(["demo", "--port", str(port)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing started, no "try curl"
    assert captured.err.splitlines() == [
        f"legacygraph: port {port} on 127.0.0.1 is taken; the gateway needs it (--port changes it)"
    ]


@pytest.mark.usefixtures("no_configuration")
def test_demo_names_a_taken_simulator_port_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with taken_port() as sock:
        port = sock.getsockname()[1]
        assert main(["demo", "--port", str(free_port()), "--simulator-port", f"moodle={port}"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"legacygraph: port {port} on 127.0.0.1 is taken; the Moodle simulator needs it "
        "(--simulator-port moodle=PORT moves it, --port moves the gateway)"
    ]


@pytest.mark.usefixtures("no_configuration")
def test_demo_refuses_one_port_for_two_servers(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    assert main(["demo", "--port", str(port), "--simulator-port", f"elgg={port}"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"legacygraph: port {port} is asked for twice: the gateway and the Elgg simulator"
    ]


def test_demo_serves_on_the_port_asked_for_and_says_so_once_it_listens() -> None:
    port = free_port()
    anywhere = [arg for name in SOURCES for arg in ("--simulator-port", f"{name}=0")]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LEGACYGRAPH_")}
    demo = subprocess.Popen(
        [sys.executable, "-m", "graph.cli", "demo", "--port", str(port), *anywhere],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=clean,
    )
    assert demo.stdout is not None
    try:
        lines = []
        while not (line := demo.stdout.readline()).startswith("legacygraph: try "):
            assert line, f"the demo stopped: {''.join(lines)}"
            lines.append(line)
        assert line.startswith(f"legacygraph: try  curl -s http://127.0.0.1:{port}/graphql ")
        # Said once the gateway listens: the query it suggests answers at once.
        answer = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": "{ discussions(first: 3) { nodes { title } } }"},
        )
        assert len(answer.json()["data"]["discussions"]["nodes"]) == 3
    finally:
        demo.send_signal(signal.SIGINT)
        output, _ = demo.communicate(timeout=30)
    assert demo.returncode == 0, output
    assert f"GraphQL endpoint http://127.0.0.1:{port}/graphql" in "".join(lines)
    assert "Traceback" not in output
