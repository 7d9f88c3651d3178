"""A closed client, or a closed pool, refuses to send, on the direct path as on httpx's, and
opens no aiohttp session that nothing would close."""

from __future__ import annotations

import gc

import httpx
import pytest

from connectors.errors import Unavailable
from connectors.flarum.auth import FlarumAuth
from connectors.http import Upstream, new_client
from connectors.transport import PooledTransport

CLOSED = "Cannot send a request, as the client has been closed."


async def test_a_closed_client_is_the_source_unavailable_on_both_paths() -> None:
    """A request still running as the gateway shuts down: the source's UPSTREAM_UNAVAILABLE,
    not httpx's RuntimeError (which the caller would see as an internal error)."""
    shared = new_client(timeout_s=5, max_connections=1)
    plain = httpx.AsyncClient(trust_env=False, transport=PooledTransport(max_connections=1))
    await shared.aclose()
    await plain.aclose()
    for client in (shared, plain):
        upstream = Upstream("flarum", client, "http://127.0.0.1:9", FlarumAuth())
        with pytest.raises(Unavailable, match="the gateway is closing") as refused:
            await upstream.request("GET", "/api")
        assert refused.value.source == "flarum", client


async def test_a_closed_pool_refuses_and_opens_no_session() -> None:
    pool = PooledTransport(max_connections=1)
    await pool.aclose()
    request = httpx.Request("GET", "http://127.0.0.1:9/api")
    with pytest.raises(RuntimeError, match=CLOSED):
        await pool.exchange(request, max_bytes=100)
    with pytest.raises(RuntimeError, match=CLOSED):
        await pool.handle_async_request(request)
    gc.collect()  # an unclosed aiohttp session would warn here ("Unclosed client session")


async def test_a_pool_closed_under_a_direct_client_refuses() -> None:
    """The pool closed, its client not: the direct path hands the request to the pool, which
    refuses rather than opening a session anew."""
    pool = PooledTransport(max_connections=1)
    shared = new_client(timeout_s=5, max_connections=1, transport=pool)
    await pool.aclose()
    upstream = Upstream("flarum", shared, "http://127.0.0.1:9", FlarumAuth())
    with pytest.raises(RuntimeError, match=CLOSED):
        await upstream.request("GET", "/api")
    await shared.aclose()
