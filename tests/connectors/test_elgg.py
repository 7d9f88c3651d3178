"""The Elgg connector: signatures against fixed vectors and an independent verifier, envelopes."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl, quote_plus

import httpx
import pytest

from connectors.elgg import Elgg, ElggAuth, error_from, read, signature
from connectors.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    ProtocolError,
    Unauthenticated,
    UpstreamError,
)
from connectors.http import Upstream
from tests.connectors.recording import Recorder

API_KEY = "3f1c2d4e5f60718293a4b5c6d7e8f90a1b2c3de9"
SECRET = "9ab0c1d2e3f405162738495a6b7c8d9e0f101111"

# Computed with `openssl dgst -hmac ... -binary | base64` and `md5sum` over the concatenation the
# reference describes, then URL-encoded by hand; no code of the connector was involved.
GET_SHA256 = "fMGYTU7dgS1AyoFIjtCC7Lb%2Bba%2FopgFZJn3xayb9rm8%3D"
GET_SHA1 = "8S1P4JqrZ9LR0weQx8isRM9BWC8%3D"
POST_BODY = "username=ada.costa&password=demo-password"
POST_MD5 = "713d53b9059c2801168abf64e14d0ac2"
POST_SHA256 = "PCW6vN2Cuz35meeJ0B9H%2FoDSLtnKr2Mt5MGZC8TWCf0%3D"
LEGACY_SHA1_HEX = "5c4c2f63a46c9b204dbf7021ab3aa07324cf311a"


@pytest.mark.parametrize(("algorithm", "expected"), [("sha256", GET_SHA256), ("sha1", GET_SHA1)])
def test_get_signature_matches_the_fixed_vector(algorithm: str, expected: str) -> None:
    assert (
        signature(
            secret=SECRET,
            algorithm=algorithm,
            time_text="1700000000",
            nonce="6560a1b2c3d4e",
            api_key=API_KEY,
            query="method=system.api.list",
        )
        == expected
    )


def test_post_signature_covers_the_body_hash() -> None:
    assert hashlib.md5(POST_BODY.encode(), usedforsecurity=False).hexdigest() == POST_MD5
    assert (
        signature(
            secret=SECRET,
            algorithm="sha256",
            time_text="1700000000",
            nonce="6560a1b2c3d4e",
            api_key=API_KEY,
            query="method=auth.gettoken",
            posthash=POST_MD5,
        )
        == POST_SHA256
    )


def test_legacy_signature_has_no_nonce_and_is_hex() -> None:
    assert (
        signature(
            secret=SECRET,
            algorithm="sha1",
            time_text="1700000000.5000",
            nonce="",
            api_key=API_KEY,
            query="method=system.api.list",
            variant="legacy",
        )
        == LEGACY_SHA1_HEX
    )


def verify(request: httpx.Request, secret: str) -> None:
    """An Elgg server's check, written here from the protocol reference alone."""
    h = request.headers
    message = h["X-Elgg-time"].strip() + h["X-Elgg-nonce"].strip() + h["X-Elgg-apikey"].strip()
    message += request.url.query.decode().strip()
    if request.method == "POST":
        assert h["X-Elgg-posthash-algo"] == "sha256"  # Elgg 5 refuses md5 (fact 9)
        assert h["X-Elgg-posthash"] == hashlib.sha256(request.content).hexdigest()
        message += h["X-Elgg-posthash"]
    digest = hmac.new(
        secret.encode(),
        message.encode(),
        {"sha256": hashlib.sha256, "sha1": hashlib.sha1}[h["X-Elgg-hmac-algo"]],
    ).digest()
    assert h["X-Elgg-hmac"] == quote_plus(base64.b64encode(digest).decode())


def elgg_with(handler: Recorder, token: str | None = None) -> Elgg:
    auth = ElggAuth(
        api_key=API_KEY,
        secret=SECRET,
        user_token=token,
        clock=lambda: 1700000000.9,
        nonce=lambda: "n0nce",
    )
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    exposed = {
        "system.api.list": {"call_method": "GET"},
        "auth.gettoken": {"call_method": "POST"},
        "group.get_members": {"call_method": "GET"},
        "group.join": {"call_method": "POST", "require_user_auth": True},
    }

    answer = handler.respond

    def respond(request: httpx.Request) -> httpx.Response:
        """Every request must pass the verifier; the method list is answered here."""
        verify(request, SECRET)
        method = dict(parse_qsl(request.url.query.decode()))["method"]
        if method == "system.api.list":
            return httpx.Response(200, json={"status": 0, "result": exposed})
        return answer(request)

    handler.respond = respond
    return Elgg(Upstream("elgg", client, "http://elgg.test", auth))


async def test_requests_pass_an_independent_verifier_and_carry_the_token() -> None:
    answers = {
        "group.get_members": {
            "status": 0,
            "result": [{"guid": 101, "username": "ada", "name": "Ada"}],
        },
        "group.join": {"status": 0, "result": {"success": True}},
    }
    recorder = Recorder(
        lambda r: httpx.Response(200, json=answers[dict(parse_qsl(r.url.query.decode()))["method"]])
    )
    site = elgg_with(recorder, token="user-tok")
    members = await site.members(1001, limit=5)
    await site.join(1001)
    assert [m.username for m in members] == ["ada"]
    get, post = recorder.requests[1], recorder.requests[2]
    assert get.headers["X-Elgg-time"] == "1700000000"  # whole seconds
    assert dict(parse_qsl(get.url.query.decode()))["auth_token"] == "user-tok"
    assert dict(parse_qsl(post.content.decode())) == {"guid": "1001", "auth_token": "user-tok"}
    assert "auth_token" not in post.url.query.decode()
    assert post.headers["content-type"] == "application/x-www-form-urlencoded"


async def test_a_method_the_site_does_not_expose_is_refused_before_calling() -> None:
    recorder = Recorder(lambda r: httpx.Response(500))
    site = elgg_with(recorder)
    with pytest.raises(BadRequest) as caught:
        await site.river()
    assert caught.value.upstream_code == "not-exposed"
    assert len(recorder.requests) == 1  # system.api.list only


def test_the_three_envelopes() -> None:
    plain = httpx.Response(200, json={"status": 0, "result": {"x": 1}})
    wrapped = httpx.Response(200, json={"api": [{"status": 0, "result": {"x": 1}}]})
    as_xml = httpx.Response(
        200,
        text='<?xml version="1.0" encoding="UTF-8"?>\n<elgg><status>0</status><result><x>1</x></result></elgg>',
    )
    assert read(plain) == {"x": 1} and read(wrapped) == {"x": 1} and read(as_xml) == {"x": "1"}
    listed = httpx.Response(
        200,
        text="<elgg><status>0</status><result><array_item><guid>5</guid></array_item><array_item><guid>6</guid></array_item></result></elgg>",
    )
    assert read(listed) == [{"guid": "5"}, {"guid": "6"}]
    with pytest.raises(ProtocolError):
        read(
            httpx.Response(
                200, text='<!DOCTYPE e [<!ENTITY a "aaaa">]><elgg><status>&a;</status></elgg>'
            )
        )
    with pytest.raises(ProtocolError):
        read(httpx.Response(200, json={"unexpected": True}))


@pytest.mark.parametrize(
    ("status", "message", "kind"),
    [
        (-1, "Method call failed the API Authentication", Unauthenticated),
        (-32, "API key invalid", Unauthenticated),
        (-1, "Method call failed the User Authentication", Unauthenticated),
        (-20, "Authentication token either missing, invalid or expired.", Unauthenticated),
        (-1, "Authentication failed", Unauthenticated),
        (-1, "Method call 'x.y' has not been implemented.", BadRequest),
        (-1, "group.join must be called using 'POST'", BadRequest),
        (-1, "Missing parameter guid in method group.get", BadRequest),
        (-1, "Group 5 not found", NotFound),
        (-1, "The members of this group are visible to its members only.", Forbidden),
        (-1, "Something odd", ProtocolError),
    ],
)
def test_error_statuses_map_to_the_hierarchy(
    status: int, message: str, kind: type[UpstreamError]
) -> None:
    error = error_from(status, message)
    assert type(error) is kind and error.source == "elgg"
    with pytest.raises(kind):  # the envelope reader maps the same way
        read(httpx.Response(200, json={"status": status, "message": message}))


def test_empty_elements_of_the_xml_view_are_absent_values() -> None:
    """Elgg's XML view writes a null owner or count as an empty element."""
    from connectors.elgg.client import _group

    group = _group({"guid": "7", "name": "Choir", "owner_guid": "", "members_count": ""})
    assert (group.guid, group.owner_guid, group.member_count) == (7, None, None)
