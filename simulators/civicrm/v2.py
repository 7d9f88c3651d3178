"""API v2, as the 3.2 documentation describes it: `q=civicrm/<entity>/<action>` with flat
parameters, lists answered as bare lists."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import contacts, group_contacts, groups
from .errors import ApiError
from .site import Site, User

__all__ = ["HANDLERS", "run_v2"]


HANDLERS: dict[tuple[str, str], Callable[[Site, User, dict[str, Any]], Any]] = {
    ("contact", "get"): contacts.get_v2,
    ("contact", "search"): contacts.get_v2,
    ("contact", "add"): contacts.add_v2,
    ("group", "get"): groups.get_v2,
    ("group", "add"): groups.add_v2,
    ("group_contact", "get"): group_contacts.get_v2,
    ("group_contact", "add"): group_contacts.add_v2,
    ("group_contact", "remove"): group_contacts.remove_v2,
}
"""What each (entity, action) runs."""


def run_v2(site: Site, user: User, entity: str, action: str, params: dict[str, Any]) -> Any:
    handler = HANDLERS.get((entity, action))
    if handler is None:
        raise ApiError(f"Unknown function called: civicrm_{entity}_{action}")
    return handler(site, user, params)
