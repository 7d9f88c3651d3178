"""`GET /api`: the forum (fact 4)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .auth import actor_of
from .document import Document
from .parameters import include_tree
from .site import Site

__all__ = ["show_forum"]


async def show_forum(site: Site, request: Request) -> Response:
    """Fact 4: the actor only where there is one; without `include`, groups and tags."""
    actor = actor_of(site.store, request)
    document = Document(site.store, request, actor)
    tree = include_tree(request, {"actor", "groups", "tags"}, ("groups", "tags"))
    attributes: dict[str, Any] = {
        "title": "Legacygraph Community Forum",
        "description": "A simulated Flarum forum.",
        "apiUrl": str(request.url_for("forum")),
        "canStartDiscussion": actor.user is not None,
        "canSearchUsers": actor.user is not None,
        "minPrimaryTags": "1",
        "maxPrimaryTags": "1",
    }
    if actor.is_admin:
        attributes["version"] = "1.7.2"
    relationships: dict[str, Any] = {}
    if "actor" in tree and actor.user is not None:
        document.add(document.user(actor.user, full=True))
        relationships["actor"] = {"data": {"type": "users", "id": str(actor.id)}}
    if "groups" in tree:
        relationships["groups"] = {"data": []}
    if "tags" in tree:
        rows = site.store.all("SELECT * FROM tags WHERE is_restricted = 0 ORDER BY position")
        for row in rows:
            document.add(document.tag(row))
        relationships["tags"] = {"data": [{"type": "tags", "id": str(r["id"])} for r in rows]}
    resource: dict[str, Any] = {"type": "forums", "id": "1", "attributes": attributes}
    if relationships:
        resource["relationships"] = relationships
    return document.render(resource)
