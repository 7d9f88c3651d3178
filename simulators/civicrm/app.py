"""CiviCRM's `extern/rest.php`, in both call styles real sites answer.

- API v3: `entity=Contact&action=get` with parameters in `json={...}` (`IN`/`LIKE` filters,
  `options` limit/offset/sort, `return`, `sequential`), answered `{is_error, version, count, values}`.
- API v2 (the 3.2 documentation): `q=civicrm/contact/get` with flat parameters (`return[x]=1`,
  `offset`, `rowCount`, `email[1][email]`), lists answered as bare JSON lists of strings, plus
  `q=civicrm/login` and `q=civicrm/ping`.

Every answer is HTTP 200; XML unless JSON is asked for (or always XML with `force_xml`). The site key
is checked first, then the user's api_key (or the PHPSESSID of a login). Users without "view all
contacts" see themselves and the contacts in groups they may see.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import secrets
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..counting import CountRequests, RequestCounter
from ..world import World, build_world
from .store import CivicrmStore, contact_id_of

__all__ = ["REST_PATH", "SITE_KEY", "create_app"]

REST_PATH = "/sites/all/modules/civicrm/extern/rest.php"
SITE_KEY = "sim-civicrm-site-key"
MORE_INFO = "More info at: http://wiki.civicrm.org/confluence/display/CRMDOC/Command-line+Script+Configuration"
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
CUSTOM_KEY = re.compile(r"custom_(\d+)")
VISIBILITIES = ("User and User Admin Only", "Public Pages")


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


@dataclass(frozen=True)
class User:
    contact_id: int
    view_all: bool
    edit_all: bool
    custom_data: bool = False
    """"administer CiviCRM" and "access all custom data": the staff but the fifth person, who
    plays the real site's restricted user (issue27.jsonl: no custom fields, writes of them
    ignored)."""


def create_app(
    world: World | None = None,
    *,
    database: str = ":memory:",
    force_xml: bool = False,
    era: str = "5",
    refuse: Collection[str] = (),
    honours_chains: bool = True,
) -> Starlette:
    """The simulator app. `force_xml` plays a site that answers XML whatever is asked. `era`
    "5" is CiviCRM 5.x (API v3; `q=` paths are v3 with flat fields, no login, no `add`); "3.2"
    plays a 3.2-era site, whose `q=` paths are API v2 with `q=civicrm/login`. `refuse` names
    calls (`"Phone.create"`) the site refuses as invalid, to play a write that fails part way.
    `honours_chains=False` plays a 3.x/4.x site whose API v3 ignores chained calls
    (`api.Phone.create`) and `return: group`: no answer for them, and nothing done.
    `app.state.log` lists every API call in order: (api_key, "Entity.action", record id)."""
    store = CivicrmStore(world or build_world(), database)
    counter = RequestCounter()
    calls = RequestCounter()
    sessions: dict[str, int] = {}
    log: list[tuple[str, str, str]] = []

    # Who may see what ---------------------------------------------------------------------------

    def visible_groups(user: User) -> set[int]:
        if user.view_all:
            return {r["id"] for r in store.all("SELECT id FROM groups")}
        mine = {
            r["group_id"]
            for r in store.all(
                "SELECT group_id FROM group_contact WHERE contact_id = ?", (user.contact_id,)
            )
        }
        public = {
            r["id"] for r in store.all("SELECT id FROM groups WHERE visibility = 'Public Pages'")
        }
        return mine | public

    def visible_contacts_sql(user: User) -> tuple[str, list[Any]]:
        if user.view_all:
            return "1", []
        groups = sorted(visible_groups(user))
        return (
            f"(c.id = ? OR c.id IN (SELECT contact_id FROM group_contact WHERE group_id IN ({','.join('?' * len(groups)) or 'NULL'})))",
            [user.contact_id, *groups],
        )

    def require(user: User, allowed: bool, entity: str, action: str, what: str) -> None:
        if not allowed:
            also = f" and {what}" if what else ""
            raise ApiError(
                f"API permission check failed for {entity}/{action} call; insufficient"
                f" permission: require access CiviCRM{also}",
                "unauthorized",
            )

    # Records -------------------------------------------------------------------------------------

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
        user: User, filters: Mapping[str, Any], limit: int, offset: int, sort: str | None
    ) -> list[dict[str, str]]:
        visible, args = visible_contacts_sql(user)
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
        rows = store.all(
            f"SELECT c.* FROM contacts c WHERE {' AND '.join(where)} ORDER BY {sql_order}, c.id LIMIT ? OFFSET ?",
            [*args, limit if limit > 0 else -1, offset],
        )
        return [contact_record(r) for r in rows]

    def write_contact(user: User, params: Mapping[str, Any], *, v3: bool) -> int:
        """`Contact.create` (v3) or `contact/add` (v2). In v3 (CiviCRM 5, fact 19) a top-level
        `phone` is ignored, and on update a top-level `email` too: they are their own entities."""
        contact_id = params.get("id") or params.get("contact_id")
        if contact_id:
            row = store.one("SELECT * FROM contacts WHERE id = ? AND is_deleted = 0", (contact_id,))
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
                found = duplicates(str(contact_type), values)
                if found:
                    raise ApiError(
                        f"Found matching contacts: {','.join(found)}",
                        "duplicate",
                        extra={"ids": found},
                    )
            return store.create_contact(contact_type, values)
        if values or not any(CUSTOM_KEY.fullmatch(k) for k in params):
            store.update_contact(int(contact_id), values)  # custom values alone: not modified
        return int(contact_id)

    def duplicates(contact_type: str, values: Mapping[str, str]) -> list[str]:
        """The site's default (Unsupervised) duplicate rule, as CiviCRM 5.77 ships it: an
        individual by e-mail, case-insensitive ("Email (reserved)"); an organisation or
        household by name or e-mail. Every contact counts, whoever asks."""
        name = {"Organization": "organization_name", "Household": "household_name"}.get(
            contact_type
        )
        tests, args = [], []
        if values.get("email"):
            tests.append("lower(email) = lower(?)")
            args.append(values["email"])
        if name and values.get(name):
            tests.append(f"lower({name}) = lower(?)")
            args.append(values[name])
        if not tests:
            return []
        rows = store.all(
            f"SELECT id FROM contacts WHERE is_deleted = 0 AND contact_type = ?"
            f" AND ({' OR '.join(tests)}) ORDER BY id",
            [contact_type, *args],
        )
        return [str(r["id"]) for r in rows]

    def invalid_option(value: Any, field: str) -> ApiError:
        return ApiError(f"'{value}' is not a valid option for field {field}", "2001", field)

    def group_record(row: Any) -> dict[str, Any]:
        values = {
            "id": row["id"],
            "name": row["name"],
            "title": row["title"],
            "description": row["description"],
            "is_active": row["is_active"],
            "visibility": row["visibility"],
            "is_hidden": 0,
        }
        record: dict[str, Any] = {k: "" if v is None else str(v) for k, v in values.items()}
        if row["group_type"]:  # fact 14: a list of option values, absent when none
            record["group_type"] = row["group_type"].split(",")
        return record

    def find_groups(user: User, filters: Mapping[str, Any]) -> list[dict[str, Any]]:
        allowed = visible_groups(user)
        rows = store.all("SELECT * FROM groups ORDER BY id")
        ids = filters.get("id")
        wanted = (
            None
            if ids is None
            else {int(i) for i in (ids.get("IN", []) if isinstance(ids, dict) else [ids])}
        )
        title = filters.get("title")
        return [
            group_record(r)
            for r in rows
            if r["id"] in allowed
            and (wanted is None or r["id"] in wanted)
            and (
                title is None
                or (isinstance(title, dict) and like(str(title.get("LIKE", "")), r["title"]))
                or title == r["title"]
            )
        ]

    def memberships(
        user: User, contact_ids: list[Any] | None, group_ids: list[Any] | None
    ) -> list[dict[str, str]]:
        visible, args = visible_contacts_sql(user)
        groups = visible_groups(user)
        where = [visible, "gc.status = 'Added'"]
        for column, ids in (("gc.contact_id", contact_ids), ("gc.group_id", group_ids)):
            if ids is not None:
                where.append(f"{column} IN ({','.join('?' * len(ids)) or 'NULL'})")
                args += list(ids)
        rows = store.all(
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
        user: User, group_id: Any, contact_ids: list[Any], status: str = "Added"
    ) -> dict[str, Any]:
        """Memberships set to `status`: Added (`added`/`not_added`), or Removed, which keeps the
        row (`removed`/`not_removed`: how many were members; recorded on 5.77)."""
        require(user, user.edit_all, "GroupContact", "create", "edit groups")
        if store.one("SELECT 1 FROM groups WHERE id = ?", (group_id,)) is None:
            raise invalid_option(group_id, "group_id")
        added = 0
        for contact_id in contact_ids:
            if (
                store.one("SELECT 1 FROM contacts WHERE id = ? AND is_deleted = 0", (contact_id,))
                is None
            ):
                raise ApiError(f"contact_id is not valid : {contact_id}", "-3")
            if status == "Removed":
                added += store.remove_member(int(group_id), int(contact_id))
            else:
                added += store.add_member(int(group_id), int(contact_id))
        done = "removed" if status == "Removed" else "added"
        return {
            "total_count": len(contact_ids),
            done: added,
            f"not_{done}": len(contact_ids) - added,
        }

    # API v3 -------------------------------------------------------------------------------------

    def v3_values(records: list[dict[str, Any]], sequential: bool, key: str) -> dict[str, Any]:
        values: Any = records if sequential else {r[key]: r for r in records}
        envelope: dict[str, Any] = {
            "is_error": 0,
            "version": 3,
            "count": len(records),
            "values": values,
        }
        if len(records) == 1:
            envelope["id"] = int(records[0][key])
        return envelope

    def run_v3(user: User, entity: str, action: str, params: dict[str, Any]) -> Any:
        """API v3 as CiviCRM 5.77 answers it (`tests/recordings/civicrm-5.77`)."""
        if f"{entity}.{action}" in refuse:
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
        key = (entity, action)
        if entity == "Contact" and action in ("get", "getsingle", "getcount"):
            if action == "getcount":  # counts them all: no window (fact 6: 36, above 25)
                limit, offset = 0, 0
            records = find_contacts(user, params, limit, offset, options.get("sort"))
            for record in records:
                record["id"] = record["contact_id"]
                # fact 18: Added groups, "" for Removed
                if returned and "group" in returned and honours_chains:
                    record["groups"] = groups_text(int(record["id"]))
                run_chained(user, params, record)
            shown = [
                select(r, returned, "id", v3=True)
                | {"id": r["id"]}
                | ({"groups": r["groups"]} if "groups" in r else {})
                | custom_of(user, int(r["id"]), returned)
                | chained_of(r)
                for r in records
            ]
            if action == "getcount":
                return {"is_error": 0, "result": len(shown)}  # fact 6 (extern/rest.php)
            if action == "getsingle":
                if len(shown) != 1:
                    raise ApiError(f"Expected one Contact but found {len(shown)}", "undefined")
                return shown[0]
            return v3_values(shown, sequential, "id")
        if key == ("Contact", "create"):
            target = params.get("id") or params.get("contact_id")
            kept = store.contact_state(int(target)) if target else None
            custom = custom_written(user, params)
            contact_id = write_contact(user, params, v3=True)
            created = find_contacts(User(contact_id, True, True), {"id": contact_id}, 1, 0, None)[0]
            created["id"] = created["contact_id"]
            run_chained(user, params, created)
            for name, answer in created.items():
                if name.startswith("api.") and isinstance(answer, dict) and answer.get("is_error"):
                    # Recorded on 5.77: a failed chained call rolls the whole create back.
                    store.restore_contact(contact_id, kept)
                    sub = "_".join(name.split(".")[1:3])
                    raise ApiError(
                        f"Error in call to {sub} : {answer['error_message']}",
                        None if answer.get("error_code") is None else str(answer["error_code"]),
                        answer.get("error_field"),
                    )
            if custom:  # in the same transaction as the rest: after the chained calls held
                store.set_custom_values(contact_id, custom)
            return v3_values([created], sequential, "id")
        if key == ("Contact", "delete"):
            require(user, user.edit_all, "Contact", "delete", "delete contacts")
            target = params.get("id") or params.get("contact_id")
            if not target or store.contact_state(int(target)) is None:
                raise ApiError("Could not delete contact", "0")
            skip = str(params.get("skip_undelete", "0")) not in ("0", "")
            store.delete_contact(int(target), permanently=skip)
            return {"is_error": 0, "version": 3, "count": 1, "values": 1}
        if key == ("Group", "get"):
            return v3_values(
                find_groups(user, params)[offset : offset + limit if limit else None],
                sequential,
                "id",
            )
        if key == ("Group", "create"):
            require(user, user.edit_all, "Group", "create", "edit groups")
            if not params.get("title"):
                raise ApiError(
                    "Mandatory key(s) missing from params array: title",
                    "mandatory_missing",
                    "title",
                )
            visibility = str(params.get("visibility") or VISIBILITIES[0])
            if visibility not in VISIBILITIES:  # issue27.jsonl 285
                raise invalid_option(visibility, "visibility")
            if store.one("SELECT 1 FROM groups WHERE title = ?", (str(params["title"]),)):
                raise ApiError("DB Error: already exists", "-5")
            types = params.get("group_type")
            group_id = store.create_group(
                str(params["title"]),
                str(params.get("description", "")),
                visibility=visibility,
                **({} if types is None else {"group_type": ",".join(map(str, types))}),
            )
            return v3_values(find_groups(User(0, True, True), {"id": group_id}), sequential, "id")
        if key == ("GroupContact", "get"):
            require(user, user.view_all, "GroupContact", "get", "")
            contacts = params.get("contact_id")
            if isinstance(contacts, dict):  # fact 15: a PHP TypeError deep in CiviCRM
                raise PhpFatal
            groups = params.get("group_id")
            group_ids = (
                None
                if groups is None
                else groups.get("IN", [])
                if isinstance(groups, dict)
                else [groups]
            )
            if group_ids is not None:
                known = {r["id"] for r in store.all("SELECT id FROM groups")}
                for group_id in group_ids:
                    if int(group_id) not in known:
                        raise invalid_option(group_id, "group_id")
            found = memberships(user, None if contacts is None else [contacts], group_ids)
            if contacts is not None:  # fact 16: one contact's rows say nothing of the contact
                titles = {r["id"]: r["title"] for r in store.all("SELECT id, title FROM groups")}
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
        if key == ("GroupContact", "create"):
            if not params.get("group_id") or not params.get("contact_id"):
                missing = "group_id" if not params.get("group_id") else "contact_id"
                raise ApiError(
                    f"Mandatory key(s) missing from params array: {missing}",
                    "mandatory_missing",
                    missing,
                )
            contact_ids = (
                params["contact_id"]
                if isinstance(params["contact_id"], list)
                else [params["contact_id"]]
            )
            result = add_members(
                user, params["group_id"], contact_ids, str(params.get("status") or "Added")
            )
            # Fact 23: `values` is an integer (on which WordPress's REST wrapper crashes).
            return {"is_error": 0, "version": 3, "count": 1, "values": 1, **result}
        if entity in ("Email", "Phone") and action in ("get", "create", "delete"):
            return location_record(user, entity, action, params, sequential)
        if key == ("Relationship", "get"):
            return v3_values(relationships(params), sequential, "id")
        if key == ("RelationshipType", "get"):
            kinds = store.all("SELECT * FROM relationship_types ORDER BY id")
            return v3_values([texts(dict(r)) for r in kinds], sequential, "id")
        if key in (("CustomField", "get"), ("CustomGroup", "get")):
            # issue27.jsonl 268, 269: only "administer CiviCRM and access all custom data"
            if not user.custom_data:
                raise ApiError(
                    f"API permission check failed for {entity}/get call; insufficient "
                    "permission: require administer CiviCRM and access all custom data",
                    "unauthorized",
                )
            if entity == "CustomGroup":
                sets = store.all("SELECT DISTINCT group_title, extends FROM custom_fields")
                found = [
                    {"id": str(i), "title": r["group_title"], "extends": r["extends"]}
                    for i, r in enumerate(sets, start=1)
                ]
                return v3_values(found, sequential, "id")
            return v3_values(custom_field_records(params), sequential, "id")
        if key == ("OptionValue", "get"):
            wanted = params.get("option_group_id")
            ids = [
                int(i)
                for i in (wanted.get("IN", []) if isinstance(wanted, dict) else [wanted])
                if i is not None
            ]
            chosen = store.all(
                f"SELECT * FROM option_values WHERE option_group_id IN"
                f" ({','.join('?' * len(ids)) or 'NULL'}) ORDER BY id",
                ids,
            )
            return v3_values([texts(dict(r)) for r in chosen], sequential, "id")
        raise ApiError(
            f"API ({entity}, {action}) does not exist (join the API team and implement it!)",
            "not-found",
        )

    # Relationships and custom fields (issue27.jsonl) --------------------------------------------

    def texts(record: Mapping[str, Any]) -> dict[str, str]:
        """A record as CiviCRM sends it: strings, and no key where there is no value."""
        return {k: str(v) for k, v in record.items() if v is not None}

    def relationships(params: Mapping[str, Any]) -> list[dict[str, str]]:
        """`contact_id_a`/`contact_id_b` (one or IN), both required unless `options.or` pairs
        them (issue27.jsonl 262, 265)."""
        tests: list[str] = []
        args: list[Any] = []
        for side in ("contact_id_a", "contact_id_b"):
            value = params.get(side)
            if value is None:
                continue
            ids = value.get("IN", []) if isinstance(value, dict) else [value]
            tests.append(f"{side} IN ({','.join('?' * len(ids)) or 'NULL'})")
            args += [int(i) for i in ids]
        either = ["contact_id_a", "contact_id_b"] in (params.get("options") or {}).get("or", [])
        where = (" OR " if either else " AND ").join(tests) or "1"
        rows = store.all(f"SELECT * FROM relationships WHERE {where} ORDER BY id", args)
        return [texts(dict(r)) for r in rows]

    def custom_field_records(params: Mapping[str, Any]) -> list[dict[str, str]]:
        extends = params.get("custom_group_id.extends")
        kinds = extends.get("IN", []) if isinstance(extends, dict) else None
        found = []
        for r in store.all("SELECT * FROM custom_fields ORDER BY id"):
            if kinds is not None and r["extends"] not in kinds:
                continue
            record = {
                "id": r["id"],
                "name": r["name"],
                "label": r["label"],
                "data_type": r["data_type"],
                "html_type": r["html_type"],
                "option_group_id": r["option_group_id"],
                "custom_group_id.title": r["group_title"],
                "custom_group_id.extends": r["extends"],
                "serialize": 0,
            }
            found.append(texts(record))
        return found

    def custom_of(user: User, contact_id: int, returned: list[str] | None) -> dict[str, str]:
        """The custom values asked for (`return: custom_N`), "" where none; nothing for a
        caller without "access all custom data" (issue27.jsonl 272, 274)."""
        asked = [int(m.group(1)) for k in returned or () if (m := CUSTOM_KEY.fullmatch(k))]
        if not asked or not user.custom_data:
            return {}
        values = store.custom_values(contact_id)
        known = {r["id"] for r in store.all("SELECT id FROM custom_fields")}
        return {f"custom_{i}": values.get(i, "") for i in asked if i in known}

    def custom_written(user: User, params: Mapping[str, Any]) -> dict[int, str]:
        """The custom values a `Contact.create` writes, checked as CiviCRM checks them (an
        option it does not have, a number that is not one: 278, 279); none, silently, for a
        caller without "access all custom data" (281, 282)."""
        given = {int(m.group(1)): v for k, v in params.items() if (m := CUSTOM_KEY.fullmatch(k))}
        if not given or not user.custom_data:
            return {}
        fields = {r["id"]: r for r in store.all("SELECT * FROM custom_fields")}
        options = {
            (r["option_group_id"], r["value"]) for r in store.all("SELECT * FROM option_values")
        }
        written: dict[int, str] = {}
        for field_id, value in given.items():
            field = fields.get(field_id)
            if field is None:
                continue  # CiviCRM ignores what it does not know
            text = "" if value is None else str(value)
            if (
                text
                and field["option_group_id"]
                and (field["option_group_id"], text) not in options
            ):
                raise invalid_option(text, f"custom_{field_id}")
            if text and field["data_type"] in ("Float", "Int", "Money"):
                try:
                    float(text)
                except ValueError:
                    raise ApiError(
                        f"One of parameters  (value: {text}) is not of the type {field['data_type']}",
                        "0",
                    ) from None
            if text and field["data_type"] == "Date":
                text = f"{text[:10]} {text[11:19] or '00:00:00'}"
            if field["data_type"] == "Boolean" and text:
                text = "1" if text.lower() in ("1", "true") else "0"
            written[field_id] = text
        return written

    def groups_text(contact_id: int) -> str:
        rows = store.all(
            "SELECT group_id, status FROM group_contact WHERE contact_id = ? ORDER BY group_id",
            (contact_id,),
        )
        return ",".join(str(r["group_id"]) if r["status"] == "Added" else "" for r in rows)

    def run_chained(user: User, params: Mapping[str, Any], record: dict[str, Any]) -> None:
        """`api.Entity.action` keys: the call run for this record (its contact by default),
        `$value.<key>` read from this record's results so far, its answer kept in the record."""
        if not honours_chains:
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
                record[name] = run_v3(user, sub_entity, sub_action, sub_params)
            except ApiError as error:
                record[name] = error_body(error, sub_entity, sub_action)

    def chained_of(record: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in record.items() if k.startswith("api.")}

    def location_record(
        user: User, entity: str, action: str, params: Mapping[str, Any], sequential: bool
    ) -> Any:
        """Email and Phone, one primary record per contact (its id is the contact's)."""
        column = entity.lower()
        if action == "delete":
            target = params.get("id")
            if not target or store.contact_state(int(target)) is None:
                raise ApiError(f"Could not delete {entity} with id {target}", "0")
            store.update_contact(int(target), {column: ""})
            return {"is_error": 0, "version": 3, "count": 1, "values": 1}
        if action == "get":
            contact_id = params.get("contact_id")
            allowed = find_contacts(user, {"id": contact_id}, 1, 0, None) if contact_id else []
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
        row = store.one("SELECT id FROM contacts WHERE id = ? AND is_deleted = 0", (target,))
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
        store.update_contact(int(row["id"]), {column: value})
        record = {
            "id": str(row["id"]),
            "contact_id": "" if params.get("id") else str(row["id"]),
            "location_type_id": str(params.get("location_type_id", "")),
            column: value,
            "is_primary": str(params.get("is_primary", "")),
        }
        return v3_values([record], sequential, "id")

    # API v2 --------------------------------------------------------------------------------------

    def run_v2(user: User, entity: str, action: str, params: dict[str, Any]) -> Any:
        returned = (
            [k for k, v in (params.get("return") or {}).items() if str(v) == "1"]
            if isinstance(params.get("return"), dict)
            else None
        )
        if (entity, action) in (("contact", "get"), ("contact", "search")):
            filters = {
                k: v for k, v in params.items() if k not in ("return", "offset", "rowCount", "sort")
            }
            if filters.get("sort_name"):  # API v2 matches names with wildcards
                filters["sort_name"] = {"LIKE": f"%{filters['sort_name']}%"}
            if isinstance(filters.get("group"), dict):  # group[3]=1
                filters["group"] = {
                    "IN": [g for g, on in filters["group"].items() if str(on) == "1"]
                }
            records = find_contacts(
                user,
                filters,
                int(params.get("rowCount", 25)),
                int(params.get("offset", 0)),
                params.get("sort"),
            )
            return [select(r, returned, "contact_id") for r in records]
        if (entity, action) == ("contact", "add"):
            return {"contact_id": write_contact(user, params, v3=False), "is_error": 0}
        if (entity, action) == ("group", "get"):
            return find_groups(user, params)
        if (entity, action) == ("group", "add"):
            require(user, user.edit_all, "Group", "create", "edit groups")
            if not params.get("title"):
                raise ApiError("Required parameter missing: title", None, "title")
            return {
                "is_error": 0,
                "result": store.create_group(
                    str(params["title"]), str(params.get("description", ""))
                ),
            }
        if (entity, action) == ("group_contact", "get"):
            if not params.get("contact_id"):
                raise ApiError("contact_id is a required field", None, "contact_id")
            titles = {r["id"]: r["title"] for r in store.all("SELECT id, title FROM groups")}
            return [
                {
                    "id": m["id"],
                    "group_id": m["group_id"],
                    "title": titles[int(m["group_id"])],
                    "visibility": "",
                    "in_method": "API",
                    "in_date": "",
                }
                for m in memberships(user, [params["contact_id"]], None)
            ]
        if (entity, action) == ("group_contact", "add"):
            contact_ids = [v for k, v in sorted(params.items()) if k.startswith("contact_id")]
            if not params.get("group_id") or not contact_ids:
                raise ApiError(
                    "contact_id is a required field"
                    if params.get("group_id")
                    else "group_id is a required field"
                )
            return {"is_error": 0, **add_members(user, params["group_id"], contact_ids)}
        if (entity, action) == ("group_contact", "remove"):  # 3.2: the row kept, Removed
            contact_ids = [v for k, v in sorted(params.items()) if k.startswith("contact_id")]
            if not params.get("group_id") or not contact_ids:
                raise ApiError("group_id and contact_id are required fields")
            found = add_members(user, params["group_id"], contact_ids, "Removed")
            return {"is_error": 0, **found}
        raise ApiError(f"Unknown function called: civicrm_{entity}_{action}")

    # HTTP ----------------------------------------------------------------------------------------

    def user_of(values: Mapping[str, Any], request: Request) -> User | None:
        contact_id = sessions.get(request.cookies.get("PHPSESSID", ""))
        if contact_id is None and values.get("api_key"):
            row = store.one("SELECT id FROM contacts WHERE api_key = ?", (str(values["api_key"]),))
            contact_id = row["id"] if row else None
        if contact_id is None:
            return None
        staff = store.one("SELECT staff FROM contacts WHERE id = ?", (contact_id,))
        is_staff = bool(staff and staff["staff"])
        restricted = int(contact_id) == contact_id_of(5)
        return User(int(contact_id), is_staff, is_staff, is_staff and not restricted)

    async def rest(request: Request) -> Response:
        items = [
            *request.query_params.multi_items(),
            *parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True),
        ]
        values = nest(items)
        q = str(values.get("q", ""))
        v3 = "entity" in values or str(values.get("version", "")) == "3"
        wants_json = "json" in values and not force_xml
        respond = (
            (lambda body, hier=False: as_json(body))
            if wants_json
            else (lambda body, hier=False: as_xml(body, hier, v3))
        )
        entity = action = None
        try:
            if values.get("key") != SITE_KEY:
                if v3 or era == "5":
                    raise ApiError("Failed to authenticate key")  # fact 10, both cases
                raise ApiError(f"Could not authenticate user, invalid site key. {MORE_INFO}")
            if q == "civicrm/ping":
                return respond({"is_error": 0, "message": f"PONG: {values['key']}"})
            if era == "5" and q and not values.get("entity"):
                parts = q.split("/")
                if len(parts) != 3 or parts[0] != "civicrm" or parts[1] == "login":
                    raise ApiError("ERROR: Malformed REST path")  # fact 25
                v3 = True
            if q == "civicrm/login":
                return login(values, respond)
            user = user_of(values, request)
            if v3:
                if "api_key" not in values and user is None:
                    raise ApiError("FATAL: mandatory param 'api_key' (user key) missing")
                if user is None:
                    raise ApiError("ERROR: No CMS user associated with given api-key")  # fact 9
                params = {
                    k: v
                    for k, v in values.items()
                    if k not in ("q", "key", "api_key", "entity", "action", "json", "version")
                }
                if isinstance(values.get("json"), str) and values["json"].startswith("{"):
                    params.update(json.loads(values["json"]))
                entity, action = (
                    str(values.get("entity", "")),
                    str(values.get("action", "get")).lower(),
                )
                if q and not values.get("entity"):
                    _, entity, action = [*q.split("/"), "", ""][:3]
                    entity = "".join(part.title() for part in entity.split("_"))
                if action != "get" and request.method != "POST":
                    raise ApiError(
                        "SECURITY: All requests that modify the database must be http POST, not GET."
                    )
                calls.add(f"{entity}.{action}")
                target = params.get("id") or params.get("contact_id") or ""
                log.append((str(values.get("api_key", "")), f"{entity}.{action}", str(target)))
                return respond(run_v3(user, entity, action, params), True)
            parts = q.split("/")
            if len(parts) != 3 or parts[0] != "civicrm":
                raise ApiError("Unknown function invocation.")
            if user is None:
                raise ApiError("Valid session, or user api_key required")
            params = {k: v for k, v in values.items() if k not in ("q", "key", "api_key", "json")}
            calls.add(f"{parts[1]}.{parts[2]}")
            result = run_v2(user, parts[1], parts[2], params)
            return respond(result, isinstance(result, list))
        except ApiError as error:
            if v3:
                return respond(error_body(error, entity, action))
            return respond({"is_error": 1, "error_message": error.message})
        except PhpFatal:
            return Response(CRITICAL_ERROR, status_code=500, media_type="text/html; charset=UTF-8")
        except (ValueError, TypeError):
            return respond({"is_error": 1, "error_message": "Invalid parameters"})

    def login(values: Mapping[str, Any], respond: Callable[..., Response]) -> Response:
        name, password = values.get("name"), values.get("pass")
        if not name or not password:
            raise ApiError("Invalid name / password.")
        row = store.one("SELECT * FROM contacts WHERE username = ?", (str(name),))
        if row is None or row["password"] != password:
            raise ApiError("Could not authenticate user, invalid name or password.")
        if not row["api_key"]:
            raise ApiError(
                "This user does not have a valid API key in the database, and therefore cannot authenticate through this interface"
            )
        session = secrets.token_hex(13)
        sessions[session] = row["id"]
        response = respond(
            {
                "is_error": 0,
                "api_key": row["api_key"],
                "PHPSESSID": session,
                "key": hashlib.sha1(str(row["id"]).encode(), usedforsecurity=False).hexdigest(),
            }
        )
        response.set_cookie("PHPSESSID", session)
        return response

    app = Starlette(
        routes=[Route(REST_PATH, rest, methods=["GET", "POST"]), *counter.routes()],
        middleware=[Middleware(CountRequests, counter=counter)],
    )
    app.state.counter = counter
    app.state.calls = calls
    app.state.log = log
    app.state.store = store
    return app


def like(pattern: str, text: str) -> bool:
    """SQL's LIKE (case-insensitive, as MySQL's default collation), backslash escaping."""
    parts = re.findall(r"\\.|%|_|[^\\%_]+", pattern)
    regex = "".join(
        ".*" if p == "%" else "." if p == "_" else re.escape(p[-1] if p.startswith("\\") else p)
        for p in parts
    )
    return re.fullmatch(regex, text, re.IGNORECASE | re.DOTALL) is not None


def nest(items: list[tuple[str, str]]) -> dict[str, Any]:
    """PHP's reading of bracketed names: `return[email]=1` → {"return": {"email": "1"}}."""
    root: dict[str, Any] = {}
    for name, value in items:
        keys = re.findall(r"[^\[\]]+", name) or [name]
        node = root
        for key in keys[:-1]:
            child = node.get(key)
            if not isinstance(child, dict):
                child = node[key] = {}
            node = child
        node[keys[-1]] = value
    return root


def as_json(body: Any) -> Response:
    # 3.2 sends JSON as text/javascript; v3 sites send application/json. Clients parse either.
    return Response(json.dumps(body), media_type="application/json")


def as_xml(body: Any, hierarchical: bool, v3: bool) -> Response:
    records: list[Any]
    if isinstance(body, list):
        records = body
    elif (
        hierarchical
        and isinstance(body, dict)
        and isinstance(body.get("values"), dict | list)
        and body.get("values")
    ):
        values = body["values"]
        records = list(values.values()) if isinstance(values, dict) else values
    elif (
        hierarchical
        and isinstance(body, dict)
        and "values" in body
        and not body.get("is_error")
        and body.get("count") == 0
    ):
        records = []
    else:
        records = [body]
    count = f' count="{len(records)}"' if v3 else ""
    inner = "".join(f"<Result>\n{xml_fields(r)}</Result>\n" for r in records)
    text = f'<?xml version="1.0"?>\n<ResultSet xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"{count}>\n{inner}</ResultSet>\n'
    return Response(text, media_type="text/xml")


def xml_fields(record: Mapping[str, Any]) -> str:
    """Fields as elements; a list's items named by their index, `<0>1</0>`, as CiviCRM writes
    them (fact 3: no XML parser accepts such a document)."""
    out = []
    for key, value in record.items():
        if isinstance(value, list):
            value = {str(i): item for i, item in enumerate(value)}
        if isinstance(value, dict):
            out.append(f"<{key}>\n{xml_fields(value)}</{key}>\n")
        else:
            out.append(f"<{key}>{html.escape(str(value))}</{key}>\n")
    return "".join(out)
