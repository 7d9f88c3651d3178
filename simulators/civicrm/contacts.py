"""Contacts: found (v3 `Contact.get`, `getsingle`, `getcount`; v2 `contact/get`, `contact/search`),
written (`Contact.create`, `contact/add`) and deleted."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .access import visible_contacts_sql
from .calls import Call
from .custom_fields import CUSTOM_KEY, custom_of, custom_written
from .errors import ApiError, invalid_option, require
from .records import chained_of, v3_values
from .site import Site, User

__all__ = [
    "CONTACT_FIELDS",
    "CONTACT_TYPES",
    "add_v2",
    "contact_record",
    "create",
    "delete",
    "find_contacts",
    "get",
    "get_v2",
    "select",
    "write_contact",
]


CONTACT_FIELDS = (
    "contact_id",
    "contact_type",
    "display_name",
    "sort_name",
    "first_name",
    "last_name",
    "organization_name",
    "household_name",
    "email",
    "phone",
    "street_address",
    "city",
    "postal_code",
    "country",
    "created_date",
    "modified_date",
    "is_deleted",
)
CONTACT_TYPES = ("Individual", "Organization", "Household")


def contact_record(row: Any) -> dict[str, str]:
    """A contact as CiviCRM's API returns it: every value a string."""
    display = {
        "Individual": f"{row['first_name']} {row['last_name']}".strip(),
        "Organization": row["organization_name"],
        "Household": row["household_name"],
    }[row["contact_type"]]
    sort = (
        f"{row['last_name']}, {row['first_name']}"
        if row["contact_type"] == "Individual"
        else display
    )
    values = {
        "contact_id": row["id"],
        "contact_type": row["contact_type"],
        "display_name": display,
        "sort_name": sort,
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "organization_name": row["organization_name"],
        "household_name": row["household_name"],
        "email": row["email"],
        "phone": row["phone"],
        "street_address": row["street"],
        "city": row["city"],
        "postal_code": row["postal_code"],
        "country": row["country"],
        "created_date": row["created_date"],
        "modified_date": row["modified_date"],
        "is_deleted": row["is_deleted"],
        # CiviCRM 5 sends the ids of the primary e-mail and phone beside them (fact 5); here
        # each contact has at most one of each, whose id is the contact's.
        "email_id": row["id"] if row["email"] else None,
        "phone_id": row["id"] if row["phone"] else None,
    }
    return {k: "" if v is None else str(v) for k, v in values.items()}


def select(
    record: dict[str, str], returned: list[str] | None, always: str, *, v3: bool = False
) -> dict[str, str]:
    """The fields asked for; API v3 adds `email_id`, `phone_id` beside `email`, `phone`."""
    if not returned:
        return record
    return {
        k: v
        for k, v in record.items()
        if k == always or k in returned or (v3 and k.removesuffix("_id") in returned)
    }


def find_contacts(
    site: Site, user: User, filters: Mapping[str, Any], limit: int, offset: int, sort: str | None
) -> list[dict[str, str]]:
    visible, args = visible_contacts_sql(site, user)
    where = [visible, "c.is_deleted = 0"]
    for name, value in filters.items():
        if name in ("id", "contact_id") and value == "user_contact_id":
            value = user.contact_id  # API v3's "the contact of the user who calls"
        column = {
            "id": "c.id",
            "contact_id": "c.id",
            "contact_type": "c.contact_type",
            "email": "c.email",
            "first_name": "c.first_name",
            "last_name": "c.last_name",
            "organization_name": "c.organization_name",
            "display_name": "c.display_name",
            "sort_name": "c.display_name",
            "city": "c.city",
            "country": "c.country",
            "modified_date": "c.modified_date",
        }.get(name)
        if name == "group":
            ids = value.get("IN", []) if isinstance(value, dict) else [value]
            where.append(
                f"c.id IN (SELECT contact_id FROM group_contact WHERE status = 'Added'"
                f" AND group_id IN ({','.join('?' * len(ids)) or 'NULL'}))"
            )
            args += list(ids)
        elif column is None:
            continue  # CiviCRM ignores what it does not know
        elif isinstance(value, dict) and "IN" in value:
            where.append(f"{column} IN ({','.join('?' * len(value['IN'])) or 'NULL'})")
            args += list(value["IN"])
        elif isinstance(value, dict) and "IS NOT NULL" in value:
            where.append(f"({column} IS NOT NULL AND {column} != '')")
        elif isinstance(value, dict) and "LIKE" in value:
            where.append(f"{column} LIKE ? ESCAPE '\\'")  # MySQL's escape: backslash
            args.append(value["LIKE"])
        elif isinstance(value, dict) and ">=" in value:
            where.append(f"{column} >= ?")
            args.append(value[">="])
        else:  # MySQL's collation: any case (issue27.jsonl 244, 255)
            where.append(f"{column} = ? COLLATE NOCASE")
            args.append(value)
    order = {
        "sort_name": "CASE c.contact_type WHEN 'Individual' THEN c.last_name || ', ' ||"
        " c.first_name ELSE c.display_name END",
        "display_name": "c.display_name",
        "id": "c.id",
        "contact_id": "c.id",
        "created_date": "c.created_date",
    }
    # Without a sort, CiviCRM sorts by sort_name (fact 12).
    field, _, direction = (sort or "sort_name ASC").partition(" ")
    sql_order = f"{order.get(field, 'c.id')} {'DESC' if direction.upper() == 'DESC' else 'ASC'}"
    rows = site.store.all(
        f"SELECT c.* FROM contacts c WHERE {' AND '.join(where)} ORDER BY {sql_order}, c.id LIMIT ? OFFSET ?",
        [*args, limit if limit > 0 else -1, offset],
    )
    return [contact_record(r) for r in rows]


def write_contact(site: Site, user: User, params: Mapping[str, Any], *, v3: bool) -> int:
    """`Contact.create` (v3) or `contact/add` (v2). In v3 (CiviCRM 5, fact 19) a top-level
    `phone` is ignored, and on update a top-level `email` too: they are their own entities."""
    contact_id = params.get("id") or params.get("contact_id")
    if contact_id:
        row = site.store.one(
            "SELECT * FROM contacts WHERE id = ? AND is_deleted = 0", (contact_id,)
        )
        if row is None:
            if v3:
                raise ApiError(f"Contact id {contact_id} not found.", "0")
            raise ApiError(f"Invalid Contact Id {contact_id}", "not-found", "id")
        if v3 and not user.edit_all:  # facts 11 and C10: whichever contact it is
            raise ApiError("Permission denied to modify contact record", "unauthorized")
        require(user, user.edit_all, "Contact", "create", "edit all contacts")
        contact_type = row["contact_type"]
    else:
        require(user, user.edit_all, "Contact", "create", "add contacts")
        contact_type = params.get("contact_type")
        if not contact_type:
            raise ApiError(
                "Mandatory key(s) missing from params array: contact_type",
                "mandatory_missing",
                "contact_type",
            )
    if contact_type not in CONTACT_TYPES:
        if v3:
            raise invalid_option(contact_type, "contact_type")
        raise ApiError(f"contact_type `{contact_type}` is not valid.", None, "contact_type")
    names = ("first_name", "last_name", "organization_name", "household_name")
    values = {k: str(params[k]) for k in names if k in params}
    if not v3 and "phone" in params:
        values["phone"] = str(params["phone"])
    email = params.get("email")
    if isinstance(email, dict):  # email[1][email]=...&email[1][location_type_id]=1
        block: Any = email.get("1") or next(iter(email.values()), {})
        email = block.get("email") if isinstance(block, dict) else None
    if email is not None and not (v3 and contact_id):
        if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", str(email)):
            raise ApiError(f"{email} is not a valid email address", None, "email")
        values["email"] = str(email)
    if not contact_id:
        named = any(values.get(k) for k in (*names, "email")) or any(
            k.startswith("api.Email") for k in params
        )
        if not named:
            raise ApiError(
                "Mandatory key(s) missing from params array: one of (first_name, last_name,"
                " email, display_name)",
                "mandatory_missing",
                "first_name",
            )
        if str(params.get("dupe_check", "0")) not in ("0", "", "False", "false"):
            found = duplicates(site, str(contact_type), values)
            if found:
                raise ApiError(
                    f"Found matching contacts: {','.join(found)}",
                    "duplicate",
                    extra={"ids": found},
                )
        return site.store.create_contact(contact_type, values)
    if values or not any(CUSTOM_KEY.fullmatch(k) for k in params):
        site.store.update_contact(int(contact_id), values)  # custom values alone: not modified
    return int(contact_id)


def duplicates(site: Site, contact_type: str, values: Mapping[str, str]) -> list[str]:
    """The site's default (Unsupervised) duplicate rule, as CiviCRM 5.77 ships it: an
    individual by e-mail, case-insensitive ("Email (reserved)"); an organisation or
    household by name or e-mail. Every contact counts, whoever asks."""
    name = {"Organization": "organization_name", "Household": "household_name"}.get(contact_type)
    tests, args = [], []
    if values.get("email"):
        tests.append("lower(email) = lower(?)")
        args.append(values["email"])
    if name and values.get(name):
        tests.append(f"lower({name}) = lower(?)")
        args.append(values[name])
    if not tests:
        return []
    rows = site.store.all(
        f"SELECT id FROM contacts WHERE is_deleted = 0 AND contact_type = ?"
        f" AND ({' OR '.join(tests)}) ORDER BY id",
        [contact_type, *args],
    )
    return [str(r["id"]) for r in rows]


def groups_text(site: Site, contact_id: int) -> str:
    rows = site.store.all(
        "SELECT group_id, status FROM group_contact WHERE contact_id = ? ORDER BY group_id",
        (contact_id,),
    )
    return ",".join(str(r["group_id"]) if r["status"] == "Added" else "" for r in rows)


def get(site: Site, user: User, call: Call) -> Any:
    """`Contact.get`, `getsingle` and `getcount`."""
    action, params, returned = call.action, call.params, call.returned
    limit, offset = call.limit, call.offset
    if action == "getcount":  # counts them all: no window (fact 6: 36, above 25)
        limit, offset = 0, 0
    records = find_contacts(site, user, params, limit, offset, call.options.get("sort"))
    for record in records:
        record["id"] = record["contact_id"]
        # fact 18: Added groups, "" for Removed
        if returned and "group" in returned and site.honours_chains:
            record["groups"] = groups_text(site, int(record["id"]))
        call.chain(user, params, record)
    shown = [
        select(r, returned, "id", v3=True)
        | {"id": r["id"]}
        | ({"groups": r["groups"]} if "groups" in r else {})
        | custom_of(site, user, int(r["id"]), returned)
        | chained_of(r)
        for r in records
    ]
    if action == "getcount":
        return {"is_error": 0, "result": len(shown)}  # fact 6 (extern/rest.php)
    if action == "getsingle":
        if len(shown) != 1:
            raise ApiError(f"Expected one Contact but found {len(shown)}", "undefined")
        return shown[0]
    return v3_values(shown, call.sequential, "id")


def create(site: Site, user: User, call: Call) -> Any:
    """`Contact.create`, its chained calls and custom values in one transaction."""
    params, sequential = call.params, call.sequential
    target = params.get("id") or params.get("contact_id")
    kept = site.store.contact_state(int(target)) if target else None
    custom = custom_written(site, user, params)
    contact_id = write_contact(site, user, params, v3=True)
    created = find_contacts(site, User(contact_id, True, True), {"id": contact_id}, 1, 0, None)[0]
    created["id"] = created["contact_id"]
    call.chain(user, params, created)
    for name, answer in created.items():
        if name.startswith("api.") and isinstance(answer, dict) and answer.get("is_error"):
            # Recorded on 5.77: a failed chained call rolls the whole create back.
            site.store.restore_contact(contact_id, kept)
            sub = "_".join(name.split(".")[1:3])
            raise ApiError(
                f"Error in call to {sub} : {answer['error_message']}",
                None if answer.get("error_code") is None else str(answer["error_code"]),
                answer.get("error_field"),
            )
    if custom:  # in the same transaction as the rest: after the chained calls held
        site.store.set_custom_values(contact_id, custom)
    return v3_values([created], sequential, "id")


def delete(site: Site, user: User, call: Call) -> Any:
    """`Contact.delete`: to the trash, or for good with `skip_undelete`."""
    params = call.params
    require(user, user.edit_all, "Contact", "delete", "delete contacts")
    target = params.get("id") or params.get("contact_id")
    if not target or site.store.contact_state(int(target)) is None:
        raise ApiError("Could not delete contact", "0")
    skip = str(params.get("skip_undelete", "0")) not in ("0", "")
    site.store.delete_contact(int(target), permanently=skip)
    return {"is_error": 0, "version": 3, "count": 1, "values": 1}


def get_v2(site: Site, user: User, params: dict[str, Any]) -> Any:
    """`contact/get` and `contact/search`: a bare list of contacts."""
    returned = (
        [k for k, v in (params.get("return") or {}).items() if str(v) == "1"]
        if isinstance(params.get("return"), dict)
        else None
    )
    filters = {k: v for k, v in params.items() if k not in ("return", "offset", "rowCount", "sort")}
    if filters.get("sort_name"):  # API v2 matches names with wildcards
        filters["sort_name"] = {"LIKE": f"%{filters['sort_name']}%"}
    if isinstance(filters.get("group"), dict):  # group[3]=1
        filters["group"] = {"IN": [g for g, on in filters["group"].items() if str(on) == "1"]}
    records = find_contacts(
        site,
        user,
        filters,
        int(params.get("rowCount", 25)),
        int(params.get("offset", 0)),
        params.get("sort"),
    )
    return [select(r, returned, "contact_id") for r in records]


def add_v2(site: Site, user: User, params: dict[str, Any]) -> Any:
    """`contact/add`."""
    return {"contact_id": write_contact(site, user, params, v3=False), "is_error": 0}
