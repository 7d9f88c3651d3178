"""The gateway's own CPU per query, without the network or a simulator competing for the CPU.

Flarum's answers are recorded once from the simulator, then served from memory to the gateway's
pooled client; the gateway runs in this process behind httpx's ASGI transport (no uvicorn, no
sockets). What is left is what the gateway itself spends: parsing, validation, resolvers,
loaders, JSON. Steadier than `bench.discussions` on a busy machine, and comparable between
commits. Usage: `python -m bench.overhead [--requests N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import httpx

from graph.config import Settings
from graph.server.app import create_app
from graph.sources.flarum.settings import FlarumSettings
from graph.sources.sections import SourcesSettings
from simulators.flarum import create_app as create_flarum
from simulators.serve import serve_in_thread
from simulators.world import build_world

from .discussions import FRONT_PAGE


class Recorded:
    """Answers each request with what the simulator answered to it the first time."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[int, bytes, str]] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        key = str(request.url)
        if key not in self.answers:
            live = httpx.request(request.method, request.url, headers=request.headers)
            self.answers[key] = (live.status_code, live.content, live.headers["content-type"])
        status, content, content_type = self.answers[key]
        return httpx.Response(status, content=content, headers={"content-type": content_type})


async def measure(flarum_url: str, requests: int, rounds: int) -> list[float]:
    """CPU milliseconds per query, one figure per round of `requests` queries."""
    flarum = FlarumSettings(url=flarum_url, cache_ttl_s=0)  # every query reaches "Flarum"
    settings = Settings(sources=SourcesSettings(flarum=flarum))
    recorded = Recorded()
    # The real client, a fake network.
    app = create_app(settings, transports={"flarum": httpx.MockTransport(recorded)})
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:

            async def query() -> None:
                body = (await client.post("/graphql", json={"query": FRONT_PAGE})).json()
                assert "errors" not in body, body["errors"]

            for _ in range(30):  # warm the parser and validation caches
                await query()
            figures = []
            for _ in range(rounds):
                started = time.process_time()
                for _ in range(requests):
                    await query()
                figures.append((time.process_time() - started) * 1000 / requests)
            return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with serve_in_thread(create_flarum(build_world())) as flarum_url:
        figures = asyncio.run(measure(flarum_url, args.requests, args.rounds))
    print(f"front page through the gateway in process, {args.requests} queries x {args.rounds}")
    print(
        f"  gateway CPU per query: median {statistics.median(figures):.2f} ms"
        f"  (rounds: {', '.join(f'{f:.2f}' for f in figures)})"
    )


if __name__ == "__main__":
    main()
