"""E-mail addresses and phone numbers (`Email.*`, `Phone.*`): one primary record per contact."""

from __future__ import annotations

import re
from typing import Any

from .calls import Call
from .contacts import find_contacts
from .errors import ApiError, require
from .records import v3_values
from .site import Site, User

__all__ = ["location_record"]


def location_record(site: Site, user: User, call: Call) -> Any:
    """Email and Phone, one primary record per contact (its id is the contact's)."""
    entity, action, params, sequential = call.entity, call.action, call.params, call.sequential
    column = entity.lower()
    if action == "delete":
        target = params.get("id")
        if not target or site.store.contact_state(int(target)) is None:
            raise ApiError(f"Could not delete {entity} with id {target}", "0")
        site.store.update_contact(int(target), {column: ""})
        return {"is_error": 0, "version": 3, "count": 1, "values": 1}
    if action == "get":
        contact_id = params.get("contact_id")
        allowed = find_contacts(site, user, {"id": contact_id}, 1, 0, None) if contact_id else []
        records = [
            {
                "id": r["contact_id"],
                "contact_id": r["contact_id"],
                "location_type_id": "1",
                column: r[column],
                "is_primary": "1",
                **(
                    {"phone_numeric": re.sub(r"\D", "", r["phone"]), "phone_type_id": "1"}
                    if entity == "Phone"
                    else {"is_billing": "0", "on_hold": "0"}
                ),
            }
            for r in allowed
            if r[column]
        ]
        return v3_values(records, sequential, "id")
    target = params.get("id") or params.get("contact_id")
    row = site.store.one("SELECT id FROM contacts WHERE id = ? AND is_deleted = 0", (target,))
    if row is None:  # fact 22: the insert fails on the foreign key
        raise ApiError(f"contact_id is not valid : {target}", "-3")
    require(
        user,
        user.edit_all or row["id"] == user.contact_id,
        entity,
        "create",
        "edit all contacts",
    )
    value = str(params.get(column, ""))
    site.store.update_contact(int(row["id"]), {column: value})
    record = {
        "id": str(row["id"]),
        "contact_id": "" if params.get("id") else str(row["id"]),
        "location_type_id": str(params.get("location_type_id", "")),
        column: value,
        "is_primary": str(params.get("is_primary", "")),
    }
    return v3_values([record], sequential, "id")
