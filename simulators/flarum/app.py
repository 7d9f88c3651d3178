"""A Flarum 1.7 forum's JSON:API (`/api`), served by Starlette over `FlarumStore`.

It reproduces what a client of a real Flarum 1.7.2 observes (`tests/recordings/flarum-1.7.2`):
documents and `included` (included posts without relationships, partial resources after writes),
the includes Flarum allows and the 400 for others, offset pagination capped at 50 with
`links.next` only when more follow, whitelisted sorts and sticky discussions pinned only when no
sort is given, `filter[q]` with its gambits (and `filter[tag]` dropped beside it), event posts,
error objects of only `status` and `code`, token and API-key header auth (an unknown token is a
guest), the CSRF refusal of a guest's write, flood control, and who may see what.

The routes are here; the handlers are one module per resource (`forum.py`, `discussions.py`,
`posts.py`, `users.py`, `tags.py`, `permissions.py`, and `auth.py` for tokens and who is asking),
with the serialisation in `document.py`, the request's parameters in `parameters.py`, who may see
what in `visibility.py`, the error documents in `errors.py`, the tables in `store.py`.
"""

from __future__ import annotations

from functools import partial

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import Route

from ..counting import CountRequests, RequestCounter
from ..world import World, build_world
from . import auth, discussions, forum, permissions, posts, tags, users
from .errors import ApiError, api_error, http_error, unknown_error
from .site import Site
from .store import FlarumStore

__all__ = ["create_app"]


def create_app(
    world: World | None = None,
    *,
    database: str = ":memory:",
    flood_seconds: float = 10.0,
) -> Starlette:
    """The simulator app; `app.state.counter` counts the requests it served."""
    site = Site(FlarumStore(world or build_world(), database), flood_seconds)
    routes = [
        Route("/api", partial(forum.show_forum, site), name="forum"),
        Route("/api/token", partial(auth.create_token, site), methods=["POST"]),
        Route("/api/discussions", partial(discussions.list_discussions, site)),
        Route("/api/discussions", partial(discussions.create_discussion, site), methods=["POST"]),
        Route("/api/discussions/{id}", partial(discussions.show_discussion, site)),
        Route("/api/posts", partial(posts.list_posts, site)),
        Route("/api/posts", partial(posts.create_post, site), methods=["POST"]),
        Route("/api/posts/{id:int}", partial(posts.show_post, site)),
        Route("/api/users", partial(users.list_users, site)),
        Route("/api/users/{id}", partial(users.show_user, site)),
        Route("/api/tags", partial(tags.list_tags, site)),
        Route("/api/permission", partial(permissions.set_permission, site), methods=["POST"]),
    ]
    counter = RequestCounter()
    app = Starlette(
        routes=[*routes, *counter.routes()],
        exception_handlers={
            ApiError: api_error,
            HTTPException: http_error,
            Exception: unknown_error,
        },
        middleware=[Middleware(CountRequests, counter=counter)],
    )
    app.state.counter = counter
    app.state.store = site.store
    return app
