"""Elgg's two authentication layers as one `httpx.Auth`: the HMAC that proves the client is an
approved application, and the user's `auth_token`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Generator
from typing import Literal
from urllib.parse import quote_plus

import httpx

from ..http import rebuilt, with_form_fields

__all__ = ["ALGORITHMS", "POSTHASH_ALGORITHM", "ElggAuth", "signature"]

ALGORITHMS = {"sha": "sha1", "sha1": "sha1", "sha256": "sha256"}
"""What Elgg 5 accepts for the signature and the POST hash; md5, sha384 and sha512 are refused
("Algorithm 'md5' is not supported or has been disabled."). Elgg 1.8 to 4 accept these too."""
POSTHASH_ALGORITHM = "sha256"
Variant = Literal["standard", "legacy"]


def signature(
    *,
    secret: str,
    algorithm: str,
    time_text: str,
    nonce: str,
    api_key: str,
    query: str,
    posthash: str = "",
    variant: Variant = "standard",
) -> str:
    """Elgg's request signature: HMAC over trim(time) + trim(nonce) + trim(api_key) + trim(query)
    [+ trim(posthash)], then base64 of the raw digest, URL-encoded as PHP's urlencode does.
    The older variant has no nonce and sends the digest in hex."""
    message = time_text.strip() + nonce.strip() + api_key.strip() + query.strip() + posthash.strip()
    digest = hmac.new(secret.encode(), message.encode(), ALGORITHMS[algorithm]).digest()
    return digest.hex() if variant == "legacy" else quote_plus(base64.b64encode(digest).decode())


class ElggAuth(httpx.Auth):
    """Signs each request; adds the user's `auth_token` (to the query of a GET, the body of a
    POST) before signing, so the signature covers exactly the bytes that are sent."""

    requires_request_body = True

    def __init__(
        self,
        *,
        api_key: str,
        secret: str,
        algorithm: str = "sha256",
        variant: Variant = "standard",
        user_token: str | None = None,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = lambda: secrets.token_hex(8),
    ) -> None:
        if algorithm not in ALGORITHMS:
            raise ValueError(f"Elgg signs with sha1 or sha256 only, not {algorithm!r}")
        self._api_key = api_key
        self._secret = secret
        self._algorithm = algorithm
        self._variant: Variant = variant
        self._user_token = user_token
        self._clock = clock
        self._nonce = nonce

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._user_token and request.method == "POST":
            request = with_form_fields(request, {"auth_token": self._user_token})
        elif self._user_token:
            request = rebuilt(
                request, url=request.url.copy_merge_params({"auth_token": self._user_token})
            )
        url, body = request.url, request.content
        headers: dict[str, str] = {}
        moment = self._clock()
        time_text = f"{moment:.4f}" if self._variant == "legacy" else str(int(moment))
        nonce = "" if self._variant == "legacy" else self._nonce()
        posthash = ""
        if request.method == "POST":
            posthash = hashlib.new(POSTHASH_ALGORITHM, body).hexdigest()
            headers.update(
                {"X-Elgg-posthash": posthash, "X-Elgg-posthash-algo": POSTHASH_ALGORITHM}
            )
        headers.update(
            {
                "X-Elgg-apikey": self._api_key,
                "X-Elgg-time": time_text,
                "X-Elgg-hmac-algo": self._algorithm,
                "X-Elgg-hmac": signature(
                    secret=self._secret,
                    algorithm=self._algorithm,
                    time_text=time_text,
                    nonce=nonce,
                    api_key=self._api_key,
                    query=url.query.decode(),
                    posthash=posthash,
                    variant=self._variant,
                ),
            }
        )
        if nonce:
            headers["X-Elgg-nonce"] = nonce
        yield rebuilt(request, headers=headers)
