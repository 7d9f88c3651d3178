"""The `legacygraph` command."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from graph.cli import main
from graph.schema import export_sdl
from simulators.civicrm import SITE_KEY as CIVICRM_SITE_KEY
from simulators.elgg import API_KEY as ELGG_API_KEY
from simulators.elgg import SECRET as ELGG_SECRET
from simulators.flarum import SERVICE_API_KEY
from tests.conftest import Simulator, login, moodle_login, wait_until_up


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
    assert "reachable, site key ok; no service api_key configured" in capsys.readouterr().out
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
    assert "reachable, signature ok, 10 methods exposed" in capsys.readouterr().out
    config.write_text(
        f'[sources.elgg]\nurl = "{elgg.url}"\napi_key = "{ELGG_API_KEY}"\nsecret = "wrong-secret"\n'
    )
    assert main(["check-config", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert "FAILED (unauthenticated)" in out and "wrong-secret" not in out


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


def test_workers_need_configured_sources(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--workers", "2"]) == 2
    assert "workers need configured sources" in capsys.readouterr().err
