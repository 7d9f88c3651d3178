"""Is each source there? Shared by `legacygraph check-config` and `/readyz`."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from connectors.errors import UpstreamError
from graph.config import Settings
from graph.sources import SOURCES
from graph.sources.settings import SourceSettings

__all__ = ["ping", "readiness"]


async def ping(name: str, source: SourceSettings, client: httpx.AsyncClient) -> str:
    """Reach one source as the gateway's own configured identity (or anonymously) and say what
    answered; raises the source's `UpstreamError` when it cannot."""
    return await SOURCES[name].ping(name, source, client)


async def readiness(settings: Settings, clients: dict[str, httpx.AsyncClient]) -> dict[str, Any]:
    """Ping every configured source at once, each within its own timeout."""

    async def one(name: str, source: SourceSettings) -> dict[str, Any]:
        try:
            detail = await asyncio.wait_for(ping(name, source, clients[name]), source.timeout_s)
        except UpstreamError as error:
            return {"ready": False, "detail": f"{error.kind}: {error.message}"}
        except TimeoutError:
            return {"ready": False, "detail": f"timeout: no answer within {source.timeout_s} s"}
        return {"ready": True, "detail": detail}

    sources = settings.sources.configured()
    results = await asyncio.gather(*(one(name, source) for name, source in sources.items()))
    found = dict(zip(sources, results, strict=True))
    return {"ready": all(r["ready"] for r in found.values()), "sources": found}
