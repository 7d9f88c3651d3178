"""CiviCRM's error answers: an `ApiError` becomes `{is_error: 1, error_message, ...}`; a PHP fatal
error is WordPress's critical-error page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .site import User

__all__ = ["CRITICAL_ERROR", "ApiError", "PhpFatal", "error_body", "invalid_option", "require"]


class ApiError(Exception):
    def __init__(
        self,
        message: str,
        code: str | None = None,
        field: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.message = message
        self.code = code
        self.field = field
        self.extra = dict(extra or {})


class PhpFatal(Exception):
    """A PHP fatal error inside CiviCRM: WordPress answers its "critical error" page, HTTP 500."""


CRITICAL_ERROR = (
    '<!DOCTYPE html>\n<html lang="en-US">\n<head>\n<title>WordPress &rsaquo; Error</title>\n'
    '</head>\n<body id="error-page">\n<div class="wp-die-message"><p>There has been a'
    " critical error on this website.</p></div></body>\n</html>"
)


def error_body(error: ApiError, entity: str | None, action: str | None) -> dict[str, Any]:
    """An API v3 error answer: numeric codes are numbers, the others text (fact 7, 22)."""
    body: dict[str, Any] = dict(error.extra)
    if error.field:
        body["error_field"] = error.field
    if error.code is not None:
        code = error.code
        body["error_code"] = int(code) if code.lstrip("-").isdigit() else code
    if entity:
        body |= {"entity": entity, "action": action}
    return body | {"is_error": 1, "error_message": error.message}


def invalid_option(value: Any, field: str) -> ApiError:
    return ApiError(f"'{value}' is not a valid option for field {field}", "2001", field)


def require(user: User, allowed: bool, entity: str, action: str, what: str) -> None:
    if not allowed:
        also = f" and {what}" if what else ""
        raise ApiError(
            f"API permission check failed for {entity}/{action} call; insufficient"
            f" permission: require access CiviCRM{also}",
            "unauthorized",
        )
