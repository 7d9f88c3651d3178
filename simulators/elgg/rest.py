"""The endpoint `/services/api/rest/{json|xml}/?method=...`: the method, the client, the user,
the parameters, then the call. Errors are HTTP 200 envelopes `{"status": -1, "message": ...}`."""

from __future__ import annotations

import asyncio
import html
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .auth import USER_REFUSED, check_client, user_of
from .site import ApiError, Site

__all__ = ["rest", "to_xml"]


async def rest(site: Site, request: Request) -> Response:
    if site.latency_s:
        await asyncio.sleep(site.latency_s)
    fmt = request.path_params.get("format", "xml") or "xml"
    query = request.scope.get("query_string", b"")
    body = await request.body()
    inputs = dict(parse_qsl(query.decode(), keep_blank_values=True))
    inputs.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    name = inputs.get("method", "")
    try:
        method = site.methods.get(name)
        if method is None or request.method != method.call_method:
            raise ApiError(f"Method call '{name}' has not been implemented.")
        if method.require_api_auth:
            check_client(site, request, query, body, inputs)
        viewer = user_of(site, inputs)
        if method.require_user_auth and viewer is None:
            raise ApiError(USER_REFUSED, -20)
        params = {k: v for k, v in inputs.items() if k not in ("method", "api_key", "auth_token")}
        for param, (kind, required) in method.parameters.items():
            if required and param not in params:
                raise ApiError(f"Missing parameter {param} in method {name}")
            if kind == "int" and param in params and not params[param].lstrip("-").isdigit():
                raise ApiError(f"{param} must be an integer")
        site.calls.add(name)
        envelope: dict[str, Any] = {"status": 0, "result": method.run(site, viewer, params)}
    except ApiError as error:
        envelope = {"status": error.status, "message": error.message}
    if fmt == "xml":
        return Response(
            f'<?xml version="1.0" encoding="UTF-8"?>\n<elgg>{to_xml(envelope)}</elgg>\n',
            media_type="text/xml",
        )
    return JSONResponse({"api": [envelope]} if site.legacy_envelope else envelope)


def to_xml(value: Any) -> str:
    """Elgg's XML view: fields as elements, list entries as `<array_item>` (unverified)."""
    if isinstance(value, dict):
        return "".join(f"<{k}>{to_xml(v)}</{k}>" for k, v in value.items())
    if isinstance(value, list):
        return "".join(f"<array_item>{to_xml(v)}</array_item>" for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return html.escape(str(value))
