"""Group memberships: `GroupContact.get`, `GroupContact.create` (v3), `group_contact/get`,
`add`, `remove` (v2)."""

from __future__ import annotations

from typing import Any

from .access import visible_contacts_sql, visible_groups
from .calls import Call
from .errors import ApiError, PhpFatal, invalid_option, require
from .records import v3_values
from .site import Site, User

__all__ = ["add_members", "add_v2", "create", "get", "get_v2", "memberships", "remove_v2"]


def memberships(
    site: Site, user: User, contact_ids: list[Any] | None, group_ids: list[Any] | None
) -> list[dict[str, str]]:
    visible, args = visible_contacts_sql(site, user)
    groups = visible_groups(site, user)
    where = [visible, "gc.status = 'Added'"]
    for column, ids in (("gc.contact_id", contact_ids), ("gc.group_id", group_ids)):
        if ids is not None:
            where.append(f"{column} IN ({','.join('?' * len(ids)) or 'NULL'})")
            args += list(ids)
    rows = site.store.all(
        f"SELECT gc.* FROM group_contact gc JOIN contacts c ON c.id = gc.contact_id WHERE {' AND '.join(where)} ORDER BY gc.id",
        args,
    )
    return [
        {
            "id": str(r["id"]),
            "group_id": str(r["group_id"]),
            "contact_id": str(r["contact_id"]),
            "status": "Added",
        }
        for r in rows
        if r["group_id"] in groups
    ]


def add_members(
    site: Site, user: User, group_id: Any, contact_ids: list[Any], status: str = "Added"
) -> dict[str, Any]:
    """Memberships set to `status`: Added (`added`/`not_added`), or Removed, which keeps the
    row (`removed`/`not_removed`: how many were members; recorded on 5.77)."""
    require(user, user.edit_all, "GroupContact", "create", "edit groups")
    if site.store.one("SELECT 1 FROM groups WHERE id = ?", (group_id,)) is None:
        raise invalid_option(group_id, "group_id")
    added = 0
    for contact_id in contact_ids:
        if (
            site.store.one("SELECT 1 FROM contacts WHERE id = ? AND is_deleted = 0", (contact_id,))
            is None
        ):
            raise ApiError(f"contact_id is not valid : {contact_id}", "-3")
        if status == "Removed":
            added += site.store.remove_member(int(group_id), int(contact_id))
        else:
            added += site.store.add_member(int(group_id), int(contact_id))
    done = "removed" if status == "Removed" else "added"
    return {
        "total_count": len(contact_ids),
        done: added,
        f"not_{done}": len(contact_ids) - added,
    }


def get(site: Site, user: User, call: Call) -> Any:
    """`GroupContact.get`."""
    params, limit, offset, sequential = call.params, call.limit, call.offset, call.sequential
    require(user, user.view_all, "GroupContact", "get", "")
    contacts = params.get("contact_id")
    if isinstance(contacts, dict):  # fact 15: a PHP TypeError deep in CiviCRM
        raise PhpFatal
    groups = params.get("group_id")
    group_ids = (
        None if groups is None else groups.get("IN", []) if isinstance(groups, dict) else [groups]
    )
    if group_ids is not None:
        known = {r["id"] for r in site.store.all("SELECT id FROM groups")}
        for group_id in group_ids:
            if int(group_id) not in known:
                raise invalid_option(group_id, "group_id")
    found = memberships(site, user, None if contacts is None else [contacts], group_ids)
    if contacts is not None:  # fact 16: one contact's rows say nothing of the contact
        titles = {r["id"]: r["title"] for r in site.store.all("SELECT id, title FROM groups")}
        found = [
            {
                "id": m["id"],
                "group_id": m["group_id"],
                "title": titles[int(m["group_id"])],
                "visibility": "User and User Admin Only",
                "is_hidden": "0",
                "saved_search_id": "",
                "in_date": "",
                "in_method": "API",
            }
            for m in found
        ]
    return v3_values(found[offset : offset + limit if limit else None], sequential, "id")


def create(site: Site, user: User, call: Call) -> Any:
    """`GroupContact.create`, which also removes (`status: Removed`)."""
    params = call.params
    if not params.get("group_id") or not params.get("contact_id"):
        missing = "group_id" if not params.get("group_id") else "contact_id"
        raise ApiError(
            f"Mandatory key(s) missing from params array: {missing}",
            "mandatory_missing",
            missing,
        )
    contact_ids = (
        params["contact_id"] if isinstance(params["contact_id"], list) else [params["contact_id"]]
    )
    result = add_members(
        site, user, params["group_id"], contact_ids, str(params.get("status") or "Added")
    )
    # Fact 23: `values` is an integer (on which WordPress's REST wrapper crashes).
    return {"is_error": 0, "version": 3, "count": 1, "values": 1, **result}


def get_v2(site: Site, user: User, params: dict[str, Any]) -> Any:
    """`group_contact/get`."""
    if not params.get("contact_id"):
        raise ApiError("contact_id is a required field", None, "contact_id")
    titles = {r["id"]: r["title"] for r in site.store.all("SELECT id, title FROM groups")}
    return [
        {
            "id": m["id"],
            "group_id": m["group_id"],
            "title": titles[int(m["group_id"])],
            "visibility": "",
            "in_method": "API",
            "in_date": "",
        }
        for m in memberships(site, user, [params["contact_id"]], None)
    ]


def add_v2(site: Site, user: User, params: dict[str, Any]) -> Any:
    """`group_contact/add`."""
    contact_ids = [v for k, v in sorted(params.items()) if k.startswith("contact_id")]
    if not params.get("group_id") or not contact_ids:
        raise ApiError(
            "contact_id is a required field"
            if params.get("group_id")
            else "group_id is a required field"
        )
    return {"is_error": 0, **add_members(site, user, params["group_id"], contact_ids)}


def remove_v2(site: Site, user: User, params: dict[str, Any]) -> Any:
    """`group_contact/remove`: 3.2 keeps the row, Removed."""
    contact_ids = [v for k, v in sorted(params.items()) if k.startswith("contact_id")]
    if not params.get("group_id") or not contact_ids:
        raise ApiError("group_id and contact_id are required fields")
    found = add_members(site, user, params["group_id"], contact_ids, "Removed")
    return {"is_error": 0, **found}
