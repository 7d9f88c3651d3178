"""httpx requests sent through aiohttp's connection pool.

The connectors speak httpx (requests, `httpx.Auth` flows, responses); this transport only moves
the bytes. aiohttp parses HTTP in C and pools connections without anyio's locks: an exchange costs
the gateway about a third of the CPU that httpx's own transport spends on it, which is most of
the gateway's work for a small read. Its failures become httpx's exceptions, most specific first,
so the connector boundary translates them as before.

A source's own TLS trust, client certificate and proxy (`TLS`, `proxy=`) are the pool's: one
`ssl.SSLContext` for the source's connections, and the proxy on each request. A source with none
of them set runs with aiohttp's defaults, as before.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import aiohttp
import httpx
from yarl import URL

__all__ = [
    "TLS",
    "AnswerTooLarge",
    "Exchanged",
    "PooledTransport",
    "ProxyRefused",
    "TLSFailure",
    "check_proxy",
    "shown_proxy",
]

CHUNK = 64 * 1024
CLOSED = "Cannot send a request, as the client has been closed."
"""What httpx's `AsyncClient.send` says on a closed client, said by a closed pool too."""


@dataclass(frozen=True)
class TLS:
    """How the gateway checks a source's certificate, and the certificate it shows the source.

    The defaults are the system's trust store, checked (aiohttp's own context). An `https://`
    proxy's certificate is checked with the same context."""

    verify: bool = True
    """False: any certificate is accepted, and the host name is not checked (a test system)."""
    ca_file: str = ""
    """A PEM bundle of the certificates to trust *instead of* the system's (a private CA)."""
    client_cert: str = ""
    """A PEM certificate to show the source (with its key, unless `client_key` names one)."""
    client_key: str = ""
    client_key_password: str = field(default="", repr=False)

    def context(self) -> ssl.SSLContext | None:
        """The source's own context; None where nothing differs from the default. Reads the
        files; raises `OSError` or `ssl.SSLError` (see `TLS.problem`) when they cannot be used."""
        if self == TLS():
            return None
        context = ssl.create_default_context(cafile=self.ca_file or None)
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.client_cert:
            password = self.client_key_password.encode()
            # Always a callable: without one, OpenSSL would ask for the password on the terminal.
            context.load_cert_chain(self.client_cert, self.client_key or None, lambda: password)
        context.set_alpn_protocols(("http/1.1",))  # as aiohttp's own
        return context

    def problem(self) -> tuple[str, str] | None:
        """Why these settings cannot be used, as (the setting at fault, what is wrong); None if
        they can. The message never quotes the password."""
        if not self.verify and self.ca_file:
            return "ca_file", "cannot go with verify = false (nothing would be checked against it)"
        if self.client_key and not self.client_cert:
            return "client_key", "needs client_cert (the certificate of that key)"
        if self.client_key_password and not self.client_cert:
            return "client_key_password", "needs client_cert and its encrypted key"
        for name in ("ca_file", "client_cert", "client_key"):
            path = getattr(self, name)
            try:
                if path:
                    Path(path).read_bytes()
            except FileNotFoundError:
                return name, f"no such file: {path}"
            except OSError as exc:
                return name, f"cannot read {path}: {exc.strerror}"
        if self.ca_file:
            try:
                ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=self.ca_file)
            except ssl.SSLError:
                return "ca_file", f"no PEM certificate in {self.ca_file}"
        if self.client_cert:
            try:
                self.context()
            except ssl.SSLError:
                key = Path(self.client_key or self.client_cert).read_bytes()
                if not self.client_key_password and b"ENCRYPTED" in key:
                    name = "client_key" if self.client_key else "client_cert"
                    return name, "the key is encrypted: client_key_password is needed"
                if self.client_key_password or self.client_key:
                    return "client_key", (
                        f"cannot load {self.client_key or self.client_cert} as the key of "
                        f"{self.client_cert} (the wrong key, or the wrong client_key_password)"
                    )
                return "client_cert", (
                    f"cannot load a certificate and its key from {self.client_cert} (an "
                    "encrypted key needs client_key_password; a key of its own, client_key)"
                )
        return None


def check_proxy(proxy: str) -> str | None:
    """What is wrong with a proxy URL (None: nothing). Only `http://` and `https://` proxies."""
    try:
        parts = urlsplit(proxy)
        port = parts.port
    except ValueError:
        return f"not a URL with a host and a port within 1..65535: {shown_proxy(proxy)!r}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return (
            "must be an http:// or https:// URL such as http://proxy.example.org:3128 (SOCKS "
            f"proxies are not supported), got {shown_proxy(proxy)!r}"
        )
    if port == 0 or parts.path not in ("", "/") or parts.query or parts.fragment:
        return f"must be scheme://[user:password@]host[:port] only, got {shown_proxy(proxy)!r}"
    if ":" in unquote(parts.username or ""):
        return f"the user name must not hold a colon, got {shown_proxy(proxy)!r}"
    return None


def shown_proxy(proxy: str) -> str:
    """The proxy URL as it may be shown: any user and password replaced."""
    scheme, sep, rest = proxy.rpartition("://")
    if "@" in rest:  # everything before the last @, whatever a mistyped URL put there
        rest = "[redacted]@" + rest.rpartition("@")[2]
    return f"{scheme}{sep}{rest}"


class TLSFailure(httpx.ConnectError):
    """The TLS handshake with the source (or its proxy) failed; `reason` says why, in words
    safe to show."""

    def __init__(self, reason: str, *, request: httpx.Request) -> None:
        super().__init__(reason, request=request)
        self.reason = reason


class ProxyRefused(httpx.ProxyError):
    """The proxy answered the tunnel request with something other than 200."""

    def __init__(self, reason: str, *, request: httpx.Request) -> None:
        super().__init__(reason, request=request)
        self.reason = reason


class AnswerTooLarge(Exception):
    """The answer was longer than the reader allowed (`PooledTransport.exchange`)."""


@dataclass(frozen=True, slots=True)
class Exchanged:
    """An answer read whole by `PooledTransport.exchange`: its status, its headers as they came
    and its body, still content-encoded if the source encoded it."""

    status: int
    raw_headers: Sequence[tuple[bytes, bytes]]
    body: bytes


@dataclass(frozen=True)
class _Proxy:
    """A proxy URL taken apart: credentials go in a header, never in aiohttp's objects (whose
    reprs show the URL)."""

    url: URL
    credentials: str | None

    @classmethod
    def parse(cls, proxy: str) -> _Proxy:
        parts = urlsplit(proxy)
        bare = URL(f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}")
        if parts.username is None and parts.password is None:
            return cls(bare, None)
        pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
        return cls(bare, "Basic " + base64.b64encode(pair.encode()).decode("ascii"))


class PooledTransport(httpx.AsyncBaseTransport):
    """One source's connection pool: at most `max_connections` open (to the source, or to its
    proxy), no cookies kept (the pool is shared by every caller), no redirects followed, bodies
    left encoded for httpx to decode. `tls` and `proxy` (an http:// or https:// URL, credentials
    in it sent as Proxy-Authorization) are the source's; the environment's proxy variables are
    not read."""

    def __init__(
        self, *, max_connections: int, tls: TLS | None = None, proxy: str | None = None
    ) -> None:
        self.max_connections = max_connections
        self._ssl: ssl.SSLContext | bool = (tls.context() if tls else None) or True
        self._proxy = _Proxy.parse(proxy) if proxy else None
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    def _open(self) -> aiohttp.ClientSession:
        # Made on first use: a session belongs to the event loop that runs it.
        self._session = aiohttp.ClientSession(
            # A source is one host (or its proxy): `limit` is the source's limit.
            connector=aiohttp.TCPConnector(
                limit=self.max_connections, limit_per_host=0, ssl=self._ssl
            ),
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
        )
        return self._session

    async def _send(self, request: httpx.Request) -> aiohttp.ClientResponse:
        """Send `request` through the pool; its answer's head is read, its body not yet. A
        closed pool refuses, as httpx's closed client does (no session opened anew, to be left
        unclosed)."""
        if self._closed:
            raise RuntimeError(CLOSED)
        session = self._session or self._open()
        timeout = request.extensions.get("timeout", {})
        headers = request.headers.multi_items()
        proxy = proxy_headers = None
        if self._proxy is not None:
            proxy = self._proxy.url
            if self._proxy.credentials is not None:
                if request.url.scheme == "https":  # on the CONNECT, not to the source
                    proxy_headers = {"Proxy-Authorization": self._proxy.credentials}
                else:  # the proxy reads the request itself
                    headers.append(("Proxy-Authorization", self._proxy.credentials))
        with _as_httpx_errors(request):
            return await session.request(
                request.method,
                URL(str(request.url), encoded=True),  # as httpx wrote it: signatures cover it
                headers=headers,
                data=request.content or None,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(
                    connect=timeout.get("pool"),
                    sock_connect=timeout.get("connect"),
                    sock_read=timeout.get("read"),
                ),
                proxy=proxy,
                proxy_headers=proxy_headers,
            )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._send(request)
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

    async def exchange(self, request: httpx.Request, *, max_bytes: int) -> Exchanged:
        """Send `request` and read its whole answer as it came (still encoded, if it is), with
        no `httpx.Response` in between: the pipeline's direct path (`Sending`). An answer
        longer than `max_bytes` raises `AnswerTooLarge` as it streams in; the connection it
        came on is dropped."""
        response = await self._send(request)
        try:
            with _as_httpx_errors(request):
                declared = response.content_length
                if declared is not None and declared > max_bytes:
                    raise AnswerTooLarge(max_bytes)
                content = response.content
                chunks: list[bytes] = []
                size = 0
                while chunk := await content.readany():
                    size += len(chunk)
                    if size > max_bytes:
                        raise AnswerTooLarge(max_bytes)
                    chunks.append(chunk)
        except BaseException:
            response.close()  # left half-read: never reused
            raise
        response.release()  # the connection goes back to the pool
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        return Exchanged(response.status, response.raw_headers, body)

    async def aclose(self) -> None:
        self._closed = True
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
    except aiohttp.ClientConnectorCertificateError as error:
        failed = error.certificate_error
        reason = getattr(failed, "verify_message", "") or getattr(failed, "reason", "") or failed
        refused = f"its TLS certificate was not accepted ({reason})"
        raise TLSFailure(refused, request=request) from error
    except aiohttp.ClientConnectorSSLError as error:
        reason = getattr(error.os_error, "reason", None) or type(error.os_error).__name__
        raise TLSFailure(f"the TLS handshake failed ({reason})", request=request) from error
    except aiohttp.ClientHttpProxyError as error:
        raise ProxyRefused(
            f"the proxy refused the tunnel (HTTP {error.status})", request=request
        ) from error
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
