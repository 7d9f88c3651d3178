"""An Elgg site's web services: `/services/api/rest/{json|xml}/?method=...`.

Both layers of Elgg's authentication are checked as its API engine does: the client (an API key,
plainly or with an HMAC over time, nonce, key, the raw query string and the hash of the raw POST
body; ±25 h clock window; a signature seen before is a replay) and the user (`auth_token` from
`auth.gettoken`, valid for 60 minutes from creation). Errors are HTTP 200 envelopes
`{"status": -1, "message": ...}`. Refused signatures are recorded with their reason in
`app.state.refusals`, so tests can tell why.

The endpoint is in `rest.py`, the authentication in `auth.py`, the two method sets in
`methods.py`, their methods by family beside them (`system.py`, `users.py`, `groups.py`,
`river.py`, and `rest_api.py` for the plugin's), the tables in `store.py`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from ..counting import CountRequests, RequestCounter
from ..world import World, build_world
from .methods import OWN_METHODS, PLUGIN_METHODS
from .rest import rest
from .site import Site
from .store import open_database, user_guid

__all__ = ["API_KEY", "SECRET", "create_app", "user_guid"]

API_KEY = "5f0c7a2e9b1d4c3a8e6f0b2d4c6a8e0f1a3c5e7b"
SECRET = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d"
"""The simulated site's API key pair, as an admin would create it for the gateway."""


def create_app(
    world: World | None = None,
    *,
    database: str = ":memory:",
    latency_s: float = 0.0,
    legacy_hmac: bool = False,
    legacy_envelope: bool = False,
    clock: Callable[[], float] = time.time,
    methods: str = "legacygraph",
    method_keys: str = "verb",
) -> Starlette:
    """The simulator app. `legacy_hmac` accepts the older nonce-less hex signature instead;
    `legacy_envelope` wraps answers as `{"api": [...]}` like Elgg 1.5/1.6. `methods` picks the
    plugin the site runs: `legacygraph` (this project's own method set) or `rest_api`, the
    "Web Services REST API" plugin of the manlui/elgg_with_rest_api repository (lib/group.php,
    lib/user.php: its method names, parameters and answers). `method_keys` is how
    `system.api.list` keys its methods: `verb` (`GET:group.get`, Elgg 5) or `name` (Elgg 4)."""
    if method_keys not in ("verb", "name"):
        raise ValueError(f"method_keys must be verb or name, not {method_keys!r}")
    world = world or build_world()
    if methods not in ("legacygraph", "rest_api"):
        raise ValueError(f"methods must be legacygraph or rest_api, not {methods!r}")
    site = Site(
        open_database(world, database),
        OWN_METHODS if methods == "legacygraph" else PLUGIN_METHODS,
        clock,
        API_KEY,
        SECRET,
        method_keys=method_keys,
        legacy_hmac=legacy_hmac,
        legacy_envelope=legacy_envelope,
        latency_s=latency_s,
    )
    counter = RequestCounter()
    app = Starlette(
        routes=[
            Route("/services/api/rest/{format}/", partial(rest, site), methods=["GET", "POST"]),
            *counter.routes(),
        ],
        middleware=[Middleware(CountRequests, counter=counter)],
    )
    app.state.counter = counter
    app.state.calls = site.calls
    app.state.refusals = site.refusals
    app.state.store = site.database
    return app
