"""The Eqsash simulator's service declarations (raw HTTP, no connector)."""

from __future__ import annotations

import json

import httpx

from simulators.eqsash import API_KEY, API_PATH, SESSION_NAME
from tests.conftest import Simulator


def call(
    sim: Simulator, module: str, method: str, *, get: bool = False, **fields: str
) -> httpx.Response:
    form = {"key": API_KEY, "module": module, "method": method, **fields}
    if get:
        return httpx.get(f"{sim.url}{API_PATH}", params=form)
    return httpx.post(f"{sim.url}{API_PATH}", data=form)


def test_the_site_key_is_required(eqsash: Simulator) -> None:
    answer = httpx.post(
        f"{eqsash.url}{API_PATH}", data={"key": "nope", "module": "sections", "method": "list"}
    )
    assert (answer.status_code, answer.json()["error"]) == (401, "invalid_key")


def test_external_internal_and_roles(eqsash: Simulator) -> None:
    assert call(eqsash, "stats", "rebuild").json()["error"] == "internal_method"
    assert call(eqsash, "users", "get_user_id").status_code == 403  # internal, even for its role
    assert call(eqsash, "stats", "get_counters").json()["error"] == "login_required"
    token = call(
        eqsash,
        "users",
        "login",
        data=json.dumps({"login": "kemi.eriksen", "password": "demo-password"}),
    ).json()["token"]
    assert call(eqsash, "stats", "get_counters", token=token).json()["error"] == "access_denied"
    assert call(eqsash, "nope", "nothing").status_code == 404


def test_get_post_session_and_formats(eqsash: Simulator) -> None:
    login = call(
        eqsash,
        "users",
        "login",
        data=json.dumps({"login": "ada.costa", "password": "demo-password"}),
    ).json()
    by_session = call(
        eqsash, "users", "get_user_id_plus", get=True, **{SESSION_NAME: login["token"]}
    )
    assert by_session.json() == login["user_id"]
    sections = call(eqsash, "sections", "list", get=True).json()
    assert isinstance(sections, dict) and sections["1"]["name"] == "News"  # json_object format
    assert call(eqsash, "articles", "list", data="not json").json()["error"] == "bad_data"
