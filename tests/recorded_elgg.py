"""The real Elgg 5.1.11's recorded answers (`tests/recordings/elgg-5.1.11/`), served in tests.

`answers/<setting>/NN_*.txt` are single requests to the bare site (core methods and a probe
plugin); `exchanges.jsonl` is every request the gateway made to the site running this project's
plugin (`integrations/elgg/legacygraph/`), and `graph.jsonl` the GraphQL operations that made them,
with the gateway's answers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, quote_plus

import httpx

from tests.realworld import corpus, exchanges

__all__ = ["CORPUS", "RecordedElgg", "answer", "graph_cases", "ids"]

CORPUS = "elgg-5.1.11"
RESERVED = {"auth_token", "api_key"}
ANYONE = {"system.api.list", "auth.gettoken"}
"""Core methods whose answer does not depend on the caller's token."""
MISSING_KEY = {"status": -1, "message": "Missing API key"}
"""Elgg 5's answer to a refused signature with its default settings (fact 13)."""


@dataclass(frozen=True)
class Answer:
    """One recorded request line (`GET ?method=...`), its headers, and the site's JSON."""

    request: str
    headers: Mapping[str, str]
    body: dict[str, Any]

    def response(self, **headers: str) -> httpx.Response:
        return httpx.Response(200, json=self.body, headers=headers)


def answer(name: str, setting: str = "key-and-hmac") -> Answer:
    """`answer("01_system.api.list")`: a file of `answers/<setting>/`."""
    text = (corpus(CORPUS) / "answers" / setting / f"{name}.txt").read_text(encoding="utf-8")
    head, _, body = text.partition("\nHTTP 200\n")
    request, *header_lines = head.splitlines()
    headers = dict(line.strip().split(": ", 1) for line in header_lines)
    return Answer(request, headers, json.loads(body))


@cache
def ids() -> dict[str, int]:
    return dict(json.loads((corpus(CORPUS) / "ids.json").read_text(encoding="utf-8")))


@cache
def graph_cases() -> tuple[dict[str, Any], ...]:
    with (corpus(CORPUS) / "graph.jsonl").open(encoding="utf-8") as lines:
        return tuple(json.loads(line) for line in lines if line.strip())


def token_of(user: str) -> str:
    """The token the replayed site gives `user`: as long as Elgg's (32 characters)."""
    return f"{user}-token".ljust(32, "0")


class RecordedElgg:
    """The recorded site as an httpx handler.

    A request is answered with what the site answered the recorded user (by `auth_token`) for the
    same verb, method and parameters; where the same request was recorded several times (before
    and after a join), the recordings are served in order, the last one again after that. Every
    signed request is checked with `secret` as Elgg checks it (sha1 or sha256, the POST hash
    included): a bad one is kept in `refused` and answered as Elgg 5 answers it. A request nobody
    recorded is kept in `missing` and answered with an error, so a test that strays from the
    recordings fails.
    """

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.queues: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for exchange in exchanges(CORPUS):
            if exchange["response"] == MISSING_KEY:
                continue  # a refused signature: answered by the check below
            key = self.key(
                exchange["user"] if exchange["elgg_method"] not in ANYONE else "",
                exchange["method"],
                exchange["params"],
                exchange["body"] or {},
            )
            self.queues.setdefault(key, []).append(exchange)
        self.requests: list[httpx.Request] = []
        self.missing: list[str] = []
        self.refused: list[str] = []

    @staticmethod
    def key(
        user: str, verb: str, params: Mapping[str, str], form: Mapping[str, str]
    ) -> tuple[str, ...]:
        fields = {**params, **form}
        kept = sorted(f"{k}={v}" for k, v in fields.items() if k not in RESERVED)
        return (user, verb, *kept)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        params = dict(parse_qsl(request.url.query.decode(), keep_blank_values=True))
        form = dict(parse_qsl(request.content.decode(), keep_blank_values=True))
        token = params.get("auth_token") or form.get("auth_token") or ""
        user = token.split("-token")[0] if token else ""
        if params.get("method") in ANYONE:
            user = ""
        # Elgg 5 checks API authentication only for methods that require it (not these).
        problem = None if params.get("method") in ANYONE else self.unsigned(request)
        if problem:
            self.refused.append(problem)
            return httpx.Response(200, json=MISSING_KEY)
        key = self.key(user, request.method, params, form)
        queue = self.queues.get(key)
        if not queue:
            self.missing.append(f"not recorded: {key}")
            return httpx.Response(200, json={"status": -1, "message": "not recorded"})
        exchange = queue.pop(0) if len(queue) > 1 else queue[0]
        body = exchange["response"]
        if params.get("method") == "auth.gettoken" and body.get("status") == 0:
            body = {**body, "result": token_of(form["username"])}
        headers = {"content-type": exchange["content_type"]}
        return httpx.Response(exchange["http_status"], json=body, headers=headers)

    def unsigned(self, request: httpx.Request) -> str | None:
        """Why Elgg 5 would refuse the request's signature, written from its code
        (`elgg_ws_calculate_hmac`, `elgg_ws_calculate_posthash`); None if it passes."""
        h = request.headers
        algorithms = {"sha": hashlib.sha1, "sha1": hashlib.sha1, "sha256": hashlib.sha256}
        if h.get("X-Elgg-hmac-algo") not in algorithms:
            return f"algorithm {h.get('X-Elgg-hmac-algo')!r}"
        message = h["X-Elgg-time"].strip() + h["X-Elgg-nonce"].strip() + h["X-Elgg-apikey"]
        message += request.url.query.decode().strip()
        if request.method == "POST":
            algorithm = h.get("X-Elgg-posthash-algo", "")
            if algorithm not in algorithms:
                return f"posthash algorithm {algorithm!r}"
            if h["X-Elgg-posthash"] != algorithms[algorithm](request.content).hexdigest():
                return "posthash"
            message += h["X-Elgg-posthash"]
        digest = hmac.new(
            self.secret.encode(), message.encode(), algorithms[h["X-Elgg-hmac-algo"]]
        ).digest()
        if h["X-Elgg-hmac"] != quote_plus(base64.b64encode(digest).decode()):
            return "signature"
        return None

    def methods(self) -> list[str]:
        """The Elgg methods asked, in order."""
        return [dict(parse_qsl(r.url.query.decode()))["method"] for r in self.requests]
