"""A failing or misbehaving upstream gives a coded error on the affected fields only."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from simulators.serve import serve_in_thread
from tests.conftest import (
    Gateway,
    Simulator,
    errors_by_path,
    flarum_headers,
    login,
    running_gateway,
)

QUERY = "{ discussions(first: 2) { nodes { title } } viewer { flarum { username } } }"


def misbehaving_flarum(mode: str, released: threading.Event) -> Starlette:
    async def answer(request: Request) -> Response:
        if mode == "html":
            return Response("<html><body>Maintenance</body></html>", media_type="text/html")
        if mode == "xml":
            return Response("<?xml version='1.0'?><error/>", media_type="application/xml")
        if mode == "garbage":
            return Response(b"{not json", media_type="application/vnd.api+json")
        if mode == "500":
            return PlainTextResponse("Internal Server Error", status_code=500)
        if mode == "wrong-shape":
            return Response('{"hello": "world"}', media_type="application/json")
        # "hang": nothing before the gateway's timeout; let go when the test is over, so that
        # stopping this server does not wait for the answer.
        await asyncio.to_thread(released.wait, 5)
        return Response("{}", media_type="application/json")

    return Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])])


@pytest.fixture
def upstream(request: pytest.FixtureRequest) -> Iterator[str]:
    released = threading.Event()
    with serve_in_thread(misbehaving_flarum(request.param, released)) as url:
        try:
            yield url
        finally:
            released.set()


@pytest.mark.parametrize(
    ("upstream", "code"),
    [
        ("html", "UPSTREAM_PROTOCOL_ERROR"),
        ("xml", "UPSTREAM_PROTOCOL_ERROR"),
        ("garbage", "UPSTREAM_PROTOCOL_ERROR"),
        ("wrong-shape", "UPSTREAM_PROTOCOL_ERROR"),
        ("500", "UPSTREAM_UNAVAILABLE"),
        ("hang", "UPSTREAM_TIMEOUT"),
    ],
    indirect=["upstream"],
)
def test_misbehaving_upstream_gives_a_coded_error_and_the_rest_resolves(
    upstream: str, code: str
) -> None:
    with running_gateway(upstream, timeout_s=0.5) as gateway:
        response = gateway.post(QUERY)
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"discussions": None, "viewer": {"flarum": None}}
    assert errors_by_path(body)["discussions"]["extensions"] == {"code": code, "source": "FLARUM"}


def test_unreachable_upstream_is_unavailable() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with running_gateway(f"http://127.0.0.1:{port}") as gateway:
        body = gateway.query(QUERY)
    error = errors_by_path(body)["discussions"]
    assert error["extensions"] == {"code": "UPSTREAM_UNAVAILABLE", "source": "FLARUM"}
    assert str(port) not in error["message"]


def test_malformed_graphql_is_bad_user_input(gateway: Gateway) -> None:
    for query in (
        "{ discussions(first: 2) { nodes { title }",
        "{ nope }",
        '{ discussions(first: "x") { totalCount } }',
    ):
        body = gateway.post(query).json()
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", query


def test_a_malformed_token_header_is_refused_not_forwarded(
    gateway: Gateway, flarum: Simulator
) -> None:
    flarum.counter.reset()
    body = gateway.query(
        "{ discussions(first: 1) { nodes { title } } }", **flarum_headers("abc; userId=1")
    )
    assert errors_by_path(body)["discussions"]["extensions"] == {
        "code": "UNAUTHENTICATED",
        "source": "FLARUM",
    }
    assert flarum.counter.total == 0


def test_no_token_reaches_the_logs(
    gateway: Gateway, flarum: Simulator, world: object, caplog: pytest.LogCaptureFixture
) -> None:
    token = login(flarum.url, "ada.costa")
    with caplog.at_level(logging.DEBUG):
        gateway.query(
            'query Mine { viewer { flarum { username } } discussion(id: "x") { title } }',
            **flarum_headers(token),
        )
        gateway.query(
            '{ discussion(id: "ZmxhcnVtOkRpc2N1c3Npb246OTk5OQ") { title } }',
            **flarum_headers(token),
        )
        httpx.get(
            f"{gateway.url}/graphql",
            params={"query": "{ viewer { flarum { username } } }"},
            headers=flarum_headers(token),
        )
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "op=Mine" in text  # the access log did run
    assert "upstream=flarum:1" in text
    assert token not in text


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (
            b"{not json",
            400,
            "Not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2",
        ),
        (b"{}", 400, "No GraphQL query found in the request"),
        (b'{"query": 5}', 400, "must be a string"),
    ],
)
def test_a_request_that_is_not_graphql_gets_a_graphql_error(
    gateway: Gateway, body: bytes, status: int, message: str
) -> None:
    response = httpx.post(
        f"{gateway.url}/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == status
    (error,) = response.json()["errors"]
    assert message in error["message"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
