"""The Elgg connector against what a real Elgg 5.1.11 answered (`answers/` of the recordings):
method keys (E1), hash algorithms (E2), the rest_api plugin's token (E3), users found by e-mail
(E5) and a refused signature explained (E6)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from connectors.elgg import Elgg, ElggAuth, read
from connectors.elgg.client import methods_listed
from connectors.errors import Unauthenticated
from connectors.http import Upstream
from graph.sources.elgg.settings import ElggSettings
from tests.connectors.recording import Recorder
from tests.recorded_elgg import answer

API_KEY = "9e32e45ace90131703ba5a509df4bd88ce2a704e"
SECRET = "0123456789abcdef0123456789abcdef01234567"
NOW = 1796591109.0


def site(
    respond: Callable[[httpx.Request], httpx.Response], *, profile: str = "auto", **auth: Any
) -> tuple[Elgg, Recorder]:
    recorder = Recorder(respond)
    client = httpx.AsyncClient(transport=httpx.MockTransport(recorder))
    signing = ElggAuth(api_key=API_KEY, secret=SECRET, clock=lambda: NOW, **auth)
    return Elgg(Upstream("elgg", client, "http://elgg.test", signing), profile=profile), recorder


def by_method(answers: Mapping[str, Any]) -> Callable[[httpx.Request], httpx.Response]:
    def respond(request: httpx.Request) -> httpx.Response:
        method = dict(parse_qsl(request.url.query.decode()))["method"]
        found = answers[method]
        return found if isinstance(found, httpx.Response) else httpx.Response(200, json=found)

    return respond


def test_elgg_5_keys_its_methods_by_verb_and_name() -> None:
    """E1 (fact 2): `POST:auth.gettoken`, `GET:system.api.list`; probe.api exists for both."""
    listed = read(answer("01_system.api.list").response())
    assert "POST:auth.gettoken" in listed
    methods = methods_listed(listed)
    assert set(methods) == {"auth.gettoken", "system.api.list", "probe.api", "probe.user"}
    assert methods["auth.gettoken"].verbs == ("POST",)
    assert methods["probe.api"].verbs == ("GET", "POST")
    assert methods["auth.gettoken"].required == ("username", "password")
    assert methods["probe.api"].require_api_auth and not methods["probe.api"].require_user_auth
    assert methods["probe.user"].require_user_auth


def test_elgg_4_keys_its_methods_by_name() -> None:
    """Elgg 4.x (`ApiMethod::getID()` is the name): the same list with bare keys."""
    listed = read(answer("01_system.api.list").response())
    bare = {key.partition(":")[2]: info for key, info in listed.items() if key != "GET:probe.api"}
    methods = methods_listed(bare)
    assert set(methods) == {"auth.gettoken", "system.api.list", "probe.api", "probe.user"}
    assert methods["auth.gettoken"].verbs == ("POST",)
    assert methods["probe.api"].verbs == ("POST",)


async def test_login_on_elgg_5_finds_auth_gettoken_and_posts_it() -> None:
    """E1 and fact 4: the connector used to believe auth.gettoken missing on Elgg 5."""
    elgg, recorder = site(
        by_method(
            {
                "system.api.list": answer("01_system.api.list").body,
                "auth.gettoken": answer("02_auth.gettoken_alice").body,
            }
        )
    )
    token = await elgg.get_token("alice", "Pass-word-1")
    assert token.token == answer("02_auth.gettoken_alice").body["result"]
    post = recorder.requests[1]
    assert post.method == "POST" and recorder.form(1) == {
        "username": "alice",
        "password": "Pass-word-1",
    }


async def test_a_wrong_password_is_unauthenticated() -> None:
    """Fact 4: "User could not be authenticated" with status -1."""
    elgg, _ = site(
        by_method(
            {
                "system.api.list": answer("01_system.api.list").body,
                "auth.gettoken": answer("03_auth.gettoken_badpassword").body,
            }
        )
    )
    with pytest.raises(Unauthenticated):
        await elgg.get_token("alice", "nope")


async def test_posts_are_hashed_with_sha256() -> None:
    """E2 (fact 9): Elgg 5 refuses an md5 POST hash (41); sha256 passed (40)."""
    passed = answer("40_probe.api_POST_hmac_posthash_sha256", "hmac-only")
    refused = answer("41_probe.api_POST_hmac_posthash_md5", "hmac-only")
    assert passed.headers["X-Elgg-posthash-algo"] == "sha256"
    assert passed.headers["X-Elgg-posthash"] == hashlib.sha256(b"text=hello").hexdigest()
    assert "not supported" in refused.body["message"]
    listed = answer("01_system.api.list").body
    elgg, recorder = site(
        by_method({"system.api.list": listed, "probe.api": passed.body}), profile="legacygraph"
    )
    assert await elgg.call("probe.api", {"text": "hello"}, post=True) == passed.body["result"]
    post = recorder.requests[1]
    assert post.method == "POST" and post.content == b"text=hello"
    assert post.headers["X-Elgg-posthash-algo"] == "sha256"
    assert post.headers["X-Elgg-posthash"] == passed.headers["X-Elgg-posthash"]


@pytest.mark.parametrize("algorithm", ["md5", "sha384", "sha512"])
def test_algorithms_elgg_5_refuses_are_refused_at_config_load(algorithm: str) -> None:
    """E2 (fact 9): md5, sha384 and sha512 are "not supported or disabled" on Elgg 5."""
    assert "not supported" in answer("26_probe.api_hmac_md5", "hmac-only").body["message"]
    with pytest.raises(ValueError, match="sha1 or sha256"):
        ElggAuth(api_key=API_KEY, secret=SECRET, algorithm=algorithm)
    settings = ElggSettings(
        url="http://elgg.test", api_key=API_KEY, secret=SECRET, hmac_algorithm=algorithm
    )
    with pytest.raises(ValueError, match=r"hmac_algorithm: sha1 or sha256"):
        settings.check("sources.elgg")


async def test_the_rest_api_plugins_token_is_an_object() -> None:
    """E3 (fact 15): its auth.gettoken answers {auth_token, api_key, gcm_sender_id, username}."""
    token = "fce59b2b2014f73889ba7e7bbad0bfe0"
    elgg, _ = site(
        by_method(
            {
                "system.api.list": {
                    "status": 0,
                    "result": {"auth.gettoken": {"call_method": "POST"}},
                },
                "auth.gettoken": {
                    "status": 0,
                    "result": {
                        "auth_token": token,
                        "api_key": API_KEY,
                        "gcm_sender_id": "",
                        "username": "alice",
                    },
                },
            }
        ),
        profile="rest_api",
    )
    assert (await elgg.get_token("alice", "Pass-word-1")).token == token


async def test_a_user_found_by_email_has_that_address() -> None:
    """E5: the plugin hides other users' e-mails (recorded: bobby looking for alice); the method
    searched by the address, so the account carries it."""
    from tests.realworld import exchanges

    (recorded,) = [
        e
        for e in exchanges("elgg-5.1.11")
        if e["elgg_method"] == "user.get_user_by_email" and e["response"]["result"]
    ]
    assert "email" not in recorded["response"]["result"][0]
    listed = next(
        e["response"] for e in exchanges("elgg-5.1.11") if e["elgg_method"] == "system.api.list"
    )
    elgg, _ = site(
        by_method({"system.api.list": listed, "user.get_user_by_email": recorded["response"]})
    )
    (user,) = await elgg.users_by_email(recorded["params"]["email"])
    assert (user.username, user.email) == ("alice", "alice@example.org")


def refusal(date: str | None) -> httpx.Response:
    """What Elgg 5 answers any failed HMAC with its default settings (fact 13)."""
    headers = {"date": date} if date else {}
    return answer("27_probe.api_hmac_wrong").response(**headers)


async def test_a_refused_signature_names_the_likely_causes() -> None:
    """E6 (fact 13): "Missing API key" for a wrong secret, a wrong clock or algorithm alike."""
    assert answer("27_probe.api_hmac_wrong").body["message"] == "Missing API key"
    listed = answer("01_system.api.list").body
    elgg, recorder = site(
        by_method(
            {"system.api.list": listed, "probe.api": refusal("Sun, 06 Dec 2026 21:45:09 GMT")}
        )
    )
    with pytest.raises(Unauthenticated) as caught:
        await elgg.check_signature(clock=lambda: NOW)
    message = caught.value.message
    assert "probe.api" in message and "'Missing API key'" in message
    assert "the secret" in message and "sha1 or sha256" in message
    assert "clock" not in message  # the site's Date agrees with this machine's clock
    assert SECRET not in message and recorder.requests[1].headers["X-Elgg-hmac-algo"] == "sha256"


async def test_a_refusal_with_the_clocks_apart_names_the_skew() -> None:
    """Fact 10: beyond ±90,000 s; the site's Date header shows how far."""
    listed = answer("01_system.api.list").body
    elgg, _ = site(
        by_method(
            {"system.api.list": listed, "probe.api": refusal("Fri, 04 Dec 2026 21:00:00 GMT")}
        )
    )
    with pytest.raises(Unauthenticated) as caught:
        await elgg.check_signature(clock=lambda: NOW)
    assert "the clock: this machine is +173109 s from the site's" in caught.value.message
    assert "beyond Elgg's 25 h" in caught.value.message


async def test_a_passing_signature_names_the_method_and_a_core_site_none() -> None:
    listed = answer("01_system.api.list").body
    passed = answer("23_probe.api_hmac_sha256")
    elgg, _ = site(by_method({"system.api.list": listed, "probe.api": passed.body}))
    assert await elgg.check_signature() == "probe.api"
    core = {k: v for k, v in listed["result"].items() if "probe" not in k}
    bare, recorder = site(by_method({"system.api.list": {"status": 0, "result": core}}))
    assert await bare.check_signature() is None
    assert len(recorder.requests) == 1
