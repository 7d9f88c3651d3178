"""`webservice/rest/server.php`: the token, the function, its parameters; XML unless JSON is
asked for, failures as HTTP 200 exception documents."""

from __future__ import annotations

import asyncio
import html
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .errors import ACCESS_EXCEPTION, INVALID_PARAMETER, MoodleError, PhpError, moodle_exception
from .params import InvalidParameter, parse_php_form
from .services import OUTSIDE_THE_SERVICE, execute, service_functions
from .site import Caller, Site

__all__ = ["RESERVED", "form_items", "render", "server", "xml_value"]


RESERVED = {
    "wstoken",
    "wsfunction",
    "moodlewsrestformat",
    "moodlewssettingfilter",
    "moodlewssettingfileurl",
    "moodlewssettingraw",
    "moodlewssettinglang",
}


async def server(site: Site, request: Request) -> Response:
    if site.latency_s:
        await asyncio.sleep(site.latency_s)
    items = [*request.query_params.multi_items(), *await form_items(request)]
    fmt = dict(items).get("moodlewsrestformat", "xml")
    try:
        values = parse_php_form(items)
    except InvalidParameter:
        return render(fmt, error=INVALID_PARAMETER)
    token, name = str(values.get("wstoken", "")), values.get("wsfunction")
    found = site.store.user_of_token(token) if token else None
    try:
        if found is None:
            raise moodle_exception("invalidtoken", "Invalid token - token not found")
        caller = Caller(*found)
        if not isinstance(name, str):
            raise INVALID_PARAMETER
        if name in OUTSIDE_THE_SERVICE or (
            name in site.functions and name not in service_functions(site, caller.service)
        ):
            raise ACCESS_EXCEPTION
        result = execute(site, caller, name, {k: v for k, v in values.items() if k not in RESERVED})
    except MoodleError as error:
        return render(fmt, error=error)
    except PhpError as error:  # no errorcode: PHP's own `Error`, as a debug-off site sends it
        return JSONResponse({"exception": "Error", "message": str(error)})
    return render(fmt, result=result)


def render(fmt: str, *, result: Any = None, error: MoodleError | None = None) -> Response:
    """JSON as `application/json` with no charset; XML otherwise. With debugging off, an
    error has no `debuginfo` (fact 2)."""
    if fmt == "json":
        if error is not None:
            body = {
                "exception": error.exception,
                "errorcode": error.errorcode,
                "message": error.message,
            }
            return JSONResponse(body)
        return JSONResponse(result)
    if error is not None:
        text = (
            f'<?xml version="1.0" encoding="UTF-8" ?>\n<EXCEPTION class="{error.exception}">\n'
            f"<ERRORCODE>{error.errorcode}</ERRORCODE>\n<MESSAGE>{html.escape(error.message)}</MESSAGE>\n</EXCEPTION>\n"
        )
    else:
        text = (
            f'<?xml version="1.0" encoding="UTF-8" ?>\n<RESPONSE>\n{xml_value(result)}</RESPONSE>\n'
        )
    return Response(text, media_type="application/xml; charset=utf-8")


async def form_items(request: Request) -> list[tuple[str, str]]:
    """The url-encoded body, in order, as PHP reads it into `$_POST`."""
    return parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)


def xml_value(value: Any) -> str:
    """Moodle's XML writer: SINGLE for structures, MULTIPLE for lists, VALUE for scalars."""
    if isinstance(value, dict):
        keys = "".join(
            f'<KEY name="{html.escape(k)}">{xml_value(v)}</KEY>\n' for k, v in value.items()
        )
        return f"<SINGLE>\n{keys}</SINGLE>\n"
    if isinstance(value, list):
        return "<MULTIPLE>\n" + "".join(xml_value(v) for v in value) + "</MULTIPLE>\n"
    if value is None:
        return '<VALUE null="null"/>\n'
    if isinstance(value, bool):
        return f"<VALUE>{int(value)}</VALUE>\n"
    return f"<VALUE>{html.escape(str(value))}</VALUE>\n"
