"""Every connector decodes its system's answers into typed models: an answer that lacks a
required field is `UPSTREAM_PROTOCOL_ERROR` naming the source and the field, one test per
source. (The replay tests hold the models to what the real systems send.)"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from connectors.errors import ProtocolError
from graph.schema.errors import CODE_BY_KIND
from tests.connectors.recording import Recorder
from tests.connectors.test_civicrm import civicrm_with
from tests.connectors.test_elgg import elgg_with
from tests.connectors.test_eqsash import eqsash_with
from tests.connectors.test_flarum import flarum_with
from tests.connectors.test_moodle import moodle_with


def answering(body: Any) -> Recorder:
    return Recorder(lambda request: httpx.Response(200, json=body))


def assert_names(error: ProtocolError, source: str, field: str) -> None:
    assert error.source == source
    assert f"`{field}`" in error.message, error.message
    assert CODE_BY_KIND[error.kind] == "UPSTREAM_PROTOCOL_ERROR"


async def test_moodle() -> None:
    grades = {"assignments": [{"assignmentid": 4, "grades": [{"id": 1, "grade": "5.0"}]}]}
    with pytest.raises(ProtocolError) as caught:
        await moodle_with(answering(grades)).grades([4])
    assert_names(caught.value, "moodle", "userid")


async def test_flarum() -> None:
    created = "2024-05-01T10:00:00+00:00"
    document = {"data": [{"type": "discussions", "id": "1", "attributes": {"createdAt": created}}]}
    with pytest.raises(ProtocolError) as caught:
        await flarum_with(answering(document)).discussions(limit=1)
    assert_names(caught.value, "flarum", "title")
    # A discussion's dates are read as it is decoded: an unreadable one is named too.
    document["data"][0]["attributes"] = {"title": "Food bank", "createdAt": "x"}
    with pytest.raises(ProtocolError) as caught:
        await flarum_with(answering(document)).discussions(limit=1)
    assert_names(caught.value, "flarum", "$.createdAt")


async def test_civicrm() -> None:
    groups = {"is_error": 0, "values": [{"name": "volunteers", "title": "Volunteers"}]}
    with pytest.raises(ProtocolError) as caught:
        await civicrm_with(answering(groups)).groups()
    assert_names(caught.value, "civicrm", "id")


async def test_elgg() -> None:
    members = {"status": 0, "result": [{"guid": 7, "name": "Ada"}]}
    with pytest.raises(ProtocolError) as caught:
        await elgg_with(answering(members)).members(7)
    assert_names(caught.value, "elgg", "username")


async def test_eqsash() -> None:
    with pytest.raises(ProtocolError) as caught:
        await eqsash_with(answering([{"id": 1, "name": "A"}])).users([1])
    assert_names(caught.value, "eqsash", "login")
