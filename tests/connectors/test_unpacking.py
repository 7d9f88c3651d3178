"""A content-encoded answer on the direct path is unpacked as httpx unpacks it, a piece at a
time under the size cap: a small answer that unpacks to a huge one (a "zip bomb") is refused
with the same error as on httpx's path, and never held whole in memory."""

from __future__ import annotations

import asyncio
import gzip
import tracemalloc
import zlib
from collections.abc import AsyncIterator

import brotli
import httpx
import pytest

from connectors.errors import ProtocolError
from connectors.flarum.auth import FlarumAuth
from connectors.http import Upstream, new_client
from connectors.transport import PooledTransport
from connectors.unpacking import PIECE, TooLarge, encodings, unpack

UNPACKED = 50_000_000
CAP = 1_000_000
BOMBS = {
    "gzip": gzip.compress(bytes(UNPACKED)),
    "br": brotli.compress(bytes(UNPACKED)),
}


@pytest.fixture
async def bomb_server() -> AsyncIterator[str]:
    """A server on loopback answering /<coding> with 50 MB of zeros packed in that coding."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                coding = head.split(b" ")[1].strip(b"/").decode()
                body = BOMBS[coding]
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Encoding: " + coding.encode() + b"\r\n"
                    b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    async with server:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"


def httpx_client() -> httpx.AsyncClient:
    """httpx's own client (its path is `client.send`) over the gateway's pool."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(30), trust_env=False, transport=PooledTransport(max_connections=1)
    )


@pytest.mark.parametrize("coding", BOMBS)
async def test_a_packed_answer_over_the_cap_is_refused_without_unpacking_it_whole(
    bomb_server: str, coding: str
) -> None:
    async with new_client(timeout_s=30, max_connections=1) as shared:
        direct = Upstream("flarum", shared, bomb_server, FlarumAuth(), max_response_bytes=CAP)
        tracemalloc.start()
        try:
            with pytest.raises(ProtocolError, match=f"more than {CAP} bytes") as refused:
                await direct.request("GET", f"/{coding}")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 8 * CAP, peak  # the cap and a piece or two, far from the 50 MB unpacked
    async with httpx_client() as plain:
        through_httpx = Upstream("flarum", plain, bomb_server, FlarumAuth(), max_response_bytes=CAP)
        with pytest.raises(ProtocolError) as also_refused:
            await through_httpx.request("GET", f"/{coding}")
    assert str(refused.value) == str(also_refused.value)
    assert type(refused.value) is type(also_refused.value)


PACKED = b'{"name": "Ad\\u00e0", "n": [' + b", ".join(b"%d" % n for n in range(40_000)) + b"]}"
CODINGS: dict[str, tuple[str, bytes]] = {
    "gzip": ("gzip", gzip.compress(PACKED)),
    "deflate-zlib": ("deflate", zlib.compress(PACKED)),
    "deflate-raw": ("deflate", zlib.compress(PACKED, wbits=-zlib.MAX_WBITS)),
    "br": ("br", brotli.compress(PACKED)),
    "gzip-then-br": ("gzip, br", brotli.compress(gzip.compress(PACKED))),
    "two-headers": ("GZIP\x00br", brotli.compress(gzip.compress(PACKED))),
    "unknown-skipped": ("x-custom, gzip", gzip.compress(PACKED)),
    "identity": ("identity", PACKED),
    "empty-gzip": ("gzip", b""),
    "not-gzip": ("gzip", b"plain text"),
    "not-br": ("br", b"plain text"),
    "truncated-gzip": ("gzip", gzip.compress(PACKED)[:-100]),
}


def _head(coding: str) -> list[tuple[bytes, bytes]]:
    return [(b"Content-Encoding", value.encode()) for value in coding.split("\x00")]


@pytest.mark.parametrize(("coding", "body"), CODINGS.values(), ids=CODINGS.keys())
def test_unpacking_is_httpx_decoding(coding: str, body: bytes) -> None:
    head = _head(coding)
    try:
        expected: bytes | type[Exception] = httpx.Response(200, headers=head, content=body).content
    except httpx.DecodingError:
        expected = httpx.DecodingError
    try:
        got: bytes | type[Exception] = unpack(body, encodings(head), max_bytes=10 * len(PACKED))
    except httpx.DecodingError:
        got = httpx.DecodingError
    assert got == expected


def test_no_step_unpacks_more_than_a_piece() -> None:
    packed = gzip.compress(bytes(10 * PIECE))
    with pytest.raises(TooLarge):
        unpack(packed, ["gzip"], max_bytes=3 * PIECE)
    assert unpack(packed, ["gzip"], max_bytes=10 * PIECE) == bytes(10 * PIECE)


@pytest.mark.parametrize("coding", ["gzip", "br"])
async def test_a_body_its_content_encoding_does_not_describe_is_a_protocol_error(
    coding: str,
) -> None:
    """Over the pool (the direct path), over a mock transport and through httpx's own path
    alike: the upstream's fault, coded, not a crash."""
    body = b"not what it says"
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: "
        + coding.encode()
        + b"\r\nContent-Length: %d\r\n\r\n" % len(body)
    )

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(head + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    def answer(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": "application/json", "content-encoding": coding}
        return httpx.Response(200, headers=headers, content=body)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    async with server:
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        clients = [
            new_client(timeout_s=5, max_connections=1),
            new_client(timeout_s=5, max_connections=1, transport=httpx.MockTransport(answer)),
            httpx_client(),
        ]
        for client in clients:
            async with client:
                upstream = Upstream("flarum", client, url, FlarumAuth())
                with pytest.raises(ProtocolError, match="Content-Encoding does not describe"):
                    await upstream.request("GET", "/api")
