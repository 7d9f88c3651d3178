"""`login/token.php` (fact 27)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .server import form_items
from .services import CUSTOM_SERVICE, MOBILE_SERVICE
from .site import Site
from .store import GUEST

__all__ = ["login_answer", "login_error", "token"]


async def token(site: Site, request: Request) -> Response:
    """`login/token.php` (fact 27), in the order it checks: fields, password, guest,
    service."""
    form = {**dict(request.query_params), **dict(await form_items(request))}
    if form.get("appsitecheck") == "1":
        return login_answer({"appsitecheck": "ok"})
    for required in ("username", "password", "service"):
        if required not in form:
            return login_error("missingparam", f"A required parameter ({required}) was missing")
    user = site.store.one("SELECT * FROM users WHERE username = ?", (form["username"],))
    if user is None or user["suspended"] or not form["password"]:
        return login_error("invalidlogin", "Invalid login, please try again")
    if user["password"] != form["password"]:
        return login_error("invalidlogin", "Invalid login, please try again")
    if user["id"] == GUEST:
        return login_error("noguest", "No guests here!")
    if form["service"] not in (MOBILE_SERVICE, CUSTOM_SERVICE):
        return login_error(
            "servicenotavailable",
            "Web service is not available. (It doesn't exist or might be disabled.)",
        )
    token = site.store.token_for(user["id"], form["service"])
    return login_answer({"token": token, "privatetoken": None})


def login_answer(body: dict[str, Any]) -> Response:
    return JSONResponse(body, media_type="application/json; charset=utf-8")


def login_error(code: str, message: str) -> Response:
    return login_answer(
        {
            "error": message,
            "errorcode": code,
            "stacktrace": None,
            "debuginfo": None,
            "reproductionlink": None,
        }
    )
