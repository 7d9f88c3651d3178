"""`GET /api/tags`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from .auth import actor_of
from .document import Document
from .site import Site

__all__ = ["list_tags"]


async def list_tags(site: Site, request: Request) -> Response:
    actor = actor_of(site.store, request)
    document = Document(site.store, request, actor)
    rows = site.store.all(
        "SELECT * FROM tags WHERE is_restricted = 0 OR ? ORDER BY position IS NULL, position",
        (int(actor.is_admin),),
    )
    return document.render([document.tag(row) for row in rows])
