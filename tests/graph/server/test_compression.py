"""Compressed answers, as a mobile client on a metered network would ask for them."""

from __future__ import annotations

import gzip
import threading
import zlib
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
import brotli
import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from graph.config import ConfigError, ServerSettings, Settings, load_settings
from graph.server.app import create_app
from graph.server.compression import Compress, chosen_encoding
from graph.server.playground import BUILT
from graph.sources.flarum.settings import FlarumSettings
from graph.sources.sections import SourcesSettings
from simulators.serve import serve_in_thread
from tests.conftest import Simulator

FIFTY = {
    "query": "{ discussions(first: 50) { nodes { title author { displayName } "
    "firstPost { contentHtml } } } }"
}
TINY = {"query": "{ __typename }"}


@contextmanager
def gateway_with(flarum_url: str, **server: Any) -> Iterator[str]:
    sources = SourcesSettings(flarum=FlarumSettings(url=flarum_url))
    settings = Settings(sources=sources, server=ServerSettings(**server))
    with serve_in_thread(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="module")
def gateway_url(flarum: Simulator) -> Iterator[str]:
    with gateway_with(flarum.url) as url:
        yield url


def raw(method: str, url: str, accept_encoding: str, **options: Any) -> tuple[httpx.Headers, bytes]:
    """The answer's headers and its bytes as they came over the wire (not decoded)."""
    with httpx.stream(method, url, headers={"accept-encoding": accept_encoding}, **options) as r:
        assert r.status_code == 200
        return r.headers, b"".join(r.iter_raw())


@pytest.mark.parametrize(
    ("accept_encoding", "chosen"),
    [
        ("gzip, br", "br"),
        ("gzip, deflate, br, zstd", "br"),
        ("gzip", "gzip"),
        ("br;q=0.5, gzip", "gzip"),
        ("br;q=0, gzip;q=0", None),
        ("GZIP;Q=0.8", "gzip"),
        ("*", "br"),
        ("*;q=0.1, gzip;q=0.5", "gzip"),
        ("br;q=0, *", "gzip"),
        ("identity", None),
        ("deflate, zstd", None),
        ("", None),
        ("gzip;q=x", None),
    ],
)
def test_the_coding_the_client_prefers_among_ours(accept_encoding: str, chosen: str | None) -> None:
    assert chosen_encoding(accept_encoding) == chosen


def test_a_large_answer_comes_compressed_and_decodes_to_the_same_bytes(gateway_url: str) -> None:
    url = f"{gateway_url}/graphql"
    plain_headers, plain = raw("POST", url, "identity", json=FIFTY)
    gzip_headers, gzipped = raw("POST", url, "gzip", json=FIFTY)
    br_headers, brotlied = raw("POST", url, "gzip, br", json=FIFTY)
    assert "content-encoding" not in plain_headers
    assert len(plain) > 10_000
    assert gzip_headers["content-encoding"] == "gzip"
    assert br_headers["content-encoding"] == "br"
    assert gzip.decompress(gzipped) == plain
    assert brotli.decompress(brotlied) == plain
    assert int(gzip_headers["content-length"]) == len(gzipped) < len(plain) / 4
    assert int(br_headers["content-length"]) == len(brotlied) < len(gzipped)
    for headers in (gzip_headers, br_headers):
        assert "Accept-Encoding" in headers["vary"]
        assert headers["content-type"].startswith("application/json")


def test_a_tiny_answer_is_sent_as_it_is(gateway_url: str) -> None:
    headers, body = raw("POST", f"{gateway_url}/graphql", "gzip, br", json=TINY)
    assert "content-encoding" not in headers
    assert body == b'{"data":{"__typename":"Query"}}'


def test_a_client_that_accepts_neither_gets_plain_bytes(gateway_url: str) -> None:
    headers, body = raw("POST", f"{gateway_url}/graphql", "br;q=0, gzip;q=0, zstd", json=FIFTY)
    assert "content-encoding" not in headers
    assert body.startswith(b'{"data":{"discussions"')


def test_off_behind_a_proxy_that_compresses(flarum: Simulator) -> None:
    with gateway_with(flarum.url, compression=False) as url:
        headers, body = raw("POST", f"{url}/graphql", "gzip, br", json=FIFTY)
    assert "content-encoding" not in headers
    assert len(body) > 10_000


def test_the_threshold_is_a_setting(flarum: Simulator) -> None:
    with gateway_with(flarum.url, compression_min_bytes=0) as url:
        headers, body = raw("POST", f"{url}/graphql", "gzip", json=TINY)
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == b'{"data":{"__typename":"Query"}}'


def test_metrics_and_the_playground_are_compressed_too(gateway_url: str) -> None:
    headers, body = raw("GET", f"{gateway_url}/metrics", "gzip")
    assert headers["content-encoding"] == "gzip"
    assert b"legacygraph_" in gzip.decompress(body)
    script = sorted(BUILT.glob("assets/*.js"), key=lambda p: p.stat().st_size)[-1]
    headers, body = raw("GET", f"{gateway_url}/playground/assets/{script.name}", "br")
    assert headers["content-encoding"] == "br"
    assert brotli.decompress(body) == script.read_bytes()
    assert headers["content-security-policy"].startswith("default-src 'self'")
    assert "content-length" not in headers  # sent as it was read, a chunk at a time


def test_config_mistakes(tmp_path: Path) -> None:
    path = tmp_path / "gateway.toml"
    path.write_text('[sources.flarum]\nurl = "http://127.0.0.1:9104"\n[server]\n')
    assert load_settings(path).server.compression
    assert load_settings(path).server.compression_min_bytes == 1024
    off = load_settings(path, {"LEGACYGRAPH_SERVER__COMPRESSION": "false"})
    assert not off.server.compression
    path.write_text(path.read_text() + "compression_min_bytes = -1\n")
    with pytest.raises(ConfigError, match=r"server\.compression_min_bytes: must not be negative"):
        load_settings(path)


# The middleware on its own, with answers the gateway does not make.

BIG = b'{"text": "' + b"a long answer, " * 200 + b'"}'


@contextmanager
def serving(*routes: Route) -> Iterator[str]:
    app = Starlette(routes=list(routes), middleware=[Middleware(Compress, minimum_size=1024)])
    with serve_in_thread(app) as url:
        yield url


def test_an_answer_already_encoded_is_not_compressed_again() -> None:
    encoded = gzip.compress(BIG)

    async def already(request: Request) -> Response:
        return Response(encoded, headers={"content-encoding": "gzip", "etag": '"v1"'})

    with serving(Route("/", already)) as url:
        headers, body = raw("GET", url, "gzip, br")
    assert headers["content-encoding"] == "gzip"
    assert body == encoded
    assert headers["etag"] == '"v1"'  # the representation is the app's own, unchanged


def test_a_strong_etag_becomes_weak_once_compressed() -> None:
    async def tagged(request: Request) -> Response:
        return Response(BIG, headers={"etag": '"v1"'}, media_type="application/json")

    with serving(Route("/", tagged)) as url:
        plain, _ = raw("GET", url, "identity")
        compressed, _ = raw("GET", url, "br")
    assert plain["etag"] == '"v1"'
    assert compressed["etag"] == 'W/"v1"'


@pytest.mark.parametrize("coding", ["br", "gzip"])
def test_a_streamed_answer_is_flushed_chunk_by_chunk(coding: str) -> None:
    """The second chunk is made only once the client has decoded the first: a compressor that
    held the first back would leave the client waiting (the read timeout ends such a test)."""
    first_read = threading.Event()

    async def chunks() -> AsyncIterator[bytes]:
        yield BIG
        while not first_read.is_set():  # waits in a thread, not on the event loop
            await anyio.to_thread.run_sync(first_read.wait, 1)
        yield b"the end"

    async def streamed(request: Request) -> Response:
        return StreamingResponse(chunks(), media_type="text/plain")

    if coding == "br":
        decode = brotli.Decompressor().process
    else:
        decode = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress
    seen = b""
    first_alone = False
    with serving(Route("/", streamed)) as url:
        try:
            headers = {"accept-encoding": coding}
            with httpx.stream("GET", url, headers=headers, timeout=30) as response:
                assert response.headers["content-encoding"] == coding
                for piece in response.iter_raw():
                    seen += decode(piece)
                    if seen == BIG:
                        first_alone = True
                        first_read.set()
        finally:
            first_read.set()  # lets the server finish whatever happened
    assert first_alone
    assert seen == BIG + b"the end"
