"""Moodle's exceptions as its web service layer sends them, and the warnings of batch functions."""

from __future__ import annotations

from typing import Any

__all__ = [
    "ACCESS_EXCEPTION",
    "INVALID_PARAMETER",
    "NOT_ACCESSIBLE",
    "MoodleError",
    "PhpError",
    "missing_record",
    "moodle_exception",
    "no_permission",
    "warning",
]


class MoodleError(Exception):
    """A Moodle exception as the web service layer sends it. `exception` is the PHP class name:
    namespaced for the core exceptions of 4.x, plain for the `dml_*` and web service ones.
    `module` is the string component that `moreinfourl` names inside a multi-call."""

    def __init__(
        self, exception: str, errorcode: str, message: str, module: str = "moodle"
    ) -> None:
        self.exception = exception
        self.errorcode = errorcode
        self.message = message
        self.module = module


class PhpError(Exception):
    """A PHP `Error` (not an exception Moodle threw on purpose): no errorcode when alone."""


INVALID_PARAMETER = MoodleError(
    "core\\exception\\invalid_parameter_exception",
    "invalidparameter",
    "Invalid parameter value detected",
    "debug",
)
ACCESS_EXCEPTION = MoodleError(
    "webservice_access_exception", "accessexception", "Access control exception", "webservice"
)
NOT_ACCESSIBLE = MoodleError(
    "core\\exception\\require_login_exception",
    "requireloginerror",
    "Course or activity not accessible.",
)


def no_permission(what: str) -> MoodleError:
    return MoodleError(
        "core\\exception\\required_capability_exception",
        "nopermissions",
        f"Sorry, but you do not currently have permissions to do that ({what}).",
    )


def missing_record(table: str) -> MoodleError:
    return MoodleError(
        "dml_missing_record_exception",
        "invalidrecord",
        f"Can't find data record in database table {table}.",
    )


def moodle_exception(errorcode: str, message: str, module: str = "moodle") -> MoodleError:
    return MoodleError("core\\exception\\moodle_exception", errorcode, message, module)


def warning(item: str, itemid: int, code: str, message: str) -> dict[str, Any]:
    return {"item": item, "itemid": itemid, "warningcode": code, "message": message}
