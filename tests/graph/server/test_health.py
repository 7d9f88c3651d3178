"""/healthz and /readyz."""

from __future__ import annotations

import socket

import httpx

from graph.config import Settings
from graph.server.health import readiness
from graph.sources.civicrm.settings import CivicrmSettings
from graph.sources.sections import SourcesSettings
from tests.conftest import Simulator, running_gateway


def test_ready_when_every_source_answers(
    flarum: Simulator, moodle: Simulator, civicrm: Simulator, elgg: Simulator, eqsash: Simulator
) -> None:
    with running_gateway(
        flarum.url, moodle.url, civicrm_url=civicrm.url, elgg_url=elgg.url, eqsash_url=eqsash.url
    ) as gateway:
        assert httpx.get(f"{gateway.url}/healthz").json() == {"status": "ok"}
        answer = httpx.get(f"{gateway.url}/readyz")
    assert answer.status_code == 200
    report = answer.json()
    assert report["ready"] is True
    assert set(report["sources"]) == {"flarum", "moodle", "civicrm", "elgg", "eqsash"}
    assert report["sources"]["elgg"]["detail"].startswith("reachable, signature ok")


def test_not_ready_names_the_source_that_is_down(flarum: Simulator) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with running_gateway(flarum.url, down, {"timeout_s": 0.5}) as gateway:
        answer = httpx.get(f"{gateway.url}/readyz")
        assert httpx.get(f"{gateway.url}/healthz").status_code == 200  # the process itself is fine
    assert answer.status_code == 503
    report = answer.json()
    assert report["ready"] is False
    assert report["sources"]["flarum"]["ready"] is True
    assert report["sources"]["moodle"] == {
        "ready": False,
        "detail": "unavailable: moodle could not be reached (ConnectError)",
    }


async def test_a_wordpress_rest_script_that_cannot_read_json_is_named_at_start_up() -> None:
    """On WordPress, extern/rest.php cannot read `json=` (WordPress slashes POST data): the
    readiness report (and `legacygraph check-config`) says which endpoint to use instead."""
    slashed = {"is_error": 1, "0": "error_message", "1": "Unable to decode supplied JSON."}
    client = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda request: httpx.Response(200, json=slashed))
    )
    civicrm = CivicrmSettings(
        url="http://crm.test",
        site_key="k",
        api_key="a",
        rest_path="/wp-content/plugins/civicrm/civicrm/extern/rest.php",
    )
    settings = Settings(sources=SourcesSettings(civicrm=civicrm))
    async with client:
        report = await readiness(settings, {"civicrm": client})
    assert report["ready"] is False
    assert 'rest_path = "/wp-json/civicrm/v3/rest"' in report["sources"]["civicrm"]["detail"]
