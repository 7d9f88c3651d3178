"""External services: which functions a token's service may call, and running one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import INVALID_PARAMETER, missing_record
from .params import InvalidParameter
from .site import Caller, Site

__all__ = [
    "CUSTOM_SERVICE",
    "MOBILE_SERVICE",
    "MULTICALL",
    "OUTSIDE_THE_SERVICE",
    "execute",
    "service_functions",
]


MOBILE_SERVICE = "moodle_mobile_app"
CUSTOM_SERVICE = "legacygraph"
"""A custom external service with every function but the mobile multi-call."""
MULTICALL = "tool_mobile_call_external_functions"


OUTSIDE_THE_SERVICE = {
    "core_user_create_users",
    "core_user_delete_users",
    "core_course_create_courses",
    "core_role_assign_roles",
}
"""Functions every Moodle has that no token of the mobile service may call (fact 4)."""


def service_functions(site: Site, service: str) -> list[str]:
    return [name for name in site.functions if service == MOBILE_SERVICE or name != MULTICALL]


def execute(site: Site, caller: Caller, name: str, arguments: Mapping[str, Any]) -> Any:
    function = site.functions.get(name)
    if function is None:
        raise missing_record("external_functions")
    site.calls.add(name)
    try:
        params = function.params.check(dict(arguments))
    except InvalidParameter:
        raise INVALID_PARAMETER from None
    return function.run(site, caller, params)
