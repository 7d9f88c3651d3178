"""CiviCRM's part of `/readyz` and `legacygraph check-config` against what a real CiviCRM 5.77
on WordPress answered (`tests/recordings/civicrm-5.77`): it tests what callers will need, and
says what it cannot tell (issue 25, C1 and C2)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from graph.config import Settings
from graph.server.health import readiness
from graph.sources.civicrm.settings import CivicrmSettings
from graph.sources.sections import SourcesSettings
from tests.realworld import exchanges, response_of

BY_SEQ = {e["seq"]: e for e in exchanges("civicrm-5.77")}
WPJSON = "/wp-json/civicrm/v3/rest"
EXTERN = "/wp-content/plugins/civicrm/civicrm/extern/rest.php"
DRUPAL_EXTERN = "/sites/all/modules/civicrm/extern/rest.php"


async def report(seq: int | None, rest_path: str, **options: Any) -> tuple[dict[str, Any], int]:
    """The CiviCRM line of the readiness report where the site answers exchange `seq`, and how
    many requests it took."""
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        assert seq is not None, "no request was expected"
        return response_of(BY_SEQ[seq])

    settings = Settings(
        sources=SourcesSettings(
            civicrm=CivicrmSettings(
                url="http://crm.test", site_key="k", rest_path=rest_path, **options
            )
        )
    )
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        found = await readiness(settings, {"civicrm": client})
    line: dict[str, Any] = found["sources"]["civicrm"]
    return line, len(sent)


@pytest.mark.parametrize("seq", [197, 198])
async def test_wordpress_route_without_a_service_key_does_not_claim_the_site_key(
    seq: int,
) -> None:
    """C2: WordPress's route refuses a call without an api key before it reads the site key,
    with the right key (198) and a wrong one (197) alike: nothing is claimed of it."""
    line, requests = await report(seq, WPJSON)
    assert "site key ok" not in line["detail"]
    assert "site key is not checked" in line["detail"] and requests == 1


async def test_wordpress_route_with_a_service_key_finds_a_wrong_site_key() -> None:
    """C2: with an api key, the WordPress route reads the site key (17: HTTP 400)."""
    line, _ = await report(17, WPJSON, api_key="service")
    assert line == {
        "ready": False,
        "detail": "unauthenticated: CiviCRM refused the gateway's site key",
    }


async def test_rest_script_checks_the_site_key_first() -> None:
    """extern/rest.php refuses a wrong site key before it asks for an api key (199), and a
    right one gets as far as the api key (196): the site key is known good, callers' calls
    are not."""
    wrong, _ = await report(199, DRUPAL_EXTERN)
    assert wrong["ready"] is False and "site key" in wrong["detail"]
    right, _ = await report(196, DRUPAL_EXTERN)
    assert right == {
        "ready": True,
        "detail": "reachable, site key ok; callers' calls not checked (no service api_key)",
    }


@pytest.mark.parametrize("api_key", ["", "service"])
async def test_wordpress_rest_script_in_the_entity_style_is_not_ready(api_key: str) -> None:
    """C1: on WordPress, extern/rest.php cannot read the JSON every entity-style call sends
    (200: "Unable to decode supplied JSON", even with both keys right), and without a service
    key the site key check would pass (196): readiness says so without asking."""
    assert BY_SEQ[200]["response"]["1"] == "Unable to decode supplied JSON."
    line, requests = await report(None, EXTERN, api_key=api_key)
    assert line["ready"] is False and requests == 0
    assert f'rest_path = "{WPJSON}"' in line["detail"]


async def test_wordpress_rest_script_in_the_q_style_is_checked() -> None:
    """The q= style sends flat fields, which extern/rest.php reads on WordPress."""
    line, requests = await report(196, EXTERN, api_style="q")
    assert line["ready"] is True and requests == 1
