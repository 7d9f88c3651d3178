"""`/api/users`: a page of users (fact 22) and one user, by id or by slug."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from .auth import actor_of
from .document import Document
from .errors import ApiError
from .parameters import links, window
from .site import Site

__all__ = ["list_users", "show_user"]


async def list_users(site: Site, request: Request) -> Response:
    """Fact 22: guests may not list users; for anyone but an administrator Flarum ignores
    `filter[email]` (and finds nobody by an `email:` search)."""
    actor = actor_of(site.store, request)
    if actor.user is None:
        raise ApiError(403, "permission_denied")
    offset, limit = window(request)
    where, params = ["1"], []
    q = request.query_params
    search = q.get("filter[q]", "")
    if search.startswith("email:"):
        where.append("email = ? COLLATE NOCASE" if actor.is_admin else "0")
        params += [search[len("email:") :]] if actor.is_admin else []
    elif search:
        where.append("(username LIKE ? OR display_name LIKE ?)")
        params += [f"%{search}%"] * 2
    if q.get("filter[email]") and actor.is_admin:
        where.append("email = ? COLLATE NOCASE")
        params.append(q["filter[email]"])
    rows = site.store.all(
        f"SELECT * FROM users WHERE {' AND '.join(where)} ORDER BY id LIMIT ? OFFSET ?",
        [*params, limit + 1, offset],
    )
    document = Document(site.store, request, actor)
    data = []
    for row in rows[:limit]:
        user = document.user(row, full=True)
        user["relationships"] = {"groups": {"data": []}}
        data.append(user)
    return document.render(data, links(request, offset, limit, len(rows) > limit))


async def show_user(site: Site, request: Request) -> Response:
    actor = actor_of(site.store, request)
    key = request.path_params["id"]
    if request.query_params.get("bySlug"):
        row = site.store.one("SELECT * FROM users WHERE username = ? COLLATE NOCASE", (key,))
    else:
        row = site.store.user(key) if key.isdigit() else None
    if row is None:
        raise ApiError(404, "not_found")
    document = Document(site.store, request, actor)
    return document.render(document.user(row, full=True))
