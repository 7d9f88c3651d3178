"""One JSON operation POSTed to `/graphql` handed straight to its endpoint.

Nearly every request is one operation POSTed as JSON to `/graphql`. Starlette's exception
middleware, router and route take about 40,000 instructions to hand it to the endpoint (a
`Request` made, each route's regular expression tried, the method checked); here that request
goes to the route's own app at once, with the scope entries the router would have given it
(`router`, `route`, `endpoint`, `path_params`). Every other request (another path, method or
content type, a mount under a root path) goes through the router, as before: a multipart
upload, whose form Starlette may refuse with an `HTTPException`, keeps the exception middleware
that answers it.
"""

from __future__ import annotations

from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from graph.server.media import plain_json

__all__ = ["JsonOperations"]


class JsonOperations:
    """Middleware, innermost: a POST of `application/json` to `route`'s path goes to `route`."""

    def __init__(self, app: ASGIApp, route: Route) -> None:
        self.app = app
        self.route = route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.route
        if (
            scope["type"] == "http"
            and scope["path"] == route.path
            and scope["method"] == "POST"
            and not scope.get("root_path")
            and _json(scope)
        ):
            if "router" not in scope:
                scope["router"] = scope["app"].router
            scope["route"] = route
            scope["endpoint"] = route.endpoint
            scope["path_params"] = {}
            await route.app(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _json(scope: Scope) -> bool:
    """The request says its body is JSON (`plain_json`: the endpoint's own test)."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            return plain_json(value.decode("latin-1"))
    return False
