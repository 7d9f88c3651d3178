"""Graceful shutdown: a request in flight when SIGTERM arrives still gets its whole answer."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from simulators.world import World
from tests.conftest import moodle_login, running_moodle


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_a_request_in_flight_finishes_after_sigterm(world: World, tmp_path: Path) -> None:
    with running_moodle(world, latency_s=1.0) as moodle:
        token = moodle_login(moodle.url, "bea.abebe")
        port = free_port()
        config = tmp_path / "gateway.toml"
        config.write_text(f'[server]\nport = {port}\n[sources.moodle]\nurl = "{moodle.url}"\n')
        gateway = subprocess.Popen(
            [sys.executable, "-m", "graph.cli", "serve", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            answers: list[httpx.Response] = []
            asking = threading.Thread(
                target=lambda: answers.append(
                    httpx.post(
                        f"http://127.0.0.1:{port}/graphql",
                        json={"query": "{ courses(first: 2) { nodes { fullName } } }"},
                        headers={"X-Moodle-Token": token},
                        timeout=30,
                    )
                )
            )
            asking.start()
            deadline = time.monotonic() + 20
            while not moodle.counter.in_flight:  # until the gateway waits on the slow Moodle
                assert asking.is_alive() and time.monotonic() < deadline, answers
                time.sleep(0.01)
            gateway.send_signal(signal.SIGTERM)
            asking.join(timeout=30)
            # uvicorn finishes its graceful shutdown, then re-raises the signal it caught.
            assert gateway.wait(timeout=30) in (0, -signal.SIGTERM)
        finally:
            gateway.kill()
    (answer,) = answers
    assert answer.status_code == 200
    body = answer.json()
    assert "errors" not in body and len(body["data"]["courses"]["nodes"]) == 2
