"""The pooled transport under every source's client, against real sockets on loopback."""

from __future__ import annotations

import asyncio
import gzip
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from connectors.errors import ProtocolError, Unavailable
from connectors.http import Upstream, new_client

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def serve(handler: Handler) -> tuple[asyncio.Server, str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


async def read_head(reader: asyncio.StreamReader) -> tuple[str, dict[str, str], bytes]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:] if h)}
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return head[0], headers, body


def answer(body: bytes, *extra: str) -> bytes:
    lines = ["HTTP/1.1 200 OK", "Content-Type: application/json", *extra]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@pytest.fixture
async def echo() -> AsyncIterator[tuple[str, list[tuple[str, dict[str, str], bytes]]]]:
    """A server that answers every request with a cookie and notes what it got."""
    seen: list[tuple[str, dict[str, str], bytes]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                seen.append(await read_head(reader))
                writer.write(answer(b'{"ok": true}', "Set-Cookie: PHPSESSID=someone; Path=/"))
                await writer.drain()
        except asyncio.IncompleteReadError:
            writer.close()
            await writer.wait_closed()

    server, url = await serve(handle)
    async with server:
        yield url, seen


async def test_the_request_goes_out_as_httpx_wrote_it(
    echo: tuple[str, list[tuple[str, dict[str, str], bytes]]],
) -> None:
    url, seen = echo
    async with new_client(timeout_s=5, max_connections=2) as client:
        # Signatures (Elgg's HMAC) cover the query as written: it must not be re-encoded.
        first = await client.get(f"{url}/api?email=a%40b.test&q=x+y&sig=%2F%3D")
        await client.post(f"{url}/api", json={"k": "v"}, headers={"X-Token": "t"})
    assert first.json() == {"ok": True}
    (line, headers, _), (post_line, post_headers, body) = seen
    assert line == "GET /api?email=a%40b.test&q=x+y&sig=%2F%3D HTTP/1.1"
    assert headers["user-agent"] == "legacygraph"
    assert "cookie" not in post_headers  # the cookie of the first answer is not kept
    assert post_line == "POST /api HTTP/1.1"
    assert (post_headers["x-token"], body) == ("t", b'{"k":"v"}')


async def test_a_compressed_answer_is_read_decoded() -> None:
    payload = b'{"title": "' + b"x" * 5000 + b'"}'

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(answer(gzip.compress(payload), "Content-Encoding: gzip"))
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    server, url = await serve(handle)
    async with server, new_client(timeout_s=5, max_connections=1) as client:
        upstream = Upstream("forum", client, url, httpx.Auth())
        response = await upstream.request("GET", "/api")
    assert response.content == payload


async def test_no_server_is_unavailable_not_a_timeout() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with new_client(timeout_s=5, max_connections=1) as client:
        upstream = Upstream("forum", client, f"http://127.0.0.1:{port}", httpx.Auth())
        with pytest.raises(Unavailable, match="could not be reached \\(ConnectError\\)"):
            await upstream.request("GET", "/api")


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (b"garbage\r\n\r\n", httpx.RemoteProtocolError),
        (b"", httpx.RemoteProtocolError),  # the connection closed before any answer
        (b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{}", httpx.ReadError),  # cut short
    ],
)
async def test_broken_answers_are_httpx_transport_errors(
    reply: bytes, error: type[httpx.TransportError]
) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(reply)
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    server, url = await serve(handle)
    async with server, new_client(timeout_s=5, max_connections=1) as client:
        with pytest.raises(error):
            response = await client.get(f"{url}/api")
            await response.aread()


async def test_a_silent_server_is_a_read_timeout() -> None:
    hung_up = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        await reader.read()  # says nothing until the client gives up and hangs up
        writer.close()
        await writer.wait_closed()
        hung_up.set()

    server, url = await serve(handle)
    async with server:
        async with new_client(timeout_s=0.3, max_connections=1) as client:
            with pytest.raises(httpx.ReadTimeout):
                await client.get(f"{url}/api")
        await asyncio.wait_for(hung_up.wait(), 5)


async def test_the_pool_holds_at_most_max_connections() -> None:
    open_now = peak = 0
    all_closed = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal open_now, peak
        open_now += 1
        peak = max(peak, open_now)
        try:
            while True:
                await read_head(reader)
                await asyncio.sleep(0.02)
                writer.write(answer(b"{}"))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            await writer.wait_closed()
            open_now -= 1
            if open_now == 0:
                all_closed.set()

    server, url = await serve(handle)
    async with server:
        async with new_client(timeout_s=5, max_connections=3) as client:
            answers = await asyncio.gather(*(client.get(f"{url}/api/{i}") for i in range(12)))
        await asyncio.wait_for(all_closed.wait(), 5)  # the server's side of each closes too
    assert [a.status_code for a in answers] == [200] * 12
    assert peak == 3


async def test_a_connection_left_half_read_is_not_reused() -> None:
    connections = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        try:
            while True:
                line, _, _ = await read_head(reader)
                if "/big" in line:  # far more than the caller will read
                    writer.write(answer(b"[" + b"1," * 200_000 + b"1]"))
                else:
                    writer.write(answer(b'{"small": true}'))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server, url = await serve(handle)
    async with server, new_client(timeout_s=5, max_connections=1) as client:
        upstream = Upstream("forum", client, url, httpx.Auth(), max_response_bytes=1_000)
        with pytest.raises(ProtocolError, match="more than 1000 bytes"):
            await upstream.request("GET", "/big")
        small = await upstream.request("GET", "/small")
    assert small.json() == {"small": True}  # not the rest of the big answer
    assert connections == 2
