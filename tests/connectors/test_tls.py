"""A source's own TLS trust, client certificate, proxy and connection limit, against real
servers on loopback: a CA made here, an HTTPS server with a certificate it signed, a proxy."""

from __future__ import annotations

import asyncio
import base64
import datetime
import ipaddress
import ssl
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from graphql import GraphQLError

from connectors.errors import Unavailable
from connectors.http import Upstream, new_client
from connectors.transport import TLS
from graph.cli import check_config
from graph.config import Settings
from graph.gateway import Gateway
from graph.schema.errors import classify
from graph.sources.flarum.settings import FlarumSettings
from graph.sources.sections import SourcesSettings
from tests.connectors.test_transport import answer, read_head

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
KEY_PASSWORD = "correct horse"


# --- a private CA and its certificates -------------------------------------------------------


@dataclass(frozen=True)
class PKI:
    ca: Path
    """The CA's certificate (PEM): what `ca_file` names."""
    server: Path
    """The server's certificate for 127.0.0.1 and localhost, and its key."""
    client_cert: Path
    """The gateway's client certificate ..."""
    client_key: Path
    """... and its key, encrypted with KEY_PASSWORD."""
    client_both: Path
    """The client certificate and its unencrypted key in one file."""


def make_pki(directory: Path) -> PKI:
    """A CA, a server certificate and a client certificate it signed, as PEM files."""
    now = datetime.datetime.now(datetime.UTC)

    def name(common_name: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("legacygraph test CA"))
        .issuer_name(name("legacygraph test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )

    def leaf(
        common_name: str, usage: x509.ObjectIdentifier, names: list[x509.GeneralName]
    ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(name(common_name))
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
            )
        )
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        return builder.sign(ca_key, hashes.SHA256()), key

    def pem(certificate: x509.Certificate) -> bytes:
        return certificate.public_bytes(serialization.Encoding.PEM)

    def key_pem(key: ec.EllipticCurvePrivateKey, password: str | None = None) -> bytes:
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password.encode())
            if password
            else serialization.NoEncryption()
        )
        return key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    server, server_key = leaf(
        "127.0.0.1",
        ExtendedKeyUsageOID.SERVER_AUTH,
        [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")],
    )
    client, client_key = leaf("gateway", ExtendedKeyUsageOID.CLIENT_AUTH, [])
    pki = PKI(
        ca=directory / "ca.pem",
        server=directory / "server.pem",
        client_cert=directory / "client.pem",
        client_key=directory / "client.key",
        client_both=directory / "client-both.pem",
    )
    pki.ca.write_bytes(pem(ca))
    pki.server.write_bytes(pem(server) + key_pem(server_key))
    pki.client_cert.write_bytes(pem(client))
    pki.client_key.write_bytes(key_pem(client_key, KEY_PASSWORD))
    pki.client_both.write_bytes(pem(client) + key_pem(client_key))
    return pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    return make_pki(tmp_path_factory.mktemp("pki"))


# --- servers on loopback ---------------------------------------------------------------------


@dataclass
class Served:
    url: str
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    """Each request: its request line and headers."""
    peers: list[str] = field(default_factory=list)
    """Per connection, the common name of the client certificate shown ("" for none)."""
    open_now: int = 0
    peak: int = 0
    """The most connections open at once."""


@asynccontextmanager
async def running(handler: Handler, context: ssl.SSLContext | None) -> AsyncIterator[str]:
    """A server on 127.0.0.1 (TLS with `context`) whose connections all end before it stops."""
    handlers: set[asyncio.Task[None]] = set()

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            await handler(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass  # the client went away
        finally:
            writer.close()
            with suppress(ConnectionError, ssl.SSLError):
                await writer.wait_closed()

    server = await asyncio.start_server(connection, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"{'https' if context else 'http'}://127.0.0.1:{port}"
        server.close()
        if handlers:  # the clients have closed their connections by now
            await asyncio.wait_for(asyncio.gather(*handlers), 5)


def server_context(pki: PKI, *, ask_client_cert: bool = False) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.server)
    if ask_client_cert:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(pki.ca)
    return context


@asynccontextmanager
async def origin(pki: PKI | None, *, ask_client_cert: bool = False) -> AsyncIterator[Served]:
    """An HTTP(S) server that answers every request with `{"ok": true}` and notes what it got."""
    served = Served("")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peercert") or {}
        names = dict(pair for rdn in peer.get("subject", ()) for pair in rdn)
        served.peers.append(names.get("commonName", ""))
        served.open_now += 1
        served.peak = max(served.peak, served.open_now)
        try:
            while True:
                line, headers, _ = await read_head(reader)
                served.seen.append((line, headers))
                writer.write(answer(b'{"ok": true}'))
                await writer.drain()
        finally:
            served.open_now -= 1

    context = server_context(pki, ask_client_cert=ask_client_cert) if pki else None
    async with running(handle, context) as url:
        served.url = url
        yield served


async def read_answer(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(
        int(v) for k, _, v in (h.partition(":") for h in lines[1:]) if k.lower() == "content-length"
    )
    return head + await reader.readexactly(length)


async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while data := await source.read(64 * 1024):
            sink.write(data)
            await sink.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        sink.close()
        with suppress(ConnectionError, ssl.SSLError):
            await sink.wait_closed()


@asynccontextmanager
async def proxy(
    context: ssl.SSLContext | None = None, *, refuse: bool = False
) -> AsyncIterator[Served]:
    """A forward proxy: absolute-form requests relayed one by one, CONNECT tunnels; `refuse`:
    every request answered 407 instead."""
    served = Served("")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            line, headers, body = await read_head(reader)
            served.seen.append((line, headers))
            method, target, _ = line.split(" ")
            if refuse:
                writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\n")
                writer.write(b"Content-Length: 0\r\n\r\n")
                await writer.drain()
                continue
            if method == "CONNECT":
                host, _, port = target.rpartition(":")
                up_reader, up_writer = await asyncio.open_connection(host, int(port))
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await writer.drain()
                await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
                return
            parts = urlsplit(target)
            assert parts.hostname == "127.0.0.1" and parts.port is not None  # loopback only
            up_reader, up_writer = await asyncio.open_connection(parts.hostname, parts.port)
            try:
                path = parts.path + (f"?{parts.query}" if parts.query else "")
                passed = [f"{k}: {v}" for k, v in headers.items() if k != "proxy-authorization"]
                up_writer.write(
                    "\r\n".join([f"{method} {path} HTTP/1.1", *passed, "", ""]).encode() + body
                )
                await up_writer.drain()
                writer.write(await read_answer(up_reader))
                await writer.drain()
            finally:
                up_writer.close()
                await up_writer.wait_closed()

    async with running(handle, context) as url:
        served.url = url
        yield served


def upstream(client: httpx.AsyncClient, url: str) -> Upstream:
    return Upstream("forum", client, url, httpx.Auth())


# --- the source's certificate ----------------------------------------------------------------


async def test_a_private_ca_is_refused_without_its_ca_file(pki: PKI) -> None:
    async with origin(pki) as served, new_client(timeout_s=5, max_connections=1) as client:
        with pytest.raises(Unavailable) as caught:
            await upstream(client, served.url).request("GET", "/api")
    error = caught.value
    assert error.message.startswith("forum could not be reached: its TLS certificate was not")
    assert classify(GraphQLError("x", original_error=error)) == {
        "code": "UPSTREAM_UNAVAILABLE",
        "source": "FORUM",
        "upstreamCode": "tls",
    }
    assert served.seen == []


@pytest.mark.parametrize(
    "tls",
    [pytest.param("ca_file", id="ca_file"), pytest.param("unverified", id="verify=false")],
)
async def test_with_its_ca_file_or_unverified_the_source_answers(pki: PKI, tls: str) -> None:
    settings = TLS(ca_file=str(pki.ca)) if tls == "ca_file" else TLS(verify=False)
    async with (
        origin(pki) as served,
        new_client(timeout_s=5, max_connections=1, tls=settings) as client,
    ):
        response = await upstream(client, served.url).request("GET", "/api")
    assert response.json() == {"ok": True}
    assert [line for line, _ in served.seen] == ["GET /api HTTP/1.1"]


async def test_the_ca_file_replaces_the_system_trust_for_that_source(pki: PKI) -> None:
    assert TLS().context() is None  # nothing set: aiohttp's own context, as before
    context = TLS(ca_file=str(pki.ca)).context()
    assert context is not None
    subjects = [str(c["subject"]) for c in context.get_ca_certs()]
    assert subjects == ["((('commonName', 'legacygraph test CA'),),)"]  # that CA, and only it
    unverified = TLS(verify=False).context()
    assert unverified is not None and unverified.verify_mode == ssl.CERT_NONE


# --- the gateway's certificate ---------------------------------------------------------------


async def test_a_source_asking_for_a_client_certificate_refuses_the_gateway_without_one(
    pki: PKI,
) -> None:
    async with (
        origin(pki, ask_client_cert=True) as served,
        new_client(timeout_s=5, max_connections=1, tls=TLS(ca_file=str(pki.ca))) as client,
    ):
        with pytest.raises(Unavailable, match="forum could not be reached"):
            await upstream(client, served.url).request("GET", "/api")
    assert served.seen == []


@pytest.mark.parametrize("separate_key", [True, False], ids=["encrypted key file", "one file"])
async def test_with_its_client_certificate_the_gateway_is_let_in(
    pki: PKI, separate_key: bool
) -> None:
    tls = (
        TLS(
            ca_file=str(pki.ca),
            client_cert=str(pki.client_cert),
            client_key=str(pki.client_key),
            client_key_password=KEY_PASSWORD,
        )
        if separate_key
        else TLS(ca_file=str(pki.ca), client_cert=str(pki.client_both))
    )
    assert KEY_PASSWORD not in repr(tls)
    async with (
        origin(pki, ask_client_cert=True) as served,
        new_client(timeout_s=5, max_connections=1, tls=tls) as client,
    ):
        response = await upstream(client, served.url).request("GET", "/api")
    assert response.json() == {"ok": True}
    assert served.peers == ["gateway"]


# --- a proxy ---------------------------------------------------------------------------------


@pytest.mark.parametrize("source_scheme", ["http", "https"])
@pytest.mark.parametrize("proxy_scheme", ["http", "https"])
async def test_requests_go_through_the_proxy_with_its_credentials(
    pki: PKI, source_scheme: str, proxy_scheme: str
) -> None:
    tls = TLS(ca_file=str(pki.ca))  # the https proxy's certificate is checked with it too
    async with (
        origin(pki if source_scheme == "https" else None) as served,
        proxy(server_context(pki) if proxy_scheme == "https" else None) as through,
    ):
        proxy_url = through.url.replace("://", "://gate%40way:s3cr%2Ft@")
        async with new_client(timeout_s=5, max_connections=1, tls=tls, proxy=proxy_url) as client:
            forum = upstream(client, served.url)
            first = await forum.request("GET", "/api/discussions?page=2")
            second = await forum.request("POST", "/api/posts", json_body={"x": 1})
    assert (first.json(), second.json()) == ({"ok": True}, {"ok": True})
    credentials = "Basic " + base64.b64encode(b"gate@way:s3cr/t").decode()
    host = served.url.removeprefix(f"{source_scheme}://")
    if source_scheme == "http":  # each request in absolute form
        assert [line for line, _ in through.seen] == [
            f"GET {served.url}/api/discussions?page=2 HTTP/1.1",
            f"POST {served.url}/api/posts HTTP/1.1",
        ]
    else:  # one tunnel, the requests inside it unseen
        assert [line for line, _ in through.seen] == [f"CONNECT {host} HTTP/1.1"]
    assert all(h.get("proxy-authorization") == credentials for _, h in through.seen)
    assert [line for line, _ in served.seen] == [
        "GET /api/discussions?page=2 HTTP/1.1",
        "POST /api/posts HTTP/1.1",
    ]
    assert all("proxy-authorization" not in h for _, h in served.seen)


async def test_a_proxy_that_refuses_is_a_clear_error_without_its_password(pki: PKI) -> None:
    async with origin(pki) as served, proxy(refuse=True) as through:
        proxy_url = through.url.replace("://", "://gateway:hunter22@")
        async with new_client(
            timeout_s=5, max_connections=1, tls=TLS(ca_file=str(pki.ca)), proxy=proxy_url
        ) as client:
            with pytest.raises(Unavailable) as caught:
                await upstream(client, served.url).request("GET", "/api")
    error = caught.value
    assert error.message == "forum could not be reached: the proxy refused the tunnel (HTTP 407)"
    assert error.upstream_code == "proxy"
    assert [line.split()[0] for line, _ in through.seen] == ["CONNECT"]
    logged = "".join(traceback.format_exception(error))  # as a log line with exc_info shows it
    for secret in ("hunter22", base64.b64encode(b"gateway:hunter22").decode()):
        assert secret not in logged and secret not in repr(error)


# --- the connection limit --------------------------------------------------------------------


async def test_max_concurrency_1_opens_one_connection_at_a_time_however_many_ask(
    pki: PKI,
) -> None:
    async with origin(pki) as served:
        settings = FlarumSettings(url=served.url, ca_file=str(pki.ca), max_concurrency=1)
        async with settings.new_client() as client:
            forum = upstream(client, served.url)
            answers = await asyncio.gather(
                *(forum.request("GET", f"/api/{i}", call="get") for i in range(10))
            )
    assert [a.status_code for a in answers] == [200] * 10
    assert len(served.seen) == 10
    assert served.peak == 1


# --- everything that reaches a source uses its settings ----------------------------------------


async def test_the_gateway_reaches_each_source_with_its_own_tls(pki: PKI) -> None:
    async with origin(pki) as served:
        sources = SourcesSettings(flarum=FlarumSettings(url=served.url, ca_file=str(pki.ca)))
        async with Gateway.open(Settings(sources=sources)) as gateway:
            response = await gateway.clients["flarum"].get(f"{served.url}/api")
    assert response.json() == {"ok": True}


async def test_check_config_reaches_each_source_with_its_own_tls(
    pki: PKI, capsys: pytest.CaptureFixture[str]
) -> None:
    async with origin(pki) as served:
        for source in (
            FlarumSettings(url=served.url),
            FlarumSettings(url=served.url, ca_file=str(pki.ca)),
        ):
            await check_config(Settings(sources=SourcesSettings(flarum=source)))
    without, with_ca_file = (
        line for line in capsys.readouterr().out.splitlines() if line.startswith("flarum")
    )
    assert "its TLS certificate was not accepted" in without
    assert "TLS" not in with_ca_file  # it got as far as the answer ({"ok": true} is no forum)
    assert [line for line, _ in served.seen] == ["GET /api?include=actor HTTP/1.1"]
