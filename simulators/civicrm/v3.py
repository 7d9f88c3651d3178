"""API v3 as CiviCRM 5.77 answers it: the options every call reads, the entity's handler, and
chained calls (`api.Entity.action`) run for each record."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from . import (
    contacts,
    custom_fields,
    group_contacts,
    groups,
    locations,
    option_values,
    relationships,
)
from .calls import Call
from .errors import ApiError, error_body
from .site import Site, User

__all__ = ["HANDLERS", "run_chained", "run_v3"]


HANDLERS: dict[tuple[str, str], Callable[[Site, User, Call], Any]] = {
    ("Contact", "get"): contacts.get,
    ("Contact", "getsingle"): contacts.get,
    ("Contact", "getcount"): contacts.get,
    ("Contact", "create"): contacts.create,
    ("Contact", "delete"): contacts.delete,
    ("Group", "get"): groups.get,
    ("Group", "create"): groups.create,
    ("GroupContact", "get"): group_contacts.get,
    ("GroupContact", "create"): group_contacts.create,
    **{
        (entity, action): locations.location_record
        for entity in ("Email", "Phone")
        for action in ("get", "create", "delete")
    },
    ("Relationship", "get"): relationships.get,
    ("RelationshipType", "get"): relationships.get_types,
    ("CustomField", "get"): custom_fields.get,
    ("CustomGroup", "get"): custom_fields.get,
    ("OptionValue", "get"): option_values.get,
}
"""What each (entity, action) runs."""


def run_v3(site: Site, user: User, entity: str, action: str, params: dict[str, Any]) -> Any:
    """API v3 as CiviCRM 5.77 answers it (`tests/recordings/civicrm-5.77`)."""
    if f"{entity}.{action}" in site.refuse:
        field = f"{entity.lower()}_type_id"
        raise ApiError(f"'999' is not a valid option for field {field}", "2001", field)
    options = params.get("options") or {}
    # The legacy forms API v3 still reads: `rowCount`, `offset`, `return[name]=1`,
    # `group[id]=1` (what 3.2-era clients send through `q=`).
    limit = int(options.get("limit", params.get("rowCount", 25)))
    offset = int(options.get("offset", params.get("offset", 0)))
    sequential = bool(int(params.get("sequential", 0)))
    returned = params.get("return")
    if isinstance(returned, str):
        returned = [f.strip() for f in returned.split(",") if f.strip()]
    elif isinstance(returned, dict):
        numbered = all(k.isdigit() for k in returned)
        returned = [v if numbered else k for k, v in returned.items() if numbered or v == "1"]
    if isinstance(params.get("group"), dict) and "IN" not in params["group"]:
        params = {
            **params,
            "group": {"IN": [g for g, on in params["group"].items() if on == "1"]},
        }
    if options.get("sort") is None and params.get("sort"):
        options = {**options, "sort": params["sort"]}
    handler = HANDLERS.get((entity, action))
    if handler is None:
        raise ApiError(
            f"API ({entity}, {action}) does not exist (join the API team and implement it!)",
            "not-found",
        )
    chain = partial(run_chained, site)
    call = Call(entity, action, params, options, limit, offset, sequential, returned, chain)
    return handler(site, user, call)


def run_chained(site: Site, user: User, params: Mapping[str, Any], record: dict[str, Any]) -> None:
    """`api.Entity.action` keys: the call run for this record (its contact by default),
    `$value.<key>` read from this record's results so far, its answer kept in the record."""
    if not site.honours_chains:
        return
    for name, sub in params.items():
        if not name.startswith("api."):
            continue
        _, sub_entity, sub_action = name.split(".", 2)
        sub_params = {"contact_id": record["id"], **(sub if isinstance(sub, dict) else {})}
        for field, value in list(sub_params.items()):
            if isinstance(value, str) and value.startswith("$value."):
                path = value[len("$value.") :]
                chained, _, leaf = path.rpartition(".")
                found = record.get(chained, {})
                sub_params[field] = found.get(leaf) if isinstance(found, dict) else None
        if sub_entity == "GroupContact" and sub_action == "get":
            sub_params.pop("contact_id", None)
            sub_params["contact_id"] = int(record["id"])
        try:
            record[name] = run_v3(site, user, sub_entity, sub_action, sub_params)
        except ApiError as error:
            record[name] = error_body(error, sub_entity, sub_action)
