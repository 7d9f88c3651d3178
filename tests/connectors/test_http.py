"""The shared HTTP layer."""

from __future__ import annotations

import httpx

from connectors.http import new_client
from tests.connectors.recording import Recorder


async def test_the_shared_client_never_keeps_a_cookie() -> None:
    recorder = Recorder(
        lambda r: httpx.Response(200, headers={"Set-Cookie": "PHPSESSID=caller-one; Path=/"})
    )
    async with new_client(timeout_s=5, max_connections=2) as client:
        client._transport = httpx.MockTransport(recorder)  # the real client, with a fake network
        await client.get("http://crm.test/login")
        await client.get("http://crm.test/contacts")
    assert "cookie" not in recorder.requests[1].headers
    assert len(client.cookies) == 0
