"""`tool_mobile_call_external_functions`: the mobile service's multi-call (facts 22-26)."""

from __future__ import annotations

import json
from typing import Any

from .errors import ACCESS_EXCEPTION, INVALID_PARAMETER, MoodleError, PhpError
from .services import execute, service_functions
from .site import SITE_URL, Caller, Site

__all__ = ["INSTALLED_LANGUAGES", "call_many", "inner_error"]


INSTALLED_LANGUAGES = {"en"}


def call_many(site: Site, caller: Caller, p: dict[str, Any]) -> Any:
    """Facts 22-26: each call's answer or error, stopping at the first error."""
    if any(r["settinglang"] and r["settinglang"] not in INSTALLED_LANGUAGES for r in p["requests"]):
        raise INVALID_PARAMETER
    responses = []
    for request in p["requests"]:
        name = request["function"]
        try:
            if name not in service_functions(site, caller.service):
                raise ACCESS_EXCEPTION
            try:
                args = json.loads(request["arguments"])
            except ValueError:
                args = {}  # not JSON: no arguments (fact 25)
            result = execute(site, caller, name, args if isinstance(args, dict) else {})
            response = {"error": False, "data": json.dumps(result)}
        except MoodleError as error:
            response = {"error": True, "exception": json.dumps(inner_error(error))}
        except PhpError as error:
            exception = inner_error(
                MoodleError("Error", "generalexceptionmessage", f"Exception - {error}")
            )
            response = {"error": True, "exception": json.dumps(exception)}
        responses.append(response)
        if response["error"]:
            break  # Moodle does not process the remaining requests
    return {"responses": responses}


def inner_error(error: MoodleError) -> dict[str, Any]:
    """An error inside a multi-call: no class name; a function the service lacks is only
    its code and module (facts 23 and 24)."""
    if error.errorcode == "accessexception":
        return {"errorcode": "accessexception", "module": "webservice"}
    link: Any = {} if error.exception.endswith("required_capability_exception") else SITE_URL + "/"
    return {
        "message": error.message,
        "errorcode": error.errorcode,
        "link": link,
        "moreinfourl": f"https://docs.moodle.org/405/en/error/{error.module}/{error.errorcode}",
    }
