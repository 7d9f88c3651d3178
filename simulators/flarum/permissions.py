"""`POST /api/permission`: only the `postWithoutThrottle` permission matters here."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from .auth import actor_of
from .errors import ApiError
from .parameters import json_body
from .site import Site

__all__ = ["set_permission"]


async def set_permission(site: Site, request: Request) -> Response:
    """`POST /api/permission` (administrators): 204 with no body."""
    actor = actor_of(site.store, request)
    if not actor.via_header or actor.user is None:
        raise ApiError(400, "csrf_token_mismatch")
    if not actor.is_admin:
        raise ApiError(403, "permission_denied")
    body = await json_body(request)
    if body.get("permission") == "postWithoutThrottle":
        groups = {str(g) for g in body.get("groupIds") or []}
        site.store.execute(
            "UPDATE users SET post_without_throttle = ? WHERE is_admin = 0",
            (int("3" in groups),),  # 3: the Members group
        )
    return Response(status_code=204)
