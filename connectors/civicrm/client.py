"""The CiviCRM REST client: typed async methods over one `Upstream`, in either call style."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from ..answers import typed
from ..errors import BadRequest, NotFound, ProtocolError
from ..http import Upstream
from . import answers as a
from .models import Contact, ContactFields, Group, Membership
from .results import SOURCE, error_from, read

__all__ = ["CONTACT_FIELDS", "ApiStyle", "Civicrm"]

ApiStyle = Literal["entity", "q"]
T = TypeVar("T")
CONTACT_FIELDS = (
    "contact_type", "display_name", "sort_name", "first_name", "last_name", "organization_name",
    "household_name", "email", "phone", "street_address", "city", "postal_code", "country",
    "created_date", "modified_date",
)  # fmt: skip


class Civicrm:
    """A CiviCRM site, seen by the api_key in `upstream.auth`.

    `style="entity"` speaks API v3 (`entity`/`action`, parameters in `json`, `IN` filters for
    batches); `style="q"` speaks the 3.2-era `q=civicrm/<entity>/<action>` form with flat
    parameters, which has no `IN`: batches become one call per id, run concurrently.
    """

    def __init__(self, upstream: Upstream, *, rest_path: str, style: ApiStyle = "entity") -> None:
        self.upstream = upstream
        self.rest_path = rest_path
        self.style = style

    async def _v3(self, entity: str, action: str, params: Mapping[str, Any]) -> Any:
        form = {"entity": entity, "action": action, "json": json.dumps({"sequential": 1, **params})}
        call = f"{entity}.{action}"
        response = await self.upstream.request(
            "POST", self.rest_path, form=form, call=call, idempotent=action == "get"
        )
        result = read(response)
        await self.upstream.keep(response)
        return result

    async def _v2(self, function: str, params: Mapping[str, str]) -> Any:
        form = {"q": f"civicrm/{function}", "json": "1", **params}
        call = function.replace("/", ".")
        reads = function.endswith(("/get", "/search"))
        response = await self.upstream.request(
            "POST", self.rest_path, form=form, call=call, idempotent=reads
        )
        result = read(response)
        await self.upstream.keep(response)
        return result

    # Contacts ----------------------------------------------------------------------------------

    async def contacts(
        self,
        *,
        ids: Sequence[int] | None = None,
        emails: Sequence[str] | None = None,
        search: str | None = None,
        contact_type: str | None = None,
        with_email: bool = False,
        group_id: int | None = None,
        limit: int = 25,
        offset: int = 0,
    ) -> list[Contact]:
        """Contacts the caller may see: by id (one call per batch), or a window of a search."""
        if (ids is not None and not ids) or (emails is not None and not emails):
            return []
        if self.style == "q":
            if emails is not None:  # API v2 has no IN filter
                found = await asyncio.gather(*(self._v2_contacts({"email": e}) for e in emails))
                return [contact for batch in found for contact in batch]
            if ids is not None:
                found = await asyncio.gather(
                    *(self._v2_contacts({"contact_id": str(i)}) for i in ids)
                )
                return [contact for batch in found for contact in batch]
            params = {"offset": str(offset), "rowCount": str(limit), "sort": "sort_name ASC"}
            if search:
                params["sort_name"] = search
            if contact_type:
                params["contact_type"] = contact_type
            if group_id is not None:
                params[f"group[{group_id}]"] = "1"
            return await self._v2_contacts(params)
        filters: dict[str, Any] = {"return": list(CONTACT_FIELDS)}
        if ids is not None or emails is not None:
            filters["options"] = {"limit": 0}
        if ids is not None:
            filters["id"] = {"IN": list(ids)}
        if emails is not None:
            filters["email"] = {"IN": list(emails)}
        if "options" not in filters:
            filters["options"] = {"limit": limit, "offset": offset, "sort": "sort_name ASC"}
        if search:
            filters["display_name"] = {"LIKE": f"%{search}%"}
        if group_id is not None:
            filters["group"] = {"IN": [group_id]}
        if contact_type:
            filters["contact_type"] = contact_type
        if with_email:
            filters["email"] = {"IS NOT NULL": 1}
        return [_contact(r) for r in _records(await self._v3("Contact", "get", filters))]

    async def me(self) -> Contact | None:
        """The caller's own contact (API v3's `user_contact_id`); None in the v2 style, which
        cannot tell."""
        if self.style == "q":
            return None
        filters = {"id": "user_contact_id", "return": list(CONTACT_FIELDS)}
        found = _records(await self._v3("Contact", "get", filters))
        return _contact(found[0]) if found else None

    async def _v2_contacts(self, params: dict[str, str]) -> list[Contact]:
        params.update({f"return[{name}]": "1" for name in CONTACT_FIELDS})
        return [_contact(r) for r in _records(await self._v2("contact/get", params))]

    async def create_contact(self, fields: ContactFields) -> Contact:
        """Creates the contact and answers it as read back, or fails saying what was not saved.

        API v3 ignores a top-level `phone` (and on update also `email`): e-mail and phone go in
        their own entities, chained into the create (`api.Email.create`, `api.Phone.create`).
        """
        if self.style == "q":
            created = await self._v2_write("contact", _v2_fields(fields))
            contact_id = _new_id(created, "contact_id")
        else:
            params: dict[str, Any] = _v3_fields(fields, without=("email", "phone"))
            if fields.email is not None:
                params["api.Email.create"] = {
                    "email": fields.email,
                    "is_primary": 1,
                    "location_type_id": 1,
                }
            if fields.phone is not None:
                params["api.Phone.create"] = {
                    "phone": fields.phone,
                    "is_primary": 1,
                    "location_type_id": 1,
                    "phone_type_id": 1,
                }
            created = await self._v3("Contact", "create", params)
            contact_id = _new_id(created, "id")
            _check_chained(created, f"CiviCRM created contact {contact_id}, but")
        return await self._saved(contact_id, fields, f"CiviCRM created contact {contact_id}")

    async def update_contact(self, contact_id: int, fields: ContactFields) -> Contact:
        """Writes only the fields that are set (CiviCRM leaves the others as they are), and
        answers the contact as read back, or fails saying what was not saved. The e-mail and the
        phone are their own records: the primary one is changed, or added where there is none.
        """
        if self.style == "q":
            flat = {"contact_id": str(contact_id), **_v2_fields(fields)}
            await self._v2_write("contact", flat)
            return await self._saved(contact_id, fields, f"CiviCRM updated contact {contact_id}")
        others = _v3_fields(fields, without=("email", "phone"))
        if others:
            await self._v3("Contact", "create", {"id": contact_id, **others})
        for entity, field, value, extra in (
            ("Email", "email", fields.email, {"location_type_id": 1}),
            ("Phone", "phone", fields.phone, {"location_type_id": 1, "phone_type_id": 1}),
        ):
            if value is not None:
                await self._set_primary(entity, contact_id, {field: value}, extra)
        return await self._saved(contact_id, fields, f"CiviCRM updated contact {contact_id}")

    async def _set_primary(
        self, entity: str, contact_id: int, value: dict[str, Any], extra: dict[str, Any]
    ) -> None:
        """Changes the contact's primary `entity` record (Email, Phone), or adds one."""
        found = _records(await self._v3(entity, "get", {"contact_id": contact_id, "is_primary": 1}))
        target = (
            {"id": _typed(found[0], a.Record, entity).id}
            if found
            else {"contact_id": contact_id, "is_primary": 1}
        )
        await self._v3(entity, "create", {**target, **value, **({} if found else extra)})

    async def _saved(self, contact_id: int, fields: ContactFields, done: str) -> Contact:
        """The contact read back, checked to hold what was written."""
        found = await self.contacts(ids=[contact_id])
        if not found:
            raise ProtocolError(SOURCE, f"{done}, but cannot read it back")
        contact = found[0]
        unsaved = [
            name
            for name, value in vars(fields).items()
            if value is not None
            and name != "contact_type"
            and str(getattr(contact, name) or "").strip().lower() != str(value).strip().lower()
        ]
        if unsaved:
            raise ProtocolError(SOURCE, f"{done}, but it did not save: {', '.join(unsaved)}")
        return contact

    # Groups ------------------------------------------------------------------------------------

    async def groups(
        self, *, ids: Sequence[int] | None = None, search: str | None = None
    ) -> list[Group]:
        if ids is not None and not ids:
            return []
        if self.style == "q":
            # rowCount=0: all of them (API v3 reads it as `limit`, whose default is 25).
            params = {"rowCount": "0", **({"title": search} if search else {})}
            found = [_group(r) for r in _records(await self._v2("group/get", params))]
            return found if ids is None else [g for g in found if g.id in set(ids)]
        filters: dict[str, Any] = {"options": {"limit": 0}}
        if ids is not None:
            filters["id"] = {"IN": list(ids)}
        if search:
            filters["title"] = {"LIKE": f"%{search}%"}
        return [_group(r) for r in _records(await self._v3("Group", "get", filters))]

    async def create_group(self, title: str, description: str = "") -> int:
        if self.style == "q":
            body = await self._v2_write("group", {"title": title, "description": description})
            return _new_id(body, "id") if _has_new_id(body, "id") else _new_id(body, "result")
        return _new_id(
            await self._v3("Group", "create", {"title": title, "description": description}), "id"
        )

    async def memberships(
        self, *, contact_ids: Sequence[int] | None = None, group_ids: Sequence[int] | None = None
    ) -> list[Membership]:
        """Who is in which group (status Added), for the given contacts or groups: one call in
        API v3.

        For contacts, `Contact.get` with `return: ["group"]`: CiviCRM 5's `GroupContact.get` with
        a list of contact ids is a PHP fatal, and with one id its rows lack `contact_id`. Each
        contact's `groups` is a comma-separated list of the groups it is Added to (an empty item
        where a membership is Removed).
        """
        if self.style == "q":
            return await self._v2_memberships(contact_ids, group_ids)
        if contact_ids is not None:
            rows = _records(
                await self._v3(
                    "Contact",
                    "get",
                    {"id": {"IN": list(contact_ids)}, "return": ["group"], "options": {"limit": 0}},
                )
            )
            found = [_typed(r, a.ContactGroups, "a contact's groups") for r in rows]
            return [
                Membership(group_id=int(group), contact_id=_contact_id(r))
                for r in found
                for group in r.groups.split(",")
                if group.strip().isdigit()
            ]
        filters: dict[str, Any] = {"status": "Added", "options": {"limit": 0}}
        if group_ids is not None:
            filters["group_id"] = {"IN": list(group_ids)}
        return [
            Membership(group_id=r.group_id, contact_id=_member(r))
            for r in _typed_records(
                await self._v3("GroupContact", "get", filters), a.MembershipRecord, "memberships"
            )
        ]

    async def _v2_memberships(
        self, contact_ids: Sequence[int] | None, group_ids: Sequence[int] | None
    ) -> list[Membership]:
        if contact_ids is not None:
            answers = await asyncio.gather(
                *(
                    self._v2("group_contact/get", {"contact_id": str(c), "rowCount": "0"})
                    for c in contact_ids
                )
            )
            return [
                Membership(group_id=r.group_id, contact_id=contact)
                for contact, answer in zip(contact_ids, answers, strict=True)
                for r in _typed_records(answer, a.MembershipRecord, "memberships")
            ]
        groups = list(group_ids or ())
        answers = await asyncio.gather(
            *(
                self._v2(
                    "contact/get", {f"group[{g}]": "1", "rowCount": "0", "return[contact_id]": "1"}
                )
                for g in groups
            )
        )
        return [
            Membership(group_id=group, contact_id=_contact_id(r))
            for group, answer in zip(groups, answers, strict=True)
            for r in _typed_records(answer, a.ContactGroups, "members")
        ]

    async def add_to_group(self, group_id: int, contact_ids: Iterable[int]) -> int:
        """Adds the contacts to the group; how many were not members before.

        `GroupContact.create` answers `"values": 1`, on which the WordPress REST endpoint crashes
        after the write (HTTP 500): each contact is added through a create chained to its
        contact, which every endpoint answers whole.
        """
        ids = list(contact_ids)
        if self.style == "q":
            answers = await asyncio.gather(
                *(
                    self._v2_write(
                        "group_contact", {"group_id": str(group_id), "contact_id": str(c)}
                    )
                    for c in ids
                )
            )
            return sum(int(_first(a).get("added", 0) or 0) for a in answers)
        answers = await asyncio.gather(
            *(
                self._v3(
                    "Contact",
                    "create",
                    {"id": c, "api.GroupContact.create": {"group_id": group_id}},
                )
                for c in ids
            )
        )
        added = 0
        for answer in answers:
            chained = _chained(answer, "api.GroupContact.create") or {}
            if str(chained.get("is_error", "0")) == "1":
                raise error_from(chained)
            added += int(chained.get("added", 0) or 0)
        return added

    async def login(self, name: str, password: str) -> str:
        """A user's api_key from their CMS name and password: `q=civicrm/login`, which only
        3.2-era sites have. CiviCRM 5 has no call that exchanges a password for an api key (an
        administrator sets each user's key), and says so without asking the site."""
        if self.style != "q":
            raise BadRequest(SOURCE, NO_LOGIN)
        try:
            body = await self._v2("login", {"name": name, "pass": password})
        except BadRequest as error:
            if "malformed rest path" in error.message.lower():
                raise BadRequest(SOURCE, NO_LOGIN, upstream_code=error.upstream_code) from error
            raise
        record = _first(body)
        if not record.get("api_key"):
            raise ProtocolError(SOURCE, "CiviCRM's login answer has no api_key")
        return str(record["api_key"])

    async def _v2_write(self, entity: str, params: Mapping[str, str]) -> Any:
        """`create` through `q=`, as 5.x has it; `add` where the site is old enough not to."""
        try:
            return await self._v2(f"{entity}/create", params)
        except (NotFound, BadRequest) as error:
            lower = error.message.lower()
            if "does not exist" not in lower and "unknown function" not in lower:
                raise
            return await self._v2(f"{entity}/add", params)


NO_LOGIN = (
    "CiviCRM 5 has no login by password: ask the site's administrator for your api key and send "
    "it as X-Civicrm-Api-Key"
)


def _first(body: Any) -> dict[str, Any]:
    record = body[0] if isinstance(body, list) and body else body
    return record if isinstance(record, dict) else {}


def _chained(body: Any, name: str) -> dict[str, Any] | None:
    """The answer of a call chained into a create (`api.Email.create`), if any."""
    values = _records(body) if isinstance(body, dict) and "values" in body else []
    chained = values[0].get(name) if values and isinstance(values[0], dict) else None
    return chained if isinstance(chained, dict) else None


def _check_chained(body: Any, done: str) -> None:
    """Raises where a chained call failed although its parent was written."""
    for name in ("api.Email.create", "api.Phone.create"):
        chained = _chained(body, name)
        if chained is not None and str(chained.get("is_error", "0")) == "1":
            error = error_from(chained)
            raise type(error)(SOURCE, f"{done} its {name[4:9].lower()} failed: {error.message}")


def _has_new_id(body: Any, key: str) -> bool:
    return _first(body).get(key) not in (None, "")


def _records(body: Any) -> list[dict[str, Any]]:
    """The records of a list answer, whatever the style or format."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict) and "values" in body:
        values = body["values"]
        return list(values.values()) if isinstance(values, dict) else list(values or [])
    raise ProtocolError(SOURCE, "CiviCRM answered something that is not a list of records")


def _new_id(body: Any, key: str) -> int:
    record = body[0] if isinstance(body, list) and body else body
    if isinstance(record, dict):
        if record.get(key) not in (None, ""):
            return int(record[key])
        values = _records(record) if "values" in record else []
        if values and values[0].get("id"):
            return int(values[0]["id"])
    raise ProtocolError(SOURCE, f"CiviCRM's answer names no new {key}")


def _v3_fields(fields: ContactFields, *, without: tuple[str, ...] = ()) -> dict[str, Any]:
    return {k: v for k, v in vars(fields).items() if v is not None and k not in without}


def _v2_fields(fields: ContactFields) -> dict[str, str]:
    params = {k: str(v) for k, v in vars(fields).items() if v is not None and k != "email"}
    if fields.email is not None:  # location blocks are numbered from 1; type 1 is "Home"
        params.update(
            {
                "email[1][email]": fields.email,
                "email[1][location_type_id]": "1",
                "email[1][is_primary]": "1",
            }
        )
    return params


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    try:  # CiviCRM writes local time without a zone; the gateway reads it as UTC
        return datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError as exc:
        raise ProtocolError(SOURCE, f"CiviCRM sent an unreadable date {value!r}") from exc


def _typed(value: Any, model: type[T], what: str) -> T:
    return typed(SOURCE, value, model, what)


def _typed_records(body: Any, model: type[T], what: str) -> list[T]:
    return [_typed(r, model, what) for r in _records(body)]


def _contact_id(r: a.ContactRecord | a.ContactGroups) -> int:
    found = r.contact_id or r.id
    if found is None:
        raise ProtocolError(SOURCE, "CiviCRM sent a contact without contact_id or id")
    return found


def _member(r: a.MembershipRecord) -> int:
    if r.contact_id is None:
        raise ProtocolError(SOURCE, "CiviCRM sent a membership without contact_id")
    return r.contact_id


def _contact(raw: Mapping[str, Any]) -> Contact:
    r = _typed(raw, a.ContactRecord, "a contact")
    return Contact(
        id=_contact_id(r),
        contact_type=r.contact_type,
        display_name=r.display_name,
        sort_name=r.sort_name,
        first_name=_text(r.first_name),
        last_name=_text(r.last_name),
        organization_name=_text(r.organization_name),
        household_name=_text(r.household_name),
        email=_text(r.email),
        phone=_text(r.phone),
        street=_text(r.street_address),
        city=_text(r.city),
        postal_code=_text(r.postal_code),
        country=_text(r.country),
        created_at=_time(r.created_date),
        modified_at=_time(r.modified_date),
    )


def _group_types(value: Any) -> tuple[str, ...]:
    """CiviCRM 5 sends a list of option values (`["2"]`), XML a numbered element, 3.2-era
    sites a string with the values between separators (`\x011\x012\x01`); absent: none."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return tuple(str(v) for v in value if str(v).strip())
    return tuple(part for part in re.split(r"[\x01,\s]+", str(value or "")) if part)


def _group(raw: Mapping[str, Any]) -> Group:
    r = _typed(raw, a.GroupRecord, "a group")
    return Group(
        id=r.id,
        name=r.name,
        title=r.title,
        description=_text(r.description),
        is_active=r.is_active == "1",
        group_types=_group_types(r.group_type),
        visibility=_text(r.visibility),
    )
