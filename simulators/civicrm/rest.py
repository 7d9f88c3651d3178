"""`extern/rest.php`: the site key, then the user's api_key (or the PHPSESSID of a login), then
API v3 or v2; `q=civicrm/ping` and `q=civicrm/login`. Every answer is HTTP 200."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from .errors import CRITICAL_ERROR, ApiError, PhpFatal, error_body
from .formats import as_json, as_xml, nest
from .site import Site, User
from .store import contact_id_of
from .v2 import run_v2
from .v3 import run_v3

__all__ = ["MORE_INFO", "SITE_KEY", "login", "rest", "user_of"]


SITE_KEY = "sim-civicrm-site-key"
MORE_INFO = "More info at: http://wiki.civicrm.org/confluence/display/CRMDOC/Command-line+Script+Configuration"


def user_of(site: Site, values: Mapping[str, Any], request: Request) -> User | None:
    contact_id = site.sessions.get(request.cookies.get("PHPSESSID", ""))
    if contact_id is None and values.get("api_key"):
        row = site.store.one("SELECT id FROM contacts WHERE api_key = ?", (str(values["api_key"]),))
        contact_id = row["id"] if row else None
    if contact_id is None:
        return None
    staff = site.store.one("SELECT staff FROM contacts WHERE id = ?", (contact_id,))
    is_staff = bool(staff and staff["staff"])
    restricted = int(contact_id) == contact_id_of(5)
    return User(int(contact_id), is_staff, is_staff, is_staff and not restricted)


async def rest(site: Site, request: Request) -> Response:
    items = [
        *request.query_params.multi_items(),
        *parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True),
    ]
    values = nest(items)
    q = str(values.get("q", ""))
    v3 = "entity" in values or str(values.get("version", "")) == "3"
    wants_json = "json" in values and not site.force_xml
    respond = (
        (lambda body, hier=False: as_json(body))
        if wants_json
        else (lambda body, hier=False: as_xml(body, hier, v3))
    )
    entity = action = None
    try:
        if values.get("key") != SITE_KEY:
            if v3 or site.era == "5":
                raise ApiError("Failed to authenticate key")  # fact 10, both cases
            raise ApiError(f"Could not authenticate user, invalid site key. {MORE_INFO}")
        if q == "civicrm/ping":
            return respond({"is_error": 0, "message": f"PONG: {values['key']}"})
        if site.era == "5" and q and not values.get("entity"):
            parts = q.split("/")
            if len(parts) != 3 or parts[0] != "civicrm" or parts[1] == "login":
                raise ApiError("ERROR: Malformed REST path")  # fact 25
            v3 = True
        if q == "civicrm/login":
            return login(site, values, respond)
        user = user_of(site, values, request)
        if v3:
            if "api_key" not in values and user is None:
                raise ApiError("FATAL: mandatory param 'api_key' (user key) missing")
            if user is None:
                raise ApiError("ERROR: No CMS user associated with given api-key")  # fact 9
            params = {
                k: v
                for k, v in values.items()
                if k not in ("q", "key", "api_key", "entity", "action", "json", "version")
            }
            if isinstance(values.get("json"), str) and values["json"].startswith("{"):
                params.update(json.loads(values["json"]))
            entity, action = (
                str(values.get("entity", "")),
                str(values.get("action", "get")).lower(),
            )
            if q and not values.get("entity"):
                _, entity, action = [*q.split("/"), "", ""][:3]
                entity = "".join(part.title() for part in entity.split("_"))
            if action != "get" and request.method != "POST":
                raise ApiError(
                    "SECURITY: All requests that modify the database must be http POST, not GET."
                )
            site.calls.add(f"{entity}.{action}")
            target = params.get("id") or params.get("contact_id") or ""
            site.log.append((str(values.get("api_key", "")), f"{entity}.{action}", str(target)))
            return respond(run_v3(site, user, entity, action, params), True)
        parts = q.split("/")
        if len(parts) != 3 or parts[0] != "civicrm":
            raise ApiError("Unknown function invocation.")
        if user is None:
            raise ApiError("Valid session, or user api_key required")
        params = {k: v for k, v in values.items() if k not in ("q", "key", "api_key", "json")}
        site.calls.add(f"{parts[1]}.{parts[2]}")
        result = run_v2(site, user, parts[1], parts[2], params)
        return respond(result, isinstance(result, list))
    except ApiError as error:
        if v3:
            return respond(error_body(error, entity, action))
        return respond({"is_error": 1, "error_message": error.message})
    except PhpFatal:
        return Response(CRITICAL_ERROR, status_code=500, media_type="text/html; charset=UTF-8")
    except (ValueError, TypeError):
        return respond({"is_error": 1, "error_message": "Invalid parameters"})


def login(site: Site, values: Mapping[str, Any], respond: Callable[..., Response]) -> Response:
    name, password = values.get("name"), values.get("pass")
    if not name or not password:
        raise ApiError("Invalid name / password.")
    row = site.store.one("SELECT * FROM contacts WHERE username = ?", (str(name),))
    if row is None or row["password"] != password:
        raise ApiError("Could not authenticate user, invalid name or password.")
    if not row["api_key"]:
        raise ApiError(
            "This user does not have a valid API key in the database, and therefore cannot authenticate through this interface"
        )
    session = secrets.token_hex(13)
    site.sessions[session] = row["id"]
    response = respond(
        {
            "is_error": 0,
            "api_key": row["api_key"],
            "PHPSESSID": session,
            "key": hashlib.sha1(str(row["id"]).encode(), usedforsecurity=False).hexdigest(),
        }
    )
    response.set_cookie("PHPSESSID", session)
    return response
