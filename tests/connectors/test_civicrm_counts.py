"""`Contact.getcount` as a real CiviCRM 5.77 answered it (`tests/recordings/civicrm-5.77/`):
a bare number on WordPress's endpoint and `[]` for none, `{"is_error": 0, "result": N}` on
extern/rest.php (fact 6)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from connectors.civicrm import Civicrm, CivicrmAuth
from connectors.errors import ProtocolError
from connectors.http import CallStats, Upstream
from tests.realworld import exchanges, response_of

BY_SEQ = {e["seq"]: e for e in exchanges("civicrm-5.77")}


def site_answering(*answers: httpx.Response) -> tuple[Civicrm, list[dict[str, Any]]]:
    sent: list[dict[str, Any]] = []
    queue = list(answers)

    def answer(request: httpx.Request) -> httpx.Response:
        form = dict(parse_qsl(request.content.decode(), keep_blank_values=True))
        sent.append({**form, "json": json.loads(form.get("json") or "{}")})
        return queue.pop(0)

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    auth = CivicrmAuth("site-key", "api-key")
    upstream = Upstream("civicrm", client, "http://crm.test", auth, CallStats())
    return Civicrm(upstream, rest_path="/wp-json/civicrm/v3/rest"), sent


async def test_a_search_is_counted_with_the_filters_of_the_list() -> None:
    """Recorded 58: `getcount` with `display_name LIKE %cost%` answered 2, bare."""
    site, sent = site_answering(response_of(BY_SEQ[58]))
    assert await site.contact_count(search="cost") == 2
    (call,) = sent
    assert (call["entity"], call["action"]) == ("Contact", "getcount")
    assert call["json"] == json.loads(BY_SEQ[58]["body"]["json"])


@pytest.mark.parametrize(("seq", "count"), [(3, 36), (9, 0), (12, 0), (59, 2)])
async def test_every_recorded_count_reads(seq: int, count: int) -> None:
    """36 for an administrator (3: above the 25 a `get` would list), `[]` for none (9, 12),
    the envelope of extern/rest.php (59)."""
    site, _ = site_answering(response_of(BY_SEQ[seq]))
    assert await site.contact_count() == count


@pytest.mark.parametrize("answer", [{"is_error": 0}, "many", -1, True, {"values": []}])
async def test_an_answer_that_is_no_count_is_a_protocol_error(answer: object) -> None:
    site, _ = site_answering(httpx.Response(200, json=answer))
    with pytest.raises(ProtocolError, match="count"):
        await site.contact_count()


async def test_the_q_style_has_no_count() -> None:
    site, sent = site_answering()
    site.style = "q"
    assert await site.contact_count(search="x") is None
    assert sent == []
