"""What `connectors/internals.py` reaches of httpx is still there and still behaves, and what the
connectors rely on of httpx's public behaviour in its place still holds: an upgrade that changes
one fails here first, naming it."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from connectors.http import SharedClient, new_client
from connectors.internals import leave_read

BODY = b'{"data": {"id": "1", "attributes": {"name": "Ad\\u00e0"}}}'
HEAD = [(b"Content-Type", b"application/json; charset=utf-8"), (b"Vary", b"Accept")]


def described(response: httpx.Response) -> dict[str, Any]:
    """Everything a connector or the cache reads of a response."""
    return {
        "status": response.status_code,
        "headers": response.headers.raw,
        "content": response.content,
        "text": response.text,
        "encoding": response.encoding,
        "closed": response.is_closed,
        "consumed": response.is_stream_consumed,
        "downloaded": response.num_bytes_downloaded,
        "extensions": response.extensions,
    }


@pytest.mark.parametrize("body", [BODY, b""], ids=["body", "empty"])
def test_httpx_still_keeps_a_read_body_where_leave_read_puts_it(body: bytes) -> None:
    request = httpx.Request("GET", "http://source.test/api")
    made = httpx.Response(200, headers=HEAD, content=body, request=request)
    assert vars(made)["_content"] == body, "httpx no longer keeps a read body as `_content`"
    head = list(HEAD) + ([(b"Content-Length", str(len(body)).encode())] if body else [])
    stream = httpx.ByteStream(body)
    left = leave_read(httpx.Response(200, headers=head, stream=stream, request=request), body)
    assert described(left) == described(made)
    assert left.request is request
    if body:
        assert left.json() == made.json() == json.loads(body)
    # Read again, as a connector or the cache may: from memory, the same bytes.
    assert left.read() == body
    assert list(left.iter_bytes()) == list(made.iter_bytes())


async def test_a_response_left_read_reads_again_asynchronously() -> None:
    stream = httpx.ByteStream(BODY)
    left = leave_read(httpx.Response(200, headers=HEAD, stream=stream), BODY)
    assert await left.aread() == BODY
    assert [chunk async for chunk in left.aiter_bytes()] == [BODY]
    await left.aclose()  # closing a read response again is no error


async def test_httpx_sends_every_request_through_the_sole_transport() -> None:
    """`Sending`'s direct path hands requests to `SharedClient.sole_transport` itself: httpx
    must send them there too (no mount, proxy or environment variable in between)."""
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, content=b"ok")

    transport = httpx.MockTransport(answer)
    client = new_client(timeout_s=5, max_connections=1, transport=transport)
    assert isinstance(client, SharedClient) and client.sole_transport is transport
    async with client:
        for url in ("http://source.test/a", "https://other.test:8443/b?c=1"):
            assert (await client.get(url)).content == b"ok"
    assert seen == ["http://source.test/a", "https://other.test:8443/b?c=1"]


@pytest.mark.parametrize(
    "options",
    [
        {},  # httpx's own transport, made inside it
        {"trust_env": True},  # the environment's proxies become mounts
        {"proxy": "http://proxy.test:3128"},
        {"mounts": {"https://": httpx.MockTransport(lambda request: httpx.Response(200))}},
    ],
    ids=["no-transport", "trust-env", "proxy", "mounts"],
)
def test_a_client_that_may_route_elsewhere_has_no_sole_transport(options: dict[str, Any]) -> None:
    given = {"trust_env": False, "transport": httpx.MockTransport(lambda r: httpx.Response(200))}
    if not options:
        del given["transport"]
    client = SharedClient(**{**given, **options})
    assert client.sole_transport is None


@pytest.mark.parametrize(
    ("url", "params", "headers"),
    [
        ("http://source.test/api/users", None, None),
        ("http://source.test/api/users?a=1", {"page[limit]": "2", "b": "é"}, None),
        ("http://source.test/api", {"x": "1"}, {"Authorization": "Token t", "user-agent": "me"}),
    ],
)
def test_a_shared_clients_request_is_the_one_httpx_builds(
    url: str, params: dict[str, str] | None, headers: dict[str, str] | None
) -> None:
    """`SharedClient.build_request` keeps the URL httpx merged and merges the client's headers
    with public parts: the request must stay the one httpx's own `build_request` makes."""
    options: dict[str, Any] = {
        "timeout": httpx.Timeout(5),
        "headers": {"User-Agent": "legacygraph"},
        "trust_env": False,
        "transport": httpx.MockTransport(lambda request: httpx.Response(200)),
    }
    shared, plain = SharedClient(**options), httpx.AsyncClient(**options)
    for body in ({"json": {"a": 1}}, {"data": {"f": "v"}}, {}):
        for _ in range(2):  # the URL parsed, then the URL kept
            ours = shared.build_request("POST", url, params=params, headers=headers, **body)
            theirs = plain.build_request("POST", url, params=params, headers=headers, **body)
            assert (ours.method, ours.url, ours.headers.raw, ours.content) == (
                theirs.method,
                theirs.url,
                theirs.headers.raw,
                theirs.content,
            )
            assert ours.extensions == theirs.extensions


def test_a_relative_url_is_joined_to_the_base_url_as_httpx_joins_it() -> None:
    options: dict[str, Any] = {"base_url": "http://source.test/sub", "params": {"k": "v"}}
    shared, plain = SharedClient(**options), httpx.AsyncClient(**options)
    for _ in range(2):
        ours = shared.build_request("GET", "/api/x", params={"p": "1"})
        assert ours.url == plain.build_request("GET", "/api/x", params={"p": "1"}).url
    assert str(ours.url) == "http://source.test/sub/api/x?k=v&p=1"


@pytest.mark.parametrize(
    ("url", "asked"),
    [
        ("http://source.test/api", [{"f": True}, {"f": 1}, {"f": 1.0}, {"f": "1"}, {"f": "true"}]),
        ("http://source.test/a?x=1", [{}, None, {}, None, {"y": "2"}]),
        ("http://source.test/a?x=1", [None, {}, None]),
        ("http://source.test/api", [{"f": ["a", "b"]}, {"f": ("a", "b")}, {"f": "a"}]),
        ("http://source.test/api", [{"n": None}, {"n": ""}, {"n": 0}, {"n": False}]),
    ],
)
def test_parameters_that_compare_equal_keep_no_url_of_the_other(
    url: str, asked: list[dict[str, Any] | None]
) -> None:
    """Keys that compare equal (`True == 1 == 1.0`, `None` and `{}` both empty) must not hand
    one request the URL kept for the other: each URL is the one httpx builds."""
    shared, plain = SharedClient(trust_env=False), httpx.AsyncClient(trust_env=False)
    for _ in range(2):
        for params in asked:
            ours = shared.build_request("GET", url, params=params)
            assert ours.url == plain.build_request("GET", url, params=params).url, params
