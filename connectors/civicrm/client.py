"""The CiviCRM REST client: typed async methods over one `Upstream`, in either call style."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from ..errors import ProtocolError
from ..http import Upstream
from .models import Contact, ContactFields, Group, Membership
from .results import SOURCE, read

__all__ = ["CONTACT_FIELDS", "ApiStyle", "Civicrm"]

ApiStyle = Literal["entity", "q"]
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

    async def create_contact(self, fields: ContactFields) -> int:
        if self.style == "q":
            return _new_id(await self._v2("contact/add", _v2_fields(fields)), "contact_id")
        return _new_id(await self._v3("Contact", "create", _v3_fields(fields)), "id")

    async def update_contact(self, contact_id: int, fields: ContactFields) -> int:
        """Writes only the fields that are set: CiviCRM leaves the others as they are."""
        if self.style == "q":
            flat = {"contact_id": str(contact_id), **_v2_fields(fields)}
            return _new_id(await self._v2("contact/add", flat), "contact_id")
        params: dict[str, Any] = {"id": contact_id, **_v3_fields(fields)}
        return _new_id(await self._v3("Contact", "create", params), "id")

    # Groups ------------------------------------------------------------------------------------

    async def groups(
        self, *, ids: Sequence[int] | None = None, search: str | None = None
    ) -> list[Group]:
        if ids is not None and not ids:
            return []
        if self.style == "q":
            params = {"title": search} if search else {}
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
            body = await self._v2("group/add", {"title": title, "description": description})
            return _new_id(body, "result")
        return _new_id(
            await self._v3("Group", "create", {"title": title, "description": description}), "id"
        )

    async def memberships(
        self, *, contact_ids: Sequence[int] | None = None, group_ids: Sequence[int] | None = None
    ) -> list[Membership]:
        """Who is in which group, for the given contacts or groups: one call in API v3."""
        if self.style == "q":
            return await self._v2_memberships(contact_ids, group_ids)
        filters: dict[str, Any] = {"status": "Added", "options": {"limit": 0}}
        if contact_ids is not None:
            filters["contact_id"] = {"IN": list(contact_ids)}
        if group_ids is not None:
            filters["group_id"] = {"IN": list(group_ids)}
        return [
            Membership(group_id=int(r["group_id"]), contact_id=int(r["contact_id"]))
            for r in _records(await self._v3("GroupContact", "get", filters))
        ]

    async def _v2_memberships(
        self, contact_ids: Sequence[int] | None, group_ids: Sequence[int] | None
    ) -> list[Membership]:
        if contact_ids is not None:
            answers = await asyncio.gather(
                *(self._v2("group_contact/get", {"contact_id": str(c)}) for c in contact_ids)
            )
            return [
                Membership(group_id=int(r["group_id"]), contact_id=contact)
                for contact, answer in zip(contact_ids, answers, strict=True)
                for r in _records(answer)
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
            Membership(group_id=group, contact_id=int(r["contact_id"]))
            for group, answer in zip(groups, answers, strict=True)
            for r in _records(answer)
        ]

    async def add_to_group(self, group_id: int, contact_ids: Iterable[int]) -> int:
        """Adds the contacts to the group; how many were not members before."""
        ids = list(contact_ids)
        if self.style == "q":
            params = {
                "group_id": str(group_id),
                **{f"contact_id.{i + 1}": str(c) for i, c in enumerate(ids)},
            }
            body = await self._v2("group_contact/add", params)
        else:
            body = await self._v3(
                "GroupContact", "create", {"group_id": group_id, "contact_id": ids}
            )
        record = body[0] if isinstance(body, list) and body else body
        return int(record.get("added", 0)) if isinstance(record, dict) else 0

    async def login(self, name: str, password: str) -> str:
        """A user's api_key from their CMS name and password (`q=civicrm/login`)."""
        body = await self._v2("login", {"name": name, "pass": password})
        record = body[0] if isinstance(body, list) and body else body
        if not isinstance(record, dict) or not record.get("api_key"):
            raise ProtocolError(SOURCE, "CiviCRM's login answer has no api_key")
        return str(record["api_key"])


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


def _v3_fields(fields: ContactFields) -> dict[str, Any]:
    return {k: v for k, v in vars(fields).items() if v is not None}


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


def _contact(r: Mapping[str, Any]) -> Contact:
    try:
        contact_id = int(r.get("contact_id") or r["id"])
    except (KeyError, ValueError) as exc:
        raise ProtocolError(SOURCE, "CiviCRM sent a contact without an id") from exc
    return Contact(
        id=contact_id,
        contact_type=str(r.get("contact_type", "")),
        display_name=str(r.get("display_name", "")),
        sort_name=str(r.get("sort_name", "")),
        first_name=_text(r.get("first_name")),
        last_name=_text(r.get("last_name")),
        organization_name=_text(r.get("organization_name")),
        household_name=_text(r.get("household_name")),
        email=_text(r.get("email")),
        phone=_text(r.get("phone")),
        street=_text(r.get("street_address")),
        city=_text(r.get("city")),
        postal_code=_text(r.get("postal_code")),
        country=_text(r.get("country")),
        created_at=_time(r.get("created_date")),
        modified_at=_time(r.get("modified_date")),
    )


def _group(r: Mapping[str, Any]) -> Group:
    return Group(
        id=int(r["id"]),
        name=str(r.get("name", "")),
        title=str(r.get("title", "")),
        description=_text(r.get("description")),
        is_active=str(r.get("is_active", "1")) == "1",
        group_type=_text(r.get("group_type")),
        visibility=_text(r.get("visibility")),
    )
