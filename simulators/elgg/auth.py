"""Both layers of Elgg's authentication: the client (an API key, plainly or with an HMAC over
time, nonce, key, the raw query string and the hash of the raw POST body; ±25 h clock window; a
signature seen before is a replay) and the user (`auth_token` from `auth.gettoken`, valid for 60
minutes from creation)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import sqlite3
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote_plus

from starlette.requests import Request

from .site import ApiError, Site

__all__ = ["MISSING_KEY", "USER_REFUSED", "check_client", "get_token", "user_of"]

DRIFT_S = 90_000
TOKEN_LIFETIME_S = 3600
ALGORITHMS = {"sha": "sha1", "sha1": "sha1", "sha256": "sha256"}
"""Elgg 5's, for the signature and the POST hash: md5, sha384 and sha512 are refused."""
MISSING_KEY = "Missing API key"
"""Elgg 5's answer to every refused API authentication with its default settings (the API key
handler's message masks the HMAC handler's)."""
USER_REFUSED = "User could not be authenticated"


def get_token(site: Site, viewer: sqlite3.Row | None, p: dict[str, str]) -> Any:
    row = site.one("SELECT * FROM users WHERE username = ?", (p["username"],))
    if row is None or row["password"] != p["password"]:
        raise ApiError(USER_REFUSED)
    token = secrets.token_hex(16)
    with site.database.transaction() as db:
        db.execute(
            "INSERT INTO tokens VALUES (?,?,?)",
            (token, row["guid"], int(site.clock()) + TOKEN_LIFETIME_S),
        )
    return token


def refuse(site: Site, reason: str) -> ApiError:
    site.refusals.append(reason)
    return ApiError(MISSING_KEY)


def check_client(
    site: Site, request: Request, query: bytes, body: bytes, inputs: Mapping[str, str]
) -> None:
    key = request.headers.get("x-elgg-apikey")
    if key is None:
        if inputs.get("api_key") is None:
            raise refuse(site, "missing api_key")
        if inputs["api_key"] != site.api_key:
            site.refusals.append("unknown api_key")
            raise ApiError("Bad API key")
        return
    algo = ALGORITHMS.get(request.headers.get("x-elgg-hmac-algo", "").lower())
    if algo is None:
        raise refuse(site, "unsupported algorithm")
    if key != site.api_key:
        raise refuse(site, "unknown api key")
    sent_time = request.headers.get("x-elgg-time", "").strip()
    nonce = request.headers.get("x-elgg-nonce")
    if nonce is None and not site.legacy_hmac:
        raise refuse(site, "missing X-Elgg-nonce header")
    try:
        drift = abs(float(sent_time) - site.clock())
    except ValueError:
        raise refuse(site, "unreadable X-Elgg-time") from None
    if drift > DRIFT_S:
        raise refuse(site, "time outside the allowed window")
    message = (
        sent_time.encode() + (nonce or "").strip().encode() + key.strip().encode() + query.strip()
    )
    if request.method == "POST":
        posthash_algo = ALGORITHMS.get(request.headers.get("x-elgg-posthash-algo", "").lower())
        if posthash_algo is None:
            raise refuse(site, "unsupported posthash algorithm")
        posthash = hashlib.new(posthash_algo, body).hexdigest()
        if request.headers.get("x-elgg-posthash", "").strip() != posthash:
            raise refuse(site, "POST data hash does not match")
        message += posthash.encode()
    digest = hmac.new(site.secret.encode(), message, algo).digest()
    expected = digest.hex() if nonce is None else quote_plus(base64.b64encode(digest).decode())
    sent = request.headers.get("x-elgg-hmac", "")
    if not hmac.compare_digest(sent, expected):
        raise refuse(site, "HMAC mismatch")
    with site.replay_lock:
        if sent in site.seen_signatures:
            raise refuse(site, "replayed signature")
        site.seen_signatures.add(sent)


def user_of(site: Site, inputs: Mapping[str, str]) -> sqlite3.Row | None:
    token = inputs.get("auth_token")
    if not token:
        return None
    found = site.one(
        "SELECT u.* FROM tokens t JOIN users u ON u.guid = t.user_guid WHERE t.token = ? AND t.expires > ?",
        (token, int(site.clock())),
    )
    return found
