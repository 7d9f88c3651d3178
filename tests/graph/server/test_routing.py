"""A JSON operation POSTed to `/graphql` goes past Starlette's router to its endpoint at once
(graph/server/routing.py): every request here is sent with and without that, to one gateway,
and gets the same status, headers and bytes; the endpoint sees the scope the router gives it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from graph.config import Settings, SourcesSettings
from graph.server.app import create_app
from graph.server.endpoint import GraphQLEndpoint
from graph.server.routing import JsonOperations
from graph.sources.flarum.source import FlarumSettings
from tests.conftest import Simulator

ONE = b'{"query": "{ discussions(first: 1) { nodes { title } } }"}'
JSON = {"content-type": "application/json"}

REQUESTS: dict[str, tuple[str, str, bytes, dict[str, str]]] = {
    "a JSON operation": ("POST", "/graphql", ONE, JSON),
    "with a charset, in capitals": (
        "POST",
        "/graphql",
        ONE,
        {"content-type": "Application/JSON; charset=utf-8"},
    ),
    "a batch": ("POST", "/graphql", b"[" + ONE + b"]", JSON),
    "not JSON": ("POST", "/graphql", b"{query", JSON),
    "a GET": ("GET", "/graphql?query=%7B__typename%7D", b"", {}),
    "text/plain": ("POST", "/graphql", ONE, {"content-type": "text/plain"}),
    "no content type": ("POST", "/graphql", ONE, {}),
    "a broken multipart form": (
        "POST",
        "/graphql",
        b"--x\r\nnot a part",
        {"content-type": "multipart/form-data; boundary=x"},
    ),
    "PUT": ("PUT", "/graphql", ONE, JSON),
    "a trailing slash": ("POST", "/graphql/", ONE, JSON),
    "another path": ("POST", "/healthz", ONE, JSON),
    "too large": ("POST", "/graphql", b" " * 2_000_000 + ONE, JSON),
    "CORS preflight": (
        "OPTIONS",
        "/graphql",
        b"",
        {"origin": "https://app.example", "access-control-request-method": "POST"},
    ),
}


@pytest.fixture
async def app(flarum: Simulator) -> AsyncIterator[Starlette]:
    flarum_settings = FlarumSettings(url=flarum.url, cache_ttl_s=0)
    app = create_app(Settings(sources=SourcesSettings(flarum=flarum_settings)))
    async with app.router.lifespan_context(app):
        yield app


async def send(
    app: Starlette,
    monkeypatch: pytest.MonkeyPatch,
    request: tuple[str, str, bytes, dict[str, str]],
    *,
    direct: bool,
) -> tuple[httpx.Response, list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []
    endpoint_call = GraphQLEndpoint.__call__
    through = JsonOperations.__call__

    async def noted(self: GraphQLEndpoint, scope: Any, receive: Any, send: Any) -> None:
        seen.append({k: scope.get(k) for k in ("router", "route", "endpoint", "path_params")})
        await endpoint_call(self, scope, receive, send)

    async def router_only(self: JsonOperations, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    with monkeypatch.context() as patched:
        patched.setattr(GraphQLEndpoint, "__call__", noted)
        if not direct:
            patched.setattr(JsonOperations, "__call__", router_only)
        assert JsonOperations.__call__ is (through if direct else router_only)
        method, path, content, headers = request
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway"
        ) as client:
            answer = await client.request(method, path, content=content, headers=headers)
    return answer, seen


@pytest.mark.parametrize("request_", REQUESTS.values(), ids=REQUESTS.keys())
async def test_the_answer_is_the_router_s(
    app: Starlette,
    monkeypatch: pytest.MonkeyPatch,
    request_: tuple[str, str, bytes, dict[str, str]],
) -> None:
    routed, routed_scope = await send(app, monkeypatch, request_, direct=False)
    direct, direct_scope = await send(app, monkeypatch, request_, direct=True)
    assert (direct.status_code, direct.headers.multi_items(), direct.content) == (
        routed.status_code,
        routed.headers.multi_items(),
        routed.content,
    )
    assert direct_scope == routed_scope


async def test_a_json_operation_skips_the_router(
    app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    routed: list[str] = []
    handle = Route.handle

    async def noted(self: Route, scope: Any, receive: Any, send: Any) -> None:
        if isinstance(self.endpoint, GraphQLEndpoint):  # not the simulator's routes
            routed.append(scope["path"])
        await handle(self, scope, receive, send)

    monkeypatch.setattr(Route, "handle", noted)
    answer, seen = await send(app, monkeypatch, REQUESTS["a JSON operation"], direct=True)
    assert answer.json()["data"]["discussions"]["nodes"]
    assert routed == [] and seen[0]["route"].path == "/graphql"
    await send(app, monkeypatch, REQUESTS["text/plain"], direct=True)
    assert routed == ["/graphql"]
