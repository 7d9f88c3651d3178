"""Who is asking: token and API-key header auth (an unknown token is a guest, fact 3), the actor
of a write (Flarum's CSRF refusal of a guest's), and `POST /api/token`."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .errors import ApiError
from .parameters import json_body
from .site import Site
from .store import FlarumStore

__all__ = ["Actor", "actor_of", "create_token", "writer"]


@dataclass(frozen=True)
class Actor:
    user: sqlite3.Row | None
    via_header: bool
    """Authenticated by token or API key, which bypasses Flarum's CSRF check."""
    via_key: bool = False
    """An API key acting as a user: exempt from flood control (fact 5)."""

    @property
    def id(self) -> int | None:
        return None if self.user is None else int(self.user["id"])

    @property
    def is_admin(self) -> bool:
        return bool(self.user and self.user["is_admin"])

    @property
    def moderates(self) -> bool:
        return bool(self.user and (self.user["is_admin"] or self.user["is_moderator"]))


def actor_of(store: FlarumStore, request: Request) -> Actor:
    parts = request.headers.get("authorization", "").split(";")
    if not parts[0].startswith("Token "):
        return Actor(None, via_header=False)
    credential = parts[0][len("Token ") :]
    key = store.api_key(credential)
    if key is not None:
        user_id = key["user_id"]
        if user_id is None and len(parts) > 1:
            name, _, value = parts[1].strip().partition("=")
            user_id = value if name == "userId" else None
        user = store.user(user_id) if user_id is not None else None
        return Actor(user, via_header=user is not None, via_key=user is not None)
    user = store.user_for_token(credential)  # an unknown token is a guest (fact 3)
    return Actor(user, via_header=user is not None)


def writer(store: FlarumStore, request: Request) -> Actor:
    """The actor of a write: Flarum's CSRF check refuses one not authenticated by header,
    and an unconfirmed user may not write (facts 3, 5, 6, 25)."""
    actor = actor_of(store, request)
    if not actor.via_header or actor.user is None:
        raise ApiError(400, "csrf_token_mismatch")
    if not actor.user["is_email_confirmed"]:
        raise ApiError(403, "permission_denied")
    return actor


async def create_token(site: Site, request: Request) -> Response:
    """Fact 1: a body without `password` is Flarum's 500."""
    body = await json_body(request)
    if "password" not in body:
        raise ApiError(500, "unknown")
    user = site.store.check_password(
        str(body.get("identification", "")), str(body.get("password", ""))
    )
    if user is None:
        raise ApiError(401, "not_authenticated")
    token = site.store.issue_token(user["id"], remember=bool(body.get("remember")))
    return JSONResponse({"token": token, "userId": user["id"]})
