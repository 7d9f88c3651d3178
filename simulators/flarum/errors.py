"""Flarum's error documents: `status` and `code` only, and for a `validation_error` a `detail`
and `source.pointer` per field (fact 2); Starlette's own 404/405 and anything unexpected in the
same shape."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

__all__ = ["JSONAPI", "ApiError", "api_error", "http_error", "unknown_error", "validation"]

JSONAPI = "application/vnd.api+json"


class ApiError(Exception):
    """A Flarum error document: `status` and `code`, and only for `validation_error` a `detail`
    and `source.pointer` per error (fact 2)."""

    def __init__(self, status: int, code: str, *details: tuple[str, str]) -> None:
        self.status = status
        self.code = code
        self.details = details


def validation(*fields: tuple[str, str]) -> ApiError:
    return ApiError(422, "validation_error", *fields)


async def api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    errors: list[dict[str, Any]] = [
        {
            "status": str(exc.status),
            "code": exc.code,
            "detail": detail,
            "source": {"pointer": pointer},
        }
        for detail, pointer in exc.details
    ] or [{"status": str(exc.status), "code": exc.code}]
    return JSONResponse({"errors": errors}, status_code=exc.status, media_type=JSONAPI)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "unknown")
    return await api_error(request, ApiError(exc.status_code, code))


async def unknown_error(request: Request, exc: Exception) -> Response:
    return await api_error(request, ApiError(500, "unknown"))
