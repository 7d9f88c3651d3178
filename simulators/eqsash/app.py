"""An Eqsash site's external API: one endpoint taking `key`, `module`, `method`, `data`, and the
user's `token` (or session id).

Modules declare their methods as Eqsash does: `type` external or internal, an optional `access`
list of roles, an optional `format` (`json`, `json_object`, or raw), an optional `method` the
call dispatches to. Only the seed documentation exists for Eqsash, so what it leaves open is
PROVISIONAL here and kept in one place (`PROVISIONAL`): the path `/api/`, `data` as a JSON
document, and errors as an HTTP status with `{"error": code, "message": text}`.

The endpoint and the modules' method table are in `api.py`, one module per Eqsash module beside
it (`users.py`, `articles.py`, `sections.py`, `stats.py`), the tables in `store.py`.
"""

from __future__ import annotations

from functools import partial

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from ..counting import CountRequests, RequestCounter
from ..world import World, build_world
from .api import SESSION_NAME, api
from .site import Site
from .store import open_database

__all__ = ["API_KEY", "API_PATH", "PROVISIONAL", "SESSION_NAME", "create_app"]

API_KEY = "12345"
"""Eqsash's documented default site key (installs often keep it; it authorises the client)."""
API_PATH = "/api/"
PROVISIONAL = {
    "path": API_PATH,
    "data": "a JSON document in the `data` field",
    "errors": "HTTP 401 invalid_key/invalid_token/login_required, 403 access_denied/internal_method, "
    "404 unknown_method, 400 bad_data; body {'error': code, 'message': text}",
}


def create_app(
    world: World | None = None, *, database: str = ":memory:", api_key: str = API_KEY
) -> Starlette:
    site = Site(open_database(world or build_world(), database), RequestCounter(), api_key)
    counter = RequestCounter()
    app = Starlette(
        routes=[Route(API_PATH, partial(api, site), methods=["GET", "POST"]), *counter.routes()],
        middleware=[Middleware(CountRequests, counter=counter)],
    )
    app.state.counter = counter
    app.state.calls = site.calls
    return app
