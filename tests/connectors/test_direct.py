"""The direct path of the upstream exchange (`Sending` over a `SharedClient`: the request built
with its URL parsed once, the auth flow run without `client.send`, the answer read from the
gateway's pool with no `httpx.Response` in between) against httpx's own path, for every
connector's auth: the same bytes reach the server, and the same answer comes back."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Callable, Generator
from typing import Any

import httpx
import pytest

from connectors.civicrm.auth import CivicrmAuth
from connectors.elgg.auth import ElggAuth
from connectors.eqsash.auth import EqsashAuth
from connectors.errors import ProtocolError
from connectors.flarum.auth import FlarumAuth
from connectors.http import SharedClient, Upstream, decode_json, new_client
from connectors.moodle.auth import MoodleAuth
from connectors.pipeline import Sending, read_response
from connectors.transport import PooledTransport

ANSWER = b'{"data": {"type": "users", "id": "1", "attributes": {"name": "Ad\\u00e0"}}}'


def answer(path: bytes) -> bytes:
    """What the server says: gzip-encoded under /gzip, 401 under /challenge, else plain."""
    body, extra = ANSWER, b""
    if path.startswith(b"/gzip"):
        body, extra = gzip.compress(ANSWER), b"Content-Encoding: gzip\r\n"
    status = b"401 Unauthorized" if path.startswith(b"/challenge") else b"200 OK"
    return (
        b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json; charset=utf-8\r\n"
        b"X-Request-Id: abc\r\nVary: Accept\r\nVary: Cookie\r\n"
        + extra
        + b"Content-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


@pytest.fixture
async def wire() -> AsyncIterator[tuple[str, list[bytes]]]:
    """A server on loopback that keeps every request's bytes as they arrived."""
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                seen.append(head + await reader.readexactly(length))
                writer.write(answer(head.split(b" ")[1]))
                await writer.drain()
        except asyncio.IncompleteReadError:
            writer.close()
            await writer.wait_closed()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}", seen


def httpx_client(transport: httpx.AsyncBaseTransport) -> httpx.AsyncClient:
    """httpx's own client, set up as `new_client` sets up the gateway's: its path is httpx's."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(5),
        headers={"User-Agent": "legacygraph"},
        follow_redirects=False,
        trust_env=False,
        transport=transport,
    )


def elgg(user_token: str | None = None) -> ElggAuth:
    return ElggAuth(
        api_key="k" * 40,
        secret="s" * 40,
        user_token=user_token,
        clock=lambda: 1_700_000_000.0,
        nonce=lambda: "0123456789abcdef",
    )


AUTHS: dict[str, Callable[[], httpx.Auth]] = {
    "flarum-key": lambda: FlarumAuth(api_key="k" * 40, user_id=1),
    "flarum-guest": lambda: FlarumAuth(),
    "moodle": lambda: MoodleAuth("t" * 32),
    "civicrm": lambda: CivicrmAuth("site-key", "user-key"),
    "elgg": lambda: elgg("u" * 32),
    "elgg-application": lambda: elgg(),
    "eqsash": lambda: EqsashAuth("e" * 20, token="t" * 20),
}
REQUESTS: dict[str, dict[str, Any]] = {
    "get": {"method": "GET", "path": "/api/users/1", "params": {"include": "groups"}},
    "get-encoded": {
        "method": "GET",
        "path": "/gzip/api",
        "params": {"q": "a b/é", "filter[email]": "a@b.test", "page[limit]": "50"},
    },
    "post-form": {"method": "POST", "path": "/rest", "form": {"wsfunction": "x", "n": "1 2"}},
    "post-json": {
        "method": "POST",
        "path": "/api/discussions",
        "json_body": {"data": {"attributes": {"title": "Ça va?"}}},
        "headers": {"X-Csrf": "none"},
    },
}


async def exchange(
    client: httpx.AsyncClient, url: str, auth: httpx.Auth, asked: dict[str, Any]
) -> tuple[httpx.Response, Any]:
    upstream = Upstream("flarum", client, url, auth)
    request = dict(asked)
    response: httpx.Response = await upstream.request(request.pop("method"), **request)
    return response, decode_json(response, "flarum")


def same_answer(one: httpx.Response, other: httpx.Response) -> None:
    assert one.status_code == other.status_code
    assert one.headers.multi_items() == other.headers.multi_items()
    assert one.content == other.content


@pytest.mark.parametrize("asked", REQUESTS.values(), ids=REQUESTS.keys())
@pytest.mark.parametrize("auth", AUTHS.values(), ids=AUTHS.keys())
async def test_the_direct_path_sends_the_same_bytes_and_reads_the_same_answer(
    wire: tuple[str, list[bytes]], auth: Callable[[], httpx.Auth], asked: dict[str, Any]
) -> None:
    url, seen = wire
    async with new_client(timeout_s=5, max_connections=2) as shared:
        direct, direct_decoded = await exchange(shared, url, auth(), asked)
        direct_again, _ = await exchange(shared, url, auth(), asked)  # its URL kept, reused
        upstream = Upstream("flarum", shared, url, auth())
        sending = upstream.pipeline
        while not isinstance(sending, Sending):
            sending = sending.next_layer  # type: ignore[attr-defined]
        assert sending.direct
    async with httpx_client(PooledTransport(max_connections=2)) as plain:
        through_httpx, httpx_decoded = await exchange(plain, url, auth(), asked)
    sent_direct, sent_again, sent_by_httpx = seen
    assert sent_direct == sent_again == sent_by_httpx
    same_answer(direct, through_httpx)
    same_answer(direct_again, through_httpx)
    assert (
        direct_decoded
        == httpx_decoded
        == {"data": {"type": "users", "id": "1", "attributes": {"name": "Adà"}}}
    )
    assert "content-encoding" not in direct.headers  # decoded, as httpx decodes it
    assert str(direct.request.url) == str(through_httpx.request.url)


@pytest.mark.parametrize("asked", REQUESTS.values(), ids=REQUESTS.keys())
@pytest.mark.parametrize("auth", AUTHS.values(), ids=AUTHS.keys())
async def test_over_a_mock_transport_the_direct_path_hands_over_the_same_request(
    auth: Callable[[], httpx.Auth], asked: dict[str, Any]
) -> None:
    handed: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        handed.append(request)
        path = request.url.raw_path
        return httpx.Response(
            200, content=answer(path).partition(b"\r\n\r\n")[2], headers=_headers(path)
        )

    async with new_client(
        timeout_s=5, max_connections=2, transport=httpx.MockTransport(respond)
    ) as shared:
        direct, direct_decoded = await exchange(shared, "http://source.test", auth(), asked)
    async with httpx_client(httpx.MockTransport(respond)) as plain:
        through_httpx, httpx_decoded = await exchange(plain, "http://source.test", auth(), asked)
    one, other = handed
    assert (one.method, one.url, one.headers.raw, one.content) == (
        other.method,
        other.url,
        other.headers.raw,
        other.content,
    )
    assert one.extensions == other.extensions  # the timeouts the transport reads
    same_answer(direct, through_httpx)
    assert direct_decoded == httpx_decoded


def _headers(path: bytes) -> list[tuple[bytes, bytes]]:
    head = answer(path).partition(b"\r\n\r\n")[0].split(b"\r\n")[1:]
    return [(name, value.strip()) for name, _, value in (line.partition(b":") for line in head)]


class Challenged(httpx.Auth):
    """An auth flow of two steps: a second request, with another header, after a 401."""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = "First"
        response = yield request
        if response.status_code == 401:
            retried = httpx.Request(
                "GET", request.url.copy_with(path="/api/again"), headers={"Authorization": "Second"}
            )
            yield retried


async def test_an_auth_flow_of_several_steps_is_run_to_its_end(
    wire: tuple[str, list[bytes]],
) -> None:
    url, seen = wire
    async with new_client(timeout_s=5, max_connections=2) as shared:
        response = await Upstream("flarum", shared, url, Challenged()).request("GET", "/challenge")
    assert response.status_code == 200
    assert [sent.split(b"\r\n")[0] for sent in seen] == [
        b"GET /challenge HTTP/1.1",
        b"GET /api/again HTTP/1.1",
    ]
    assert b"authorization: Second" in seen[1]


async def test_the_direct_path_refuses_an_answer_over_the_cap_and_drops_its_connection(
    wire: tuple[str, list[bytes]],
) -> None:
    url, _ = wire
    async with new_client(timeout_s=5, max_connections=1) as shared:
        small = Upstream("flarum", shared, url, FlarumAuth(), max_response_bytes=20)
        with pytest.raises(ProtocolError, match="more than 20 bytes"):
            await small.request("GET", "/api")
        # The gzip answer is short on the wire and long once decoded: the cap holds for both.
        with pytest.raises(ProtocolError, match="more than 20 bytes"):
            await small.request("GET", "/gzip/api")
        fits = Upstream("flarum", shared, url, FlarumAuth())
        assert (await fits.request("GET", "/api")).content == ANSWER  # the pool still serves


def test_a_client_with_hooks_or_cookies_goes_through_httpx() -> None:
    async def hook(request: httpx.Request) -> None:
        return None

    plain = httpx_client(httpx.MockTransport(lambda request: httpx.Response(200)))
    hooked = new_client(timeout_s=5, max_connections=1)
    hooked.event_hooks = {"request": [hook], "response": []}
    for client, direct in (
        (plain, False),
        (hooked, False),
        (new_client(timeout_s=5, max_connections=1), True),
    ):
        layer = Upstream("flarum", client, "http://source.test", FlarumAuth()).pipeline
        while not isinstance(layer, Sending):
            layer = layer.next_layer  # type: ignore[attr-defined]
        assert layer.direct is direct, client
    assert isinstance(hooked, SharedClient)


@pytest.mark.parametrize("body", [ANSWER, b""], ids=["body", "empty"])
def test_a_response_read_directly_is_the_response_httpx_makes(body: bytes) -> None:
    request = httpx.Request("GET", "http://source.test/api")
    head = [(b"Content-Type", b"application/json; charset=utf-8"), (b"Vary", b"Accept")]
    made = httpx.Response(200, headers=head, content=body, request=request)
    read = read_response(200, list(head), body, request)
    assert read.headers.raw == made.headers.raw
    assert (read.content, read.text, read.encoding) == (made.content, made.text, made.encoding)
    assert (read.is_closed, read.is_stream_consumed) == (made.is_closed, made.is_stream_consumed)
    assert read.num_bytes_downloaded == made.num_bytes_downloaded
    assert read.request is request and read.extensions == made.extensions == {}
    if body:
        assert read.json() == made.json()
    assert list(read.iter_bytes()) == list(made.iter_bytes())  # read again: from memory
