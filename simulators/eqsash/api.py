"""The one endpoint: the client key, the module's declared method, the user, then the call.

Modules declare their methods as Eqsash does: `type` external or internal, an optional `access`
list of roles, an optional `format` (`json`, `json_object`, or raw).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from . import articles, sections, stats, users
from .site import ApiError, Site

__all__ = ["MODULES", "SESSION_NAME", "Declared", "api"]

SESSION_NAME = "EQSASH_SESSION"


@dataclass(frozen=True)
class Declared:
    """One entry of a module's `$api` map."""

    run: Callable[[Site, sqlite3.Row | None, dict[str, Any]], Any]
    type: str = "internal"
    access: tuple[str, ...] = ()
    format: str | None = "json"


MODULES: dict[str, dict[str, Declared]] = {
    "users": {
        "current": Declared(users.current, "external", ("administrator", "editor", "member")),
        "get": Declared(users.get, "external"),
        "get_many": Declared(users.get_many, "external"),
        "get_by_email": Declared(
            users.get_by_email, "external", ("administrator", "editor", "member")
        ),
        "login": Declared(users.login, "external"),
        "get_user_id": Declared(users.user_id, "internal", ("administrator",)),
        "get_user_id_plus": Declared(users.user_id, "external", ("administrator",)),
    },
    "articles": {
        "list": Declared(articles.list_page, "external"),
        "get": Declared(articles.get, "external"),
        "get_many": Declared(articles.get_many, "external"),
    },
    # Eqsash's json_object format: the sections list arrives as an object keyed by id.
    "sections": {"list": Declared(sections.list_all, "external", format="json_object")},
    # Typed nowhere in the gateway: reached only through the generic call.
    "stats": {
        "get_counters": Declared(stats.counters, "external", ("administrator", "editor")),
        "rebuild": Declared(stats.counters, "internal", ("administrator",)),
    },
}


def viewer_of(site: Site, fields: Mapping[str, str]) -> sqlite3.Row | None:
    credential = fields.get("token") or fields.get(SESSION_NAME)
    if not credential:
        return None
    found = site.rows(
        "SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ? AND s.expires > ?",
        (credential, int(time.time())),
    )
    if not found:
        raise ApiError(401, "invalid_token", "the token or session is not valid")
    return found[0]


async def api(site: Site, request: Request) -> Response:
    fields = dict(request.query_params)
    fields.update(
        parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    )
    try:
        if fields.get("key") != site.api_key:
            raise ApiError(401, "invalid_key", "the API key is not valid")
        module, name = fields.get("module", ""), fields.get("method", "")
        declared = MODULES.get(module, {}).get(name)
        if declared is None:
            raise ApiError(404, "unknown_method", f"{module}.{name} does not exist")
        if declared.type != "external":
            raise ApiError(403, "internal_method", f"{module}.{name} is internal to the site")
        viewer = viewer_of(site, fields)
        if declared.access:
            if viewer is None:
                raise ApiError(401, "login_required", f"{module}.{name} needs a logged-in user")
            if viewer["role"] not in declared.access:
                raise ApiError(
                    403, "access_denied", f"{module}.{name} is for {', '.join(declared.access)}"
                )
        try:
            data = json.loads(fields.get("data") or "{}")
        except ValueError:
            raise ApiError(400, "bad_data", "data is not a JSON document") from None
        if not isinstance(data, dict):
            raise ApiError(400, "bad_data", "data must be a JSON object")
        site.calls.add(f"{module}.{name}")
        result = declared.run(site, viewer, data)
    except ApiError as error:
        return JSONResponse(
            {"error": error.code, "message": error.message}, status_code=error.status
        )
    if declared.format == "json_object" and isinstance(result, list):
        result = {str(i): v for i, v in enumerate(result)}
    if declared.format is None:
        return PlainTextResponse(str(result))
    return JSONResponse(result)
