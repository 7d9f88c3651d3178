"""The two queries of the side-by-side bench (`../shared/bench-peers`), run in process, for
instruction counts.

Q1 is 100 discussions with their authors, Q2 one user by global id, asked the way bench-peers
asks them (the gateway acting as Flarum user 1 through the API key). Flarum's answers are
recorded once from the simulator and replayed from memory (as in `bench.overhead`), so what is
measured is the gateway alone: endpoint, parsing and validation (cached), execution, the
upstream client over a mock transport, JSON.

On a machine shared with other work, time is noise; instructions are not. Under callgrind, the
measured loop alone is counted (instrumentation is switched on around it with
`callgrind_control`):

    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/q1.out \\
        .venv/bin/python -m bench.instructions q1 --requests 200 --callgrind
    callgrind_annotate /tmp/q1.out | head   # total Ir / 200 = instructions per query

Without `--callgrind` it prints CPU time per query. `--client asgi` sends each query as ASGI
messages straight into the app instead of through an httpx client (whose own work is about a
quarter of Q2's count): the gateway's work alone, as uvicorn would hand it the request.
`--executor shortcut` runs the executor without plans (`graph/schema/execution.py` alone), for
a before and after in one tree. The client asks for no compression, as the bench's load
generator does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from graph.config import Settings
from graph.schema.execution import GatewayExecutor
from graph.schema.ids import encode_id
from graph.schema.plans import PlanExecutor
from graph.server.app import create_app
from graph.sources.flarum.settings import FlarumSettings
from graph.sources.sections import SourcesSettings
from simulators.flarum import SERVICE_API_KEY
from simulators.flarum import create_app as create_flarum
from simulators.serve import serve_in_thread
from simulators.world import build_world

from .overhead import Recorded

QUERIES = {
    "q1": "{ discussions(first: 100) { nodes { id title author { id displayName } } } }",
    "q2": '{ node(id: "ID") { ... on FlarumUser { id displayName email } } }'.replace(
        "ID", encode_id("flarum", "FlarumUser", "1")
    ),
}
EXECUTORS = {"plan": PlanExecutor, "shortcut": GatewayExecutor}


def callgrind(switch: str) -> None:
    """Switch callgrind's instrumentation of this process on or off."""
    command = ["callgrind_control", "-i", switch, str(os.getpid())]
    subprocess.run(command, check=True)


def asgi_asker(app: Any, query: str) -> Callable[[], Awaitable[None]]:
    """One POST of `query` straight into `app` as ASGI messages (`--client asgi`): what uvicorn
    hands the gateway, with no HTTP client in the count."""
    body = json.dumps({"query": query}).encode()
    headers = [
        (b"host", b"gateway"),
        (b"accept-encoding", b"identity"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]

    async def ask() -> None:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "root_path": "",
            "query_string": b"",
            "headers": headers,
            "client": ("127.0.0.1", 1),
            "server": ("gateway", 80),
        }
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        sent: list[bytes] = []

        async def receive() -> dict[str, Any]:
            if messages:
                return messages.pop()
            await asyncio.Event().wait()  # the client stays connected
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                sent.append(message.get("body", b""))

        await app(scope, receive, send)
        answer = json.loads(b"".join(sent))
        assert "errors" not in answer and answer["data"], answer

    return ask


async def measure(
    flarum_url: str,
    query: str,
    requests: int,
    *,
    executor: str,
    under_callgrind: bool,
    client_kind: str = "httpx",
) -> float:
    """CPU milliseconds per query."""
    flarum = FlarumSettings(
        url=flarum_url,
        cache_ttl_s=0,  # every query reaches "Flarum"
        api_key=SERVICE_API_KEY,
        api_user_id=1,
        allow_service_fallback=True,
    )
    recorded = Recorded()
    app = create_app(
        Settings(sources=SourcesSettings(flarum=flarum)),
        transports={"flarum": httpx.MockTransport(recorded)},  # the real client, a fake network
    )
    for route in app.routes:
        if getattr(route, "path", "") == "/graphql":
            route.endpoint.schema.execution_context_class = EXECUTORS[executor]  # type: ignore[attr-defined]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://gateway", headers={"accept-encoding": "identity"}
        ) as client:

            async def through_httpx() -> None:
                body = (await client.post("/graphql", json={"query": query})).json()
                assert "errors" not in body and body["data"], body

            ask = through_httpx if client_kind == "httpx" else asgi_asker(app, query)

            for _ in range(30):  # warm the caches (documents, plans, tokens)
                await ask()
            if under_callgrind:
                callgrind("on")
            started = time.process_time()
            for _ in range(requests):
                await ask()
            spent = time.process_time() - started
            if under_callgrind:
                callgrind("off")
            return spent * 1000 / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("query", choices=sorted(QUERIES))
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--executor", choices=sorted(EXECUTORS), default="plan")
    parser.add_argument("--callgrind", action="store_true")
    parser.add_argument(
        "--client",
        choices=["httpx", "asgi"],
        default="httpx",
        help="httpx: an httpx client over ASGITransport (as before); asgi: ASGI messages"
        " straight into the app, so that the count is the gateway's alone",
    )
    args = parser.parse_args()
    with serve_in_thread(create_flarum(build_world())) as flarum_url:
        spent = asyncio.run(
            measure(
                flarum_url,
                QUERIES[args.query],
                args.requests,
                executor=args.executor,
                under_callgrind=args.callgrind,
                client_kind=args.client,
            )
        )
    print(
        f"{args.query} ({args.executor}) in process, {args.requests} queries:"
        f" {spent:.3f} ms CPU per query"
    )


if __name__ == "__main__":
    main()
