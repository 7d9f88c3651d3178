"""The Elgg simulator checks signatures and tokens the way Elgg's API engine does.

Requests here are signed by a small signer written from the reference in this file, so the
simulator's checks are exercised apart from the connector too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterator
from urllib.parse import quote_plus, urlencode

import httpx
import pytest

from simulators.elgg import API_KEY, SECRET, create_app
from simulators.serve import serve_in_thread
from simulators.world import World
from tests.conftest import Simulator

PATH = "/services/api/rest/json/"


def signed(
    url: str,
    method: str,
    params: dict[str, str],
    *,
    body: str | None = None,
    when: float | None = None,
    nonce: str = "abc123",
    secret: str = SECRET,
    sent_body: str | None = None,
) -> httpx.Response:
    """Send one request signed from the reference; `sent_body` differs from `body` to tamper."""
    query = urlencode({"method": method, **params})
    moment = str(int(time.time() if when is None else when))
    message = moment + nonce + API_KEY + query
    headers = {
        "X-Elgg-apikey": API_KEY,
        "X-Elgg-time": moment,
        "X-Elgg-nonce": nonce,
        "X-Elgg-hmac-algo": "sha1",
    }
    if body is not None:
        posthash = hashlib.sha256(body.encode()).hexdigest()
        message += posthash
        headers.update(
            {
                "X-Elgg-posthash": posthash,
                "X-Elgg-posthash-algo": "sha256",
                "Content-Type": "application/x-www-form-urlencoded",
            }
        )
    headers["X-Elgg-hmac"] = quote_plus(
        base64.b64encode(
            hmac.new(secret.encode(), message.encode(), hashlib.sha1).digest()
        ).decode()
    )
    content = sent_body if sent_body is not None else body
    if content is None:
        return httpx.get(f"{url}{PATH}?{query}", headers=headers)
    return httpx.post(f"{url}{PATH}?{query}", headers=headers, content=content.encode())


@pytest.fixture
def elgg(world: World) -> Iterator[Simulator]:
    app = create_app(world)
    with serve_in_thread(app) as url:
        yield Simulator(url, app)


def test_a_correct_signature_is_accepted(elgg: Simulator) -> None:
    assert signed(elgg.url, "system.api.list", {}).json()["status"] == 0
    token = signed(
        elgg.url, "auth.gettoken", {}, body="username=ada.costa&password=demo-password"
    ).json()
    assert token["status"] == 0 and len(token["result"]) == 32


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("tampered body", "POST data hash does not match"),
        ("stale time", "time outside the allowed window"),
        ("replayed nonce", "replayed signature"),
        ("wrong secret", "HMAC mismatch"),
    ],
)
def test_bad_signatures_are_refused(elgg: Simulator, case: str, reason: str) -> None:
    """Checked on a method that requires API authentication (Elgg 5's system.api.list and
    auth.gettoken do not); with Elgg's default settings every refusal says "Missing API key"."""
    if case == "tampered body":
        answer = signed(elgg.url, "group.join", {}, body="guid=1", sent_body="guid=2")
    elif case == "stale time":
        answer = signed(elgg.url, "group.get_groups", {}, when=time.time() - 90_001)
    elif case == "replayed nonce":
        moment = time.time()
        assert signed(elgg.url, "group.get_groups", {}, when=moment).json()["status"] == 0
        answer = signed(elgg.url, "group.get_groups", {}, when=moment)
    else:
        answer = signed(elgg.url, "group.get_groups", {}, secret="0" * 40)
    assert answer.status_code == 200
    assert answer.json() == {"status": -1, "message": "Missing API key"}
    assert elgg.app.state.refusals[-1] == reason


def test_tokens_last_sixty_minutes_from_creation(world: World) -> None:
    now = [1_700_000_000.0]
    app = create_app(world, clock=lambda: now[0])
    with serve_in_thread(app) as url:
        plain = {"api_key": API_KEY}
        token = httpx.post(
            f"{url}{PATH}?method=auth.gettoken",
            data={**plain, "username": "ada.costa", "password": "demo-password"},
        ).json()["result"]
        profile = httpx.get(
            f"{url}{PATH}", params={"method": "user.get_profile", "auth_token": token, **plain}
        ).json()
        assert profile["result"]["username"] == "ada.costa"
        now[0] += 3601
        expired = httpx.get(
            f"{url}{PATH}", params={"method": "user.get_profile", "auth_token": token, **plain}
        ).json()
        assert expired == {"status": -20, "message": "User could not be authenticated"}


def test_verbs_unknown_methods_and_missing_parameters(elgg: Simulator) -> None:
    plain = {"api_key": API_KEY}
    assert (
        httpx.get(f"{elgg.url}{PATH}", params={"method": "auth.gettoken", **plain}).json()[
            "message"
        ]
        == "Method call 'auth.gettoken' has not been implemented."
    )
    assert (
        httpx.get(f"{elgg.url}{PATH}", params={"method": "blog.list", **plain}).json()["message"]
        == "Method call 'blog.list' has not been implemented."
    )
    assert (
        httpx.get(f"{elgg.url}{PATH}", params={"method": "group.get", **plain}).json()["message"]
        == "Missing parameter guid in method group.get"
    )
    assert (
        httpx.get(f"{elgg.url}{PATH}", params={"method": "group.get", "guid": "1000"}).json()[
            "message"
        ]
        == "Missing API key"
    )


def test_closed_groups_hide_members_from_non_members(elgg: Simulator, world: World) -> None:
    closed = next(g for g in world.social_groups if not g.is_open)
    members = {p for g, p in world.social_members if g == closed.guid}
    outsider = next(p for p in world.people if p.id not in members and not p.is_admin)
    insider = next(p for p in world.people if p.id in members)
    plain = {"api_key": API_KEY}

    def token(username: str) -> str:
        answer = httpx.post(
            f"{elgg.url}{PATH}?method=auth.gettoken",
            data={**plain, "username": username, "password": "demo-password"},
        )
        return str(answer.json()["result"])

    def members_as(username: str) -> dict[str, object]:
        params = {
            "method": "group.get_members",
            "guid": str(closed.guid),
            "limit": "50",
            "auth_token": token(username),
            **plain,
        }
        return httpx.get(f"{elgg.url}{PATH}", params=params).json()

    assert members_as(outsider.username)["status"] == -1
    listed = members_as(insider.username)
    assert listed["status"] == 0 and len(listed["result"]) == len(members)  # type: ignore[arg-type]


def test_legacy_envelope(world: World) -> None:
    with serve_in_thread(create_app(world, legacy_envelope=True)) as url:
        body = httpx.get(
            f"{url}{PATH}", params={"method": "group.get", "guid": "1000", "api_key": API_KEY}
        ).json()
    assert list(body) == ["api"] and body["api"][0]["status"] == 0
