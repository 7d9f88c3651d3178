"""httpx requests sent through aiohttp's connection pool.

The connectors speak httpx (requests, `httpx.Auth` flows, responses); this transport only moves
the bytes. aiohttp parses HTTP in C and pools connections without anyio's locks: an exchange costs
the gateway about a third of the CPU that httpx's own transport spends on it, which is most of
the gateway's work for a small read. Its failures become httpx's exceptions, most specific first,
so the connector boundary translates them as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import aiohttp
import httpx
from yarl import URL

__all__ = ["PooledTransport"]

CHUNK = 64 * 1024


class PooledTransport(httpx.AsyncBaseTransport):
    """One source's connection pool: at most `max_connections` open, no cookies kept (the pool
    is shared by every caller), no redirects followed, bodies left encoded for httpx to decode."""

    def __init__(self, *, max_connections: int) -> None:
        self.max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        # Made on first use: a session belongs to the event loop that runs it.
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.max_connections, limit_per_host=0),
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
        )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._session or self._open()
        timeout = request.extensions.get("timeout", {})
        with _as_httpx_errors(request):
            response = await session.request(
                request.method,
                URL(str(request.url), encoded=True),  # as httpx wrote it: signatures cover it
                headers=request.headers.multi_items(),
                data=request.content or None,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(
                    connect=timeout.get("pool"),
                    sock_connect=timeout.get("connect"),
                    sock_read=timeout.get("read"),
                ),
            )
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_Body(response, request),
            request=request,
            extensions={
                "http_version": b"HTTP/1.1",
                "reason_phrase": (response.reason or "").encode(),
            },
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class _Body(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self.response = response
        self.request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx_errors(self.request):
            async for chunk in self.response.content.iter_chunked(CHUNK):
                yield chunk

    async def aclose(self) -> None:
        if self.response.content.at_eof():
            self.response.release()  # the connection goes back to the pool
        else:  # left half-read (too large, past the deadline): never reused
            self.response.close()


@contextmanager
def _as_httpx_errors(request: httpx.Request) -> Iterator[None]:
    """aiohttp's exceptions as the httpx exception that says the same."""
    try:
        yield
    except Exception as error:
        mapped = _httpx_error(error)
        if mapped is None:
            raise
        raise mapped(f"{type(error).__name__}: {error}", request=request) from error


def _httpx_error(error: Exception) -> type[httpx.TransportError] | None:
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout
    if isinstance(error, aiohttp.ServerTimeoutError | asyncio.TimeoutError):
        return httpx.ReadTimeout
    if isinstance(error, aiohttp.ClientConnectorError):
        return httpx.ConnectError
    if isinstance(error, aiohttp.ServerDisconnectedError | aiohttp.ClientResponseError):
        return httpx.RemoteProtocolError
    if isinstance(error, aiohttp.ClientPayloadError | aiohttp.ClientConnectionError):
        return httpx.ReadError
    if isinstance(error, aiohttp.InvalidURL):
        return httpx.UnsupportedProtocol
    if isinstance(error, aiohttp.ClientError):
        return httpx.RemoteProtocolError
    return None
