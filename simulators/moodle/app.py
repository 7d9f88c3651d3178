"""A Moodle 4.x site's web services: `webservice/rest/server.php` and `login/token.php`.

Reproduced as a client sees them: dispatch on `wsfunction`, XML unless `moodlewsrestformat=json`,
failures as HTTP 200 exception documents, PHP-bracketed parameters validated strictly, tokens per
user and per external service, capability checks (students see their own grades only, teachers
their class), warnings for inaccessible items in batch functions, and the mobile service's
`tool_mobile_call_external_functions`, which stops at the first failing call. Activities,
their completion, assignment user flags and instant messages follow the real 4.5.6 of
`tests/recordings/moodle-4.5.6/issue27.jsonl`.

The endpoints are `server.py` and `login.py`; the functions are one module per family
(`webservice.py`, `courses.py`, `enrol.py`, `users.py`, `assign.py`, `completion.py`,
`messages.py`, `mobile.py` for the multi-call), declared with their parameters in `functions.py`;
which service may call which in `services.py`, who may do what in `access.py`, exceptions in
`errors.py`, parameter checking in `params.py`, the tables in `store.py`.
"""

from __future__ import annotations

from functools import partial

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from ..counting import CountRequests, RequestCounter
from ..world import World, build_world
from .functions import FUNCTIONS
from .login import token
from .server import server
from .services import MOBILE_SERVICE, MULTICALL
from .site import Site
from .store import MoodleStore

__all__ = ["MOBILE_SERVICE", "create_app"]


def create_app(
    world: World | None = None,
    *,
    database: str = ":memory:",
    multicall: bool = True,
    latency_s: float = 0.0,
) -> Starlette:
    """The simulator app. `multicall=False` plays a site older than Moodle 3.7, which has no
    `tool_mobile_call_external_functions`; `latency_s` delays every answer, like a distant site.
    `app.state.counter` counts HTTP requests, `app.state.calls` every function executed."""
    functions = dict(FUNCTIONS)
    if not multicall:
        del functions[MULTICALL]
    site = Site(MoodleStore(world or build_world(), database), functions, latency_s)
    counter = RequestCounter()
    app = Starlette(
        routes=[
            Route("/webservice/rest/server.php", partial(server, site), methods=["GET", "POST"]),
            Route("/login/token.php", partial(token, site), methods=["GET", "POST"]),
            *counter.routes(),
        ],
        middleware=[Middleware(CountRequests, counter=counter)],
    )
    app.state.counter = counter
    app.state.calls = site.calls
    app.state.store = site.store
    return app
