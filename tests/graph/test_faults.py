"""A fault matrix: each source, each way a legacy server misbehaves. The failing source's field
gets the right code; the other four sources still answer, and the next query works.

Only the failing source has a short timeout: the others keep their default, so a busy machine
slows them without failing them. No assertion reads a clock: a hanging or dripping source would
answer, whole, long after its deadline, so its `UPSTREAM_TIMEOUT` shows the deadline held."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from simulators.civicrm import api_key_of
from simulators.serve import serve_in_thread
from tests.conftest import Simulator, errors_by_path, moodle_login, running_gateway

TIMEOUT_S = 1.0
"""The failing source's timeout."""
HANG_S = 20.0
"""How long a hanging source waits before it answers (unless the gateway hangs up first)."""
CAP = 64 * 1024
FIELDS = {
    "flarum": "flarum: discussions(first: 1) { nodes { title } }",
    "moodle": "moodle: courses(first: 1) { nodes { fullName } }",
    "civicrm": "civicrm: contacts(first: 1) { nodes { displayName } }",
    "elgg": "elgg: groups(source: ELGG, first: 1) { nodes { name } }",
    "eqsash": "eqsash: articles(first: 1) { nodes { title } }",
}
BOMB = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    "<ResultSet><Result><x>&lol3;</x></Result></ResultSet>"
)
FAULTS = {
    "refused": "UPSTREAM_UNAVAILABLE",
    "hang": "UPSTREAM_TIMEOUT",
    "drip": "UPSTREAM_TIMEOUT",
    "http500": "UPSTREAM_UNAVAILABLE",
    "html": "UPSTREAM_PROTOCOL_ERROR",
    "truncated": "UPSTREAM_PROTOCOL_ERROR",
    "oversized": "UPSTREAM_PROTOCOL_ERROR",
    "xmlbomb": "UPSTREAM_PROTOCOL_ERROR",
}
XML_SOURCES = {"civicrm", "elgg"}  # the ones that parse XML answers
REASONS = {
    "refused": "could not be reached",
    "hang": "did not answer in time",
    "drip": "did not answer in time",
    "oversized": f"answered more than {64 * 1024} bytes",
    "xmlbomb": "unusable XML",
}
"""What the message must say, where a wrong reason could give the same code."""


async def misbehave(request: Request) -> Response:
    mode = request.path_params["mode"]
    if mode == "hang":
        for _ in range(200):
            if await request.is_disconnected():
                break
            await asyncio.sleep(HANG_S / 200)
        return Response('{"data": []}', media_type="application/json")
    if mode == "drip":  # every read succeeds; the whole answer never comes in time
        return StreamingResponse(drip(), media_type="application/json")
    if mode == "http500":
        return PlainTextResponse("Internal Server Error", status_code=500)
    if mode == "html":
        return Response(
            "<!DOCTYPE html><html><body>Please log in</body></html>", media_type="text/html"
        )
    if mode == "truncated":
        return Response(
            '{"data": [{"type": "discussions", "id": "1", "attrib', media_type="application/json"
        )
    if mode == "oversized":
        return Response('{"data": "' + "x" * (CAP * 4) + '"}', media_type="application/json")
    return Response(BOMB, media_type="text/xml")


async def drip() -> AsyncIterator[bytes]:
    """A usable JSON answer one byte every 0.25 s: 10 s for all of it, bounded."""
    for byte in b'{"data": [], "padding": "' + b"x" * 12 + b'"}':
        yield bytes([byte])
        await asyncio.sleep(0.25)


@pytest.fixture(scope="module")
def bad() -> Iterator[str]:
    app = Starlette(routes=[Route("/{mode}/{rest:path}", misbehave, methods=["GET", "POST"])])
    with serve_in_thread(app) as url:
        yield url


@pytest.fixture(scope="module")
def healthy(
    flarum: Simulator, moodle: Simulator, civicrm: Simulator, elgg: Simulator, eqsash: Simulator
) -> dict[str, Simulator]:
    return {"flarum": flarum, "moodle": moodle, "civicrm": civicrm, "elgg": elgg, "eqsash": eqsash}


def closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


CASES = [(s, f) for s in FIELDS for f in FAULTS if f != "xmlbomb" or s in XML_SOURCES]


@pytest.mark.parametrize(("source", "fault"), CASES, ids=[f"{s}-{f}" for s, f in CASES])
def test_a_fault_fails_its_own_source_only(
    source: str, fault: str, bad: str, healthy: dict[str, Simulator]
) -> None:
    urls = {name: sim.url for name, sim in healthy.items()}
    urls[source] = closed_port() if fault == "refused" else f"{bad}/{fault}"
    every: dict[str, Any] = {"max_response_bytes": CAP}
    options = {name: dict(every) for name in FIELDS}
    options[source]["timeout_s"] = TIMEOUT_S
    headers = {
        "X-Moodle-Token": moodle_login(healthy["moodle"].url, "ada.costa"),
        "X-Civicrm-Api-Key": api_key_of("ada.costa"),
    }
    with running_gateway(
        urls["flarum"],
        urls["moodle"],
        options["moodle"],
        civicrm_url=urls["civicrm"],
        civicrm_options=options["civicrm"],
        elgg_url=urls["elgg"],
        elgg_options=options["elgg"],
        eqsash_url=urls["eqsash"],
        eqsash_options=options["eqsash"],
        **options["flarum"],
    ) as gateway:
        response = gateway.post("{ " + " ".join(FIELDS.values()) + " }", **headers)
        assert response.status_code == 200
        body = response.json()
        errors = errors_by_path(body)
        assert set(errors) == {source}, errors
        assert errors[source]["extensions"] == {"code": FAULTS[fault], "source": source.upper()}
        assert REASONS.get(fault, "") in errors[source]["message"]
        assert body["data"][source] is None
        assert all(body["data"][name] for name in FIELDS if name != source)
        others = " ".join(field for name, field in FIELDS.items() if name != source)
        again = gateway.query("{ " + others + " }", **headers)
        assert "errors" not in again and all(again["data"].values())


def test_three_dripping_answers_at_once_each_end_in_time(
    bad: str, healthy: dict[str, Simulator]
) -> None:
    """The deadline holds per exchange, also when several drip at once."""
    with running_gateway(f"{bad}/drip", timeout_s=TIMEOUT_S, cache_ttl_s=0) as gateway:

        async def three() -> list[dict[str, Any]]:
            async with httpx.AsyncClient(timeout=30) as client:

                async def one(first: int) -> dict[str, Any]:
                    answer = await client.post(
                        f"{gateway.url}/graphql",
                        json={
                            "query": f"{{ discussions(first: {first}) {{ nodes {{ title }} }} }}"
                        },
                    )
                    result: dict[str, Any] = answer.json()
                    return result

                return await asyncio.gather(one(1), one(2), one(3))

        for body in asyncio.run(three()):
            (error,) = body["errors"]
            assert error["extensions"] == {"code": "UPSTREAM_TIMEOUT", "source": "FLARUM"}
