"""The real systems' recorded answers (`tests/recordings/`), served to connectors in tests.

The recordings are the contract with the real legacy systems: a replay test feeds a connector
what a real Moodle, Flarum or CiviCRM answered, as the role that was recorded, and fails on any
request the recordings do not hold, so that a test can only pass on what the real system said.
They are part of the repository, so that the tests pass on any clone.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx

from graph.config import Settings
from graph.server.app import create_app

__all__ = [
    "RECORDINGS",
    "RECORDINGS_ENV",
    "RecordedFlarum",
    "RecordedMoodle",
    "ReplayedFlarum",
    "corpus",
    "exchanges",
    "flatten",
    "gateway_over",
    "operator_corpora",
    "response_of",
]

RECORDINGS = Path(__file__).resolve().parent / "recordings"


RECORDINGS_ENV = "LEGACYGRAPH_RECORDINGS"
"""Corpora written by `legacygraph record` (folders, separated by `os.pathsep`), for the
replay tests of `tests/graph/test_recorded_sites.py` (`make test RECORDINGS=DIR` sets it)."""


def operator_corpora() -> list[Path]:
    """The corpora `LEGACYGRAPH_RECORDINGS` names (each a folder with `corpus.json`)."""
    named = os.environ.get(RECORDINGS_ENV, "")
    return [Path(part) for part in named.split(os.pathsep) if part.strip()]


def corpus(name: str | Path) -> Path:
    """The folder of one recorded system (`moodle-4.5.6`), under `tests/recordings/`, or a
    corpus folder given as a path."""
    path = name if isinstance(name, Path) else RECORDINGS / name
    if not path.is_dir():
        raise FileNotFoundError(f"no recording named {name!r} in {RECORDINGS}")
    return path


@cache
def exchanges(name: str | Path, file: str = "exchanges.jsonl") -> tuple[dict[str, Any], ...]:
    """Every recorded exchange of corpus `name` (or of another of its files, a later round of
    recording), in recording order."""
    with (corpus(name) / file).open(encoding="utf-8") as lines:
        return tuple(json.loads(line) for line in lines if line.strip())


def flatten(arguments: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Arguments as PHP form fields (`courseids[0]=2`), written independently of the connector's
    own encoder so that the two are checked against each other."""
    pairs: list[tuple[str, str]] = []
    for key, value in arguments.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, Mapping):
            pairs += flatten(value, name)
        elif isinstance(value, list | tuple):
            pairs += flatten(dict(enumerate(value)), name)
        elif isinstance(value, bool):
            pairs.append((name, "1" if value else "0"))
        elif value is not None:
            pairs.append((name, str(value)))
    return pairs


MOODLE_RESERVED = {"wstoken", "wsfunction", "moodlewsrestformat"}
MULTICALL = "tool_mobile_call_external_functions"


def _form_key(pairs: Iterable[tuple[str, str]]) -> frozenset[tuple[str, str]]:
    return frozenset((k, v) for k, v in pairs if k not in MOODLE_RESERVED)


class RecordedMoodle:
    """The recorded Moodle 4.5.6 site as an httpx handler.

    A request's `wstoken` names the recorded user (`teacher1`, `student1`, `admin`; `badtoken`
    for the unknown token). It is answered with the body recorded for that user, function and
    exactly those parameters; a multi-call is answered from its own recording, or composed from
    the single calls recorded for each of its requests, stopping at the first failure as Moodle
    does (fact 22). A request nobody recorded is kept in `missing` and answered with an error
    document, so a test that strays from the recordings fails. `recording` names another file
    of the corpus (`issue25.jsonl`: a site rebuilt later, in its own state); `in_order` serves
    a request asked again with the next answer recorded for it.
    """

    def __init__(
        self,
        recording: str = "exchanges.jsonl",
        *,
        in_order: bool = False,
        corpus: str | Path = "moodle-4.5.6",
    ) -> None:
        """`corpus`: another corpus in this format (a folder `legacygraph record` wrote)."""
        self.answers: dict[tuple[str, str, frozenset[tuple[str, str]]], list[Any]] = {}
        for exchange in exchanges(corpus, recording):
            if exchange["function"] == "login/token.php" or exchange["method"] != "POST":
                continue
            if exchange["params"].get("moodlewsrestformat") != "json":
                continue
            user = exchange["user"] or exchange["as"]
            key = (user, exchange["function"], _form_key(exchange["params"].items()))
            self.answers.setdefault(key, []).append(exchange["body"])
        self.in_order = in_order
        self.served: dict[tuple[str, str, frozenset[tuple[str, str]]], int] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.missing: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        form = dict(parse_qsl(request.content.decode(), keep_blank_values=True))
        user, function = form.get("wstoken", "notoken"), form.get("wsfunction", "<none>")
        self.requests.append((user, function, form))
        body = self.answer(user, function, _form_key(form.items()))
        if body is None and function == MULTICALL:
            body = self.compose(user, form)
        if body is None:
            self.missing.append(f"{user}: {function} {sorted(_form_key(form.items()))}")
            body = {
                "exception": "notrecorded",
                "errorcode": "notrecorded",
                "message": "not recorded",
            }
        return httpx.Response(200, json=body)

    def answer(self, user: str, function: str, form: frozenset[tuple[str, str]]) -> Any:
        """The first recorded answer; `in_order`, the answers of a request asked again in the
        order the site gave them (a call that wrote answers differently the next time)."""
        answers = self.answers.get((user, function, form))
        if not answers:
            return None
        if not self.in_order:
            return answers[0]
        served = self.served.get((user, function, form), 0)
        self.served[(user, function, form)] = served + 1
        return answers[min(served, len(answers) - 1)]

    def compose(self, user: str, form: Mapping[str, str]) -> Any:
        responses: list[dict[str, Any]] = []
        index = 0
        while f"requests[{index}][function]" in form:
            function = form[f"requests[{index}][function]"]
            arguments = json.loads(form.get(f"requests[{index}][arguments]", "{}"))
            body = self.answer(user, function, _form_key(flatten(arguments)))
            if body is None:
                return None
            if isinstance(body, dict) and "exception" in body:
                inner = {"message": body["message"], "errorcode": body.get("errorcode")}
                responses.append({"error": True, "exception": json.dumps(inner)})
                break
            responses.append({"error": False, "data": json.dumps(body)})
            index += 1
        return {"responses": responses}

    def functions(self) -> list[str]:
        """The functions asked, in order, with each multi-call's inner functions after it."""
        asked = []
        for _, function, form in self.requests:
            asked.append(function)
            index = 0
            while f"requests[{index}][function]" in form:
                asked.append("  " + form[f"requests[{index}][function]"])
                index += 1
        return asked


def _query_key(url: httpx.URL | str) -> tuple[str, frozenset[tuple[str, str]]]:
    """A path and its decoded query parameters, in no order (PHP reads them so)."""
    parsed = httpx.URL(str(url))
    pairs = parse_qsl(parsed.query.decode(), keep_blank_values=True)
    return parsed.path, frozenset(pairs)


class RecordedFlarum:
    """The recorded Flarum 1.7.2 forum as an httpx handler.

    `Authorization: Token <label>` acts as the recorded role label (`member`, `admin`,
    `moderator`, `member2`, `unconfirmed`, `badtoken`); no header is a guest. A request is answered
    with what was recorded for that role, method, path and query parameters (in any order), and,
    for writes, that JSON body; logins are matched by body alone. A request nobody recorded is kept
    in `missing` and answered 599, so a test that strays from the recordings fails.
    """

    def __init__(self, file: str = "exchanges.jsonl") -> None:
        """`file`: one recording round of the corpus (each round is one state of the site)."""
        self.answers: dict[tuple[str, str, str, frozenset[tuple[str, str]], str], Any] = {}
        for exchange in exchanges("flarum-1.7.2", file):
            role = "" if exchange["path"] == "/api/token" else self.role_of(exchange)
            path, query = _query_key(exchange["path"])
            body = json.dumps(exchange["body"], sort_keys=True)
            key = (role, exchange["method"], path, query, body)
            self.answers.setdefault(key, exchange)
        self.requests: list[httpx.Request] = []
        self.missing: list[str] = []

    @staticmethod
    def role_of(exchange: Mapping[str, Any]) -> str:
        header = exchange["headers"].get("Authorization", "")
        return str(exchange["as"]) if header else "guest"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        header = request.headers.get("Authorization", "")
        role = header.removeprefix("Token ").split(";")[0] if header else "guest"
        path, query = _query_key(request.url)
        if path == "/api/token":
            role = ""
        body = (
            json.dumps(json.loads(request.content), sort_keys=True) if request.content else "null"
        )
        exchange = self.answers.get((role, request.method, path, query, body))
        if exchange is None:
            self.missing.append(f"{role}: {request.method} {path} {sorted(query)} {body[:80]}")
            return httpx.Response(599, text="not recorded")
        return response_of(exchange)


def response_of(exchange: Mapping[str, Any]) -> httpx.Response:
    """The recorded answer of a Flarum or CiviCRM exchange, as httpx would have received it."""
    answer = exchange["response"]
    content = b"" if answer is None else json.dumps(answer).encode()
    headers = {"content-type": exchange["content_type"]} if exchange.get("content_type") else {}
    return httpx.Response(exchange["http_status"], content=content, headers=headers)


class ReplayedFlarum:
    """The gateway over a `RecordedFlarum`: queries as a recorded role, and the paths asked."""

    def __init__(self, site: RecordedFlarum, client: httpx.AsyncClient) -> None:
        self.site = site
        self.client = client

    async def query(self, role: str, query: str) -> dict[str, Any]:
        headers = {} if role == "guest" else {"X-Flarum-Token": role}
        response = await self.client.post("/graphql", json={"query": query}, headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert self.site.missing == [], "the gateway asked what the real forum was not asked"
        return body

    def paths(self) -> list[str]:
        """The paths the gateway asked, in the order it asked them."""
        return [r.url.path for r in self.site.requests]


@asynccontextmanager
async def gateway_over(settings: Settings, source: str, handler: Any) -> AsyncIterator[Any]:
    """The gateway in process, with `source`'s network replaced by `handler` (a recorded site),
    and an httpx client to query it."""
    app = create_app(settings, transports={source: httpx.MockTransport(handler)})
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client
