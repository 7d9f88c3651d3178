"""The CiviCRM REST client: typed async methods over one `Upstream`, in either call style."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from ..answers import typed
from ..errors import BadRequest, Conflict, Forbidden, NotFound, ProtocolError, UpstreamError
from ..http import Upstream
from ..locks import WRITES, RecordLocks
from . import answers as a
from . import custom as c
from .models import (
    Contact,
    ContactFields,
    ContactFilter,
    CustomField,
    Group,
    Membership,
    Relationship,
    RelationshipType,
)
from .results import SOURCE, Duplicate, error_from, read

__all__ = ["CONTACT_FIELDS", "ApiStyle", "Civicrm", "OnDuplicate"]

ApiStyle = Literal["entity", "q"]
OnDuplicate = Literal["error", "existing", "create"]
"""What a create does where CiviCRM's duplicate rule finds the contact already there."""
NEW_PHONE = {"is_primary": 1, "location_type_id": 1, "phone_type_id": 1}
NEW_EMAIL = {"is_primary": 1, "location_type_id": 1}


@dataclass(frozen=True)
class Step:
    """One call of a write made in steps, or of putting it back."""

    entity: str
    action: str
    params: dict[str, Any]


T = TypeVar("T")
CONTACT_FIELDS = (
    "contact_type", "display_name", "sort_name", "first_name", "last_name", "organization_name",
    "household_name", "email", "phone", "street_address", "city", "postal_code", "country",
    "created_date", "modified_date",
)  # fmt: skip
CUSTOM_FIELD_RETURN = (
    "id", "name", "label", "data_type", "html_type", "option_group_id", "custom_group_id",
    "custom_group_id.title", "custom_group_id.extends",
)  # fmt: skip


class Civicrm:
    """A CiviCRM site, seen by the api_key in `upstream.auth`.

    `style="entity"` speaks API v3 (`entity`/`action`, parameters in `json`, `IN` filters for
    batches); `style="q"` speaks the 3.2-era `q=civicrm/<entity>/<action>` form with flat
    parameters, which has no `IN`: batches become one call per id, run concurrently.
    """

    def __init__(
        self,
        upstream: Upstream,
        *,
        rest_path: str,
        style: ApiStyle = "entity",
        locks: RecordLocks = WRITES,
    ) -> None:
        self.upstream = upstream
        self.rest_path = rest_path
        self.style = style
        self.locks = locks

    @property
    def site(self) -> str:
        """The site's address (its REST endpoint): what record locks and site-wide caches
        name it by."""
        return self.upstream.base_url.rstrip("/") + self.rest_path

    _site = site

    async def _v3(self, entity: str, action: str, params: Mapping[str, Any]) -> Any:
        form = {"entity": entity, "action": action, "json": json.dumps({"sequential": 1, **params})}
        call = f"{entity}.{action}"
        return await self.upstream.request(
            "POST",
            self.rest_path,
            form=form,
            call=call,
            idempotent=action in ("get", "getcount"),
            decode=read,
        )

    async def _v2(self, function: str, params: Mapping[str, str]) -> Any:
        form = {"q": f"civicrm/{function}", "json": "1", **params}
        call = function.replace("/", ".")
        reads = function.endswith(("/get", "/search"))
        return await self.upstream.request(
            "POST", self.rest_path, form=form, call=call, idempotent=reads, decode=read
        )

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
        where: ContactFilter | None = None,
        returned: Sequence[str] | None = None,
        custom: Sequence[CustomField] = (),
        limit: int = 25,
        offset: int = 0,
    ) -> list[Contact]:
        """Contacts the caller may see: by id (one call per batch), or a window of a search.

        `returned` names the CiviCRM fields to ask for (all of `CONTACT_FIELDS` where None; the
        others are then empty in the answer), and `custom` the custom fields whose values come
        along (`Contact.custom`)."""
        if (ids is not None and not ids) or (emails is not None and not emails):
            return []
        if self.style == "q":
            if where is not None or custom:
                return await self._v2_search(where, custom, limit, offset)
            if emails is not None:  # API v2 has no IN filter
                found = await asyncio.gather(*(self._v2_contacts({"email": e}) for e in emails))
                return [contact for batch in found for contact in batch]
            if ids is not None:
                found = await asyncio.gather(
                    *(self._v2_contacts({"contact_id": str(i)}) for i in ids)
                )
                return [contact for batch in found for contact in batch]
            params = {"offset": str(offset), "rowCount": str(limit), "sort": "sort_name ASC"}
            if search:  # matched with LIKE, by CiviCRM 5 as by 3.2 (recorded)
                params["sort_name"] = _literal(search)
            if contact_type:
                params["contact_type"] = contact_type
            if group_id is not None:
                params[f"group[{group_id}]"] = "1"
            return await self._v2_contacts(params)
        asked = list(CONTACT_FIELDS if returned is None else dict.fromkeys(returned))
        filters: dict[str, Any] = {"return": asked + [f.key for f in custom]}
        if ids is not None or emails is not None:
            filters["options"] = {"limit": 0}
        if ids is not None:
            filters["id"] = {"IN": list(ids)}
        if emails is not None:
            filters["email"] = {"IN": list(emails)}
        if "options" not in filters:
            filters["options"] = {"limit": limit, "offset": offset, "sort": "sort_name ASC"}
        filters |= _contact_search(search, contact_type, with_email, group_id, where)
        records = _records(await self._v3("Contact", "get", filters))
        return [_contact(r, custom if custom else None) for r in records]

    async def contact_count(
        self,
        *,
        search: str | None = None,
        contact_type: str | None = None,
        with_email: bool = False,
        group_id: int | None = None,
        where: ContactFilter | None = None,
    ) -> int | None:
        """How many contacts `contacts` finds with these filters, in all (`Contact.getcount`);
        None in the v2 style, which has no count."""
        if self.style == "q":
            return None
        filters = _contact_search(search, contact_type, with_email, group_id, where)
        return _count(await self._v3("Contact", "getcount", filters))

    async def me(self) -> Contact | None:
        """The caller's own contact (API v3's `user_contact_id`); None in the v2 style, which
        cannot tell."""
        if self.style == "q":
            return None
        filters = {"id": "user_contact_id", "return": list(CONTACT_FIELDS)}
        found = _records(await self._v3("Contact", "get", filters))
        return _contact(found[0]) if found else None

    async def _v2_search(
        self,
        where: ContactFilter | None,
        custom: Sequence[CustomField],
        limit: int,
        offset: int,
    ) -> list[Contact]:
        """A search by field in the `q=` form: flat filters, and no "changed since" (the 3.2-era
        API compares fields only for equality)."""
        if custom:
            raise BadRequest(SOURCE, "custom fields are read in the entity style only (API v3)")
        params = {"offset": str(offset), "rowCount": str(limit), "sort": "sort_name ASC"}
        if where is not None:
            if where.modified_since is not None:
                raise BadRequest(
                    SOURCE,
                    "modifiedSince: a site spoken to in the q= style cannot filter by date",
                    field="modifiedSince",
                )
            params |= {
                name: str(value)
                for name, value in vars(where).items()
                if value is not None and name not in ("group_id", "modified_since")
            }
            if where.group_id is not None:
                params[f"group[{where.group_id}]"] = "1"
        return await self._v2_contacts(params)

    async def _v2_contacts(self, params: dict[str, str]) -> list[Contact]:
        params.update({f"return[{name}]": "1" for name in CONTACT_FIELDS})
        return [_contact(r) for r in _records(await self._v2("contact/get", params))]

    async def create_contact(
        self, fields: ContactFields, *, on_duplicate: OnDuplicate = "error"
    ) -> Contact:
        """Creates the contact whole (names, e-mail, phone) or not at all, and answers it as
        read back.

        API v3 writes a top-level `email` on create, but not a `phone`: the phone is chained into
        the create (`api.Phone.create`), and CiviCRM 5 rolls the whole create back when a
        chained call fails. The 3.2-era `q=` form writes in steps where the site is CiviCRM 5
        (see `_steps_create`). Unless `on_duplicate` is "create", CiviCRM's `dupe_check` runs
        with the site's default rule for the contact type (on 5.77: the e-mail for individuals,
        the name or e-mail for organisations and households); "error" refuses a duplicate,
        "existing" answers the first existing contact the caller may see.
        """
        key = (self._site, "new Contact", fields.contact_type, _identity(fields))
        async with self.locks.hold(key):
            try:
                if self.style == "q":
                    contact_id, written = await self._steps_create(fields, on_duplicate)
                else:
                    contact_id, written = await self._v3_create(fields, on_duplicate)
            except Duplicate as duplicate:
                if on_duplicate != "existing" or not duplicate.ids:
                    raise
                found = await self.contacts(ids=duplicate.ids)
                if not found:
                    raise
                return found[0]
            return await self._saved(
                contact_id, fields, written, f"CiviCRM created contact {contact_id}"
            )

    async def _v3_create(
        self, fields: ContactFields, on_duplicate: OnDuplicate
    ) -> tuple[int, dict[str, str]]:
        params: dict[str, Any] = _v3_fields(fields, without=("phone",))
        if on_duplicate != "create":
            params["dupe_check"] = 1
        if fields.phone is not None:
            params["api.Phone.create"] = {"phone": fields.phone, **NEW_PHONE}
        created = await self._v3("Contact", "create", params)
        contact_id = _new_id(created, "id")
        written = _written(created)
        if fields.phone is not None and _chained(created, "api.Phone.create") is None:
            # An older site (3.x, 4.x) ignored the chained call: the phone on its own.
            undo = [Step("Contact", "delete", {"id": contact_id, "skip_undelete": 1})]
            await self._steps(contact_id, {"Phone": fields.phone}, None, written, undo)
        return contact_id, written

    async def _steps_create(
        self, fields: ContactFields, on_duplicate: OnDuplicate
    ) -> tuple[int, dict[str, str]]:
        """`q=` writes: one `contact/create` where the site is CiviCRM 5 (API v3 with flat
        fields: the e-mail is written on create, the phone is not), then `phone/create`; a
        failed phone removes the contact again. A 3.2-era site (`contact/add`) takes every
        field in its one call."""
        flat = {k: str(v) for k, v in vars(fields).items() if v is not None and k != "phone"}
        if on_duplicate != "create":
            flat["dupe_check"] = "1"
        old = {**_v2_fields(fields), **({"dupe_check": "1"} if on_duplicate != "create" else {})}
        created, era5 = await self._v2_write("contact", flat, old)
        contact_id = _new_id(created, "contact_id")
        written = _written(created)
        if era5 and fields.phone is not None:
            undo = [Step("Contact", "delete", {"id": contact_id, "skip_undelete": 1})]
            await self._steps(contact_id, {"Phone": fields.phone}, None, written, undo)
        return contact_id, written

    async def update_contact(
        self,
        contact_id: int,
        fields: ContactFields,
        custom: Sequence[tuple[CustomField, Any]] = (),
    ) -> Contact:
        """Writes only the fields that are set (CiviCRM leaves the others as they are), whole or
        not at all, and answers the contact as read back.

        The contact is read first: one the caller cannot see is `NotFound` before anything is
        written, and its primary e-mail and phone (`email_id`, `phone_id`) are what is changed,
        or added where there is none. In API v3 the whole change is one `Contact.create` with
        the e-mail and phone chained, which CiviCRM 5 rolls back whole when a part fails; where
        the site ignores chained calls (3.x, 4.x), and in the `q=` form, e-mail and phone are
        steps of their own, and a refused step puts back what the earlier ones wrote. One write
        per contact at a time within this process (`locks`).

        `custom` holds custom fields with the values to write (as `custom.written` makes them):
        they go in the same `Contact.create` (`custom_N`), and are read back with the contact.
        CiviCRM answers success while it ignores a custom field the caller may not edit
        (recorded for a user without "access all custom data"): the read back says so.
        """
        if custom and self.style == "q":
            raise BadRequest(SOURCE, "custom fields are written in the entity style only (API v3)")
        async with self.locks.hold((self._site, "Contact", contact_id)):
            before = await self._before(contact_id)
            records = {
                entity: value
                for entity, value in (("Email", fields.email), ("Phone", fields.phone))
                if value is not None
            }
            names = _v3_fields(fields, without=("email", "phone"))
            if self.style == "q":
                flat = {k: str(v) for k, v in names.items()}
                old = {"contact_id": str(contact_id), **_v2_fields(fields)}
                answer, era5 = await self._v2_write("contact", {"id": str(contact_id), **flat}, old)
                if not era5:  # a 3.2-era contact/add took every field
                    records = {}
            else:
                chained = {
                    f"api.{entity}.create": _primary(entity, value, before)
                    for entity, value in records.items()
                }
                values = {field.key: value for field, value in custom}
                answer = await self._v3(
                    "Contact", "create", {"id": contact_id, **names, **chained, **values}
                )
                records = {
                    e: v for e, v in records.items() if _chained(answer, f"api.{e}.create") is None
                }
            written = _written(answer)
            if records:  # steps of their own; undone back to the names as they were
                old_names = {k: getattr(before, k) or "" for k in names}
                undo = [Step("Contact", "create", {"id": contact_id, **old_names})] if names else []
                await self._steps(contact_id, records, before, written, undo)
            return await self._saved(
                contact_id, fields, written, f"CiviCRM updated contact {contact_id}", custom
            )

    async def _before(self, contact_id: int) -> a.ContactBefore:
        """The contact as it is, with the ids of its primary e-mail and phone."""
        returned = [*CONTACT_FIELDS]
        if self.style == "q":
            params = {"contact_id": str(contact_id), "return": ",".join(returned)}
            found = _records(await self._v2("contact/get", params))
        else:
            found = _records(
                await self._v3("Contact", "get", {"id": contact_id, "return": returned})
            )
        if not found:
            raise NotFound(
                SOURCE, f"CiviCRM shows no contact {contact_id} to this caller", field="id"
            )
        return _typed(found[0], a.ContactBefore, "a contact")

    async def _call(self, step: Step) -> Any:
        """One call in this client's style: API v3, or `q=civicrm/<entity>/<action>`."""
        if self.style == "q":
            flat = {k: str(v) for k, v in step.params.items()}
            return await self._v2(f"{_snake(step.entity)}/{step.action}", flat)
        return await self._v3(step.entity, step.action, step.params)

    async def _steps(
        self,
        contact_id: int,
        records: Mapping[str, str],
        before: a.ContactBefore | None,
        written: dict[str, str],
        undo: list[Step],
    ) -> None:
        """The contact's e-mail and phone (`records`: entity → value), one call each after the
        contact's own. A refused step puts back, latest first, what `undo` and the steps before
        it wrote, and raises saying whether that worked; `written` gains what each step wrote."""
        for entity, value in records.items():
            field = entity.lower()
            new = NEW_EMAIL if entity == "Email" else NEW_PHONE
            target = _primary(entity, value, before) if before else {field: value, **new}
            try:
                answer = await self._call(
                    Step(entity, "create", {"contact_id": contact_id, **target})
                )
            except UpstreamError as error:
                raise await self._undo(contact_id, undo, error, created=before is None) from error
            record = _first_record(answer)
            written[field] = str(record.get(field, ""))
            made = record.get("id")
            if before is not None and getattr(before, f"{field}_id"):
                undo.append(Step(entity, "create", {"id": made, field: getattr(before, field)}))
            elif made:
                undo.append(Step(entity, "delete", {"id": made}))

    async def _undo(
        self, contact_id: int, undo: list[Step], error: UpstreamError, *, created: bool
    ) -> UpstreamError:
        """The error to raise once what was written before a refused step is put back."""
        what = (
            f"CiviCRM refused part of the new contact ({error.message})"
            if created
            else f"CiviCRM refused part of the change to contact {contact_id} ({error.message})"
        )
        failed: list[str] = []
        for step in reversed(undo):
            try:
                await self._call(step)
            except UpstreamError as undone:
                gone = step.action == "delete" and step.entity == "Contact"
                if gone and not await self.contacts(ids=[contact_id]):
                    continue  # deleted, though the answer failed (WordPress's route: HTTP 500)
                failed.append(f"{step.entity}.{step.action}: {undone.message}")
        if not failed:
            tail = "; nothing was saved" if created else "; nothing was changed"
        elif created:
            tail = (
                f"; contact {contact_id} was created without it, and removing it failed"
                f" ({'; '.join(failed)})"
            )
        else:
            tail = f"; putting back what was written failed ({'; '.join(failed)})"
        return type(error)(
            SOURCE, what + tail, upstream_code=error.upstream_code, field=error.field
        )

    async def _saved(
        self,
        contact_id: int,
        fields: ContactFields,
        written: Mapping[str, str],
        done: str,
        custom: Sequence[tuple[CustomField, Any]] = (),
    ) -> Contact:
        """The contact read back, checked to hold what was written. A field whose write CiviCRM
        answered with the value sent, but which reads back otherwise, was changed by someone
        else in between (`Conflict`); one the write's answer did not hold was not saved."""
        found = await self.contacts(ids=[contact_id], custom=[f for f, _ in custom])
        if not found:
            raise ProtocolError(SOURCE, f"{done}, but cannot read it back")
        contact = found[0]
        unsaved, overwritten = [], []
        for field, value in custom:
            if not c.same(field, (contact.custom or {}).get(field.key), value):
                unsaved.append(f"{field.label} ({field.key})")
        for name, value in vars(fields).items():
            if value is None or name == "contact_type" or _same(getattr(contact, name), value):
                continue
            if name in written and _same(written[name], value):
                overwritten.append(f"{name} is now {getattr(contact, name) or ''!r}")
            else:
                unsaved.append(name)
        if overwritten:
            raise Conflict(
                SOURCE,
                f"{done} as asked, but someone else changed it since: {', '.join(overwritten)}",
            )
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
            filters["title"] = {"LIKE": f"%{_literal(search)}%"}
        return [_group(r) for r in _records(await self._v3("Group", "get", filters))]

    async def create_group(
        self,
        title: str,
        description: str = "",
        *,
        group_types: Sequence[str] = (),
        visibility: str | None = None,
    ) -> Group:
        """A new group, as CiviCRM answers it. `group_types` are option values (1 Access
        Control, 2 Mailing List), `visibility` "User and User Admin Only" or "Public Pages". A
        title another group has is `Conflict` (CiviCRM: "DB Error: already exists")."""
        params: dict[str, Any] = {"title": title, "description": description}
        if group_types:
            params["group_type"] = list(group_types)
        if visibility:
            params["visibility"] = visibility
        try:
            if self.style == "q":
                flat = {k: v for k, v in params.items() if k != "group_type"}
                if group_types:
                    flat["group_type"] = ",".join(group_types)
                body, _ = await self._v2_write("group", flat)
                made = _new_id(body, "id") if _has_new_id(body, "id") else _new_id(body, "result")
                found = await self.groups(ids=[made])
                if not found:
                    raise ProtocolError(SOURCE, f"CiviCRM created group {made}, but cannot read it")
                return found[0]
            return _group(_first_record(await self._v3("Group", "create", params)))
        except BadRequest as error:
            if "already exists" not in error.message.lower():
                raise
            raise Conflict(
                SOURCE, f"CiviCRM already has a group titled {title!r}", upstream_code="-5"
            ) from error

    # Relationships and custom fields -----------------------------------------------------------

    async def relationships(self, contact_ids: Sequence[int]) -> list[Relationship]:
        """The relationships of these contacts, whichever side they are on: one
        `Relationship.get` with `contact_id_a IN` or `contact_id_b IN` (`options.or`; without
        it CiviCRM requires both, recorded on 5.77)."""
        if not contact_ids:
            return []
        if self.style == "q":
            raise BadRequest(SOURCE, "relationships are read in the entity style only (API v3)")
        ids = list(contact_ids)
        filters = {
            "contact_id_a": {"IN": ids},
            "contact_id_b": {"IN": ids},
            "options": {"or": [["contact_id_a", "contact_id_b"]], "limit": 0},
        }
        return [
            Relationship(
                id=r.id,
                type_id=r.relationship_type_id,
                contact_id_a=r.contact_id_a,
                contact_id_b=r.contact_id_b,
                is_active=r.is_active == "1",
                start_date=_text(r.start_date),
                end_date=_text(r.end_date),
            )
            for r in _typed_records(
                await self._v3("Relationship", "get", filters),
                a.RelationshipRecord,
                "relationships",
            )
        ]

    async def relationship_types(self) -> list[RelationshipType]:
        """Every relationship type with the labels of both directions ("Employee of",
        "Employer of")."""
        if self.style == "q":
            raise BadRequest(SOURCE, "relationships are read in the entity style only (API v3)")
        params = {
            "options": {"limit": 0},
            "return": ["id", "name_a_b", "label_a_b", "name_b_a", "label_b_a", "is_active"],
        }
        return [
            RelationshipType(
                id=r.id,
                name_a_b=r.name_a_b,
                label_a_b=r.label_a_b,
                name_b_a=r.name_b_a,
                label_b_a=r.label_b_a,
                is_active=r.is_active == "1",
            )
            for r in _typed_records(
                await self._v3("RelationshipType", "get", params),
                a.RelationshipTypeRecord,
                "relationship types",
            )
        ]

    async def custom_fields(self) -> list[CustomField]:
        """The active custom fields of contacts the caller may see: one `CustomField.get` with
        its group joined, and one `OptionValue.get` for the options of those that have them.
        CiviCRM 5.77 lets only "administer CiviCRM and access all custom data" read them (and
        answers the others' `Contact.get` without the values): to anyone else, there are
        none. None in the `q=` style either."""
        if self.style == "q":
            return []
        params = {
            "is_active": 1,
            "custom_group_id.is_active": 1,
            "custom_group_id.extends": {"IN": list(c.CONTACT_EXTENDS)},
            "custom_group_id.is_multiple": 0,
            "return": list(CUSTOM_FIELD_RETURN),
            "options": {"limit": 0},
        }
        try:
            body = await self._v3("CustomField", "get", params)
        except Forbidden:
            return []
        fields = _typed_records(body, a.CustomFieldRecord, "custom fields")
        groups = sorted({f.option_group_id for f in fields if f.option_group_id})
        options: list[a.OptionValueRecord] = []
        if groups:
            asked = {
                "option_group_id": {"IN": groups},
                "is_active": 1,
                "return": ["option_group_id", "value", "label"],
                "options": {"limit": 0},
            }
            options = _typed_records(
                await self._v3("OptionValue", "get", asked), a.OptionValueRecord, "options"
            )
        return c.custom_fields(fields, options)

    async def custom_values(
        self, contact_ids: Sequence[int], fields: Sequence[CustomField]
    ) -> dict[int, dict[str, str]]:
        """The custom values of these contacts (one `Contact.get` with `return: custom_N`),
        by contact; a field CiviCRM leaves out for this caller is absent."""
        if not contact_ids or not fields or self.style == "q":
            return {i: {} for i in contact_ids}
        found = await self.contacts(ids=contact_ids, returned=("contact_type",), custom=fields)
        return {contact.id: dict(contact.custom or {}) for contact in found}

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
            # A site that ignores `return: group` (3.x, 4.x) sends no `groups` key at all, which
            # is not "no groups": those contacts are asked one by one.
            ignored = [_contact_id(r) for r in found if r.groups is None]
            asked = await asyncio.gather(
                *(
                    self._v3("GroupContact", "get", {"contact_id": c, "options": {"limit": 0}})
                    for c in ignored
                )
            )
            return [
                Membership(group_id=int(group), contact_id=_contact_id(r))
                for r in found
                for group in (r.groups or "").split(",")
                if group.strip().isdigit()
            ] + [
                Membership(group_id=m.group_id, contact_id=contact)
                for contact, answer in zip(ignored, asked, strict=True)
                for m in _typed_records(answer, a.MembershipRecord, "memberships")
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
        return await self._membership(group_id, list(contact_ids), "Added")

    async def remove_from_group(self, group_id: int, contact_ids: Iterable[int]) -> int:
        """Takes the contacts out of the group as CiviCRM does (the membership's status becomes
        `Removed`, its history kept); how many were members."""
        return await self._membership(group_id, list(contact_ids), "Removed")

    async def _membership(self, group_id: int, ids: list[int], status: str) -> int:
        counted = "added" if status == "Added" else "removed"
        if self.style == "q":
            answers = await asyncio.gather(*(self._v2_membership(group_id, c, status) for c in ids))
            return sum(int(_first(a).get(counted, 0) or 0) for a in answers)
        change = {"group_id": group_id, **({"status": status} if status != "Added" else {})}
        answers = await asyncio.gather(
            *(
                self._v3("Contact", "create", {"id": c, "api.GroupContact.create": change})
                for c in ids
            ),
            return_exceptions=True,
        )
        done = 0
        for contact_id, answer in zip(ids, answers, strict=True):
            if isinstance(answer, Forbidden) and "modify contact record" in answer.message:
                # The chained write goes through the contact: CiviCRM's words name the contact.
                raise Forbidden(
                    SOURCE,
                    f"CiviCRM does not let this caller change contact {contact_id}'s groups",
                    upstream_code=answer.upstream_code,
                ) from answer
            if isinstance(answer, BaseException):
                raise answer
            chained = _chained(answer, "api.GroupContact.create")
            if chained is None:  # an older site ignored the chained call: on its own
                chained = _first(
                    await self._v3("GroupContact", "create", {"contact_id": contact_id, **change})
                )
            if str(chained.get("is_error", "0")) == "1":
                raise error_from(chained)
            done += int(chained.get(counted, 0) or 0)
        return done

    async def _v2_membership(self, group_id: int, contact_id: int, status: str) -> Any:
        params = {"group_id": str(group_id), "contact_id": str(contact_id)}
        if status == "Added":
            answer, _ = await self._v2_write("group_contact", params)
            return answer
        try:  # CiviCRM 5: a membership whose status is Removed; 3.2: group_contact/remove
            return await self._v2("group_contact/create", {**params, "status": status})
        except (NotFound, BadRequest) as error:
            lower = error.message.lower()
            if "does not exist" not in lower and "unknown function" not in lower:
                raise
            return await self._v2("group_contact/remove", params)

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

    async def _v2_write(
        self, entity: str, params: Mapping[str, str], old: Mapping[str, str] | None = None
    ) -> tuple[Any, bool]:
        """`create` through `q=`, as CiviCRM 5 has it (API v3 with flat fields); `add`, with the
        3.2-era parameters `old` where given, where the site is old enough not to. Also says
        whether `create` answered (the site speaks API v3)."""
        try:
            return await self._v2(f"{entity}/create", params), True
        except (NotFound, BadRequest) as error:
            lower = error.message.lower()
            if "does not exist" not in lower and "unknown function" not in lower:
                raise
            return await self._v2(f"{entity}/add", params if old is None else old), False


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


def _contact_search(
    search: str | None,
    contact_type: str | None,
    with_email: bool,
    group_id: int | None,
    where: ContactFilter | None = None,
) -> dict[str, Any]:
    """The filters of a contact search, for `Contact.get` and `Contact.getcount` alike."""
    filters: dict[str, Any] = {}
    if where is not None:
        filters |= {
            name: value
            for name, value in vars(where).items()
            if value is not None and name not in ("group_id", "modified_since")
        }
        if where.modified_since is not None:  # CiviCRM keeps local time; the site's is UTC
            since = where.modified_since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
            filters["modified_date"] = {">=": since}
        if where.group_id is not None and group_id is None:
            group_id = where.group_id
        elif where.group_id is not None and where.group_id != group_id:
            raise BadRequest(
                SOURCE, "filter.groupId and groupId name different groups", field="filter.groupId"
            )
    if search:
        filters["display_name"] = {"LIKE": f"%{_literal(search)}%"}
    if group_id is not None:
        filters["group"] = {"IN": [group_id]}
    if contact_type and not (where and where.contact_type):
        filters["contact_type"] = contact_type
    if with_email:
        filters["email"] = {"IS NOT NULL": 1}
    return filters


def _count(body: Any) -> int:
    """A `getcount` answer: a bare number on WordPress's endpoint, `[]` there for none, and
    `{"is_error": 0, "result": N}` on extern/rest.php (5.77 recordings, fact 6)."""
    if isinstance(body, dict):
        body = body.get("result")
    if body == []:
        return 0
    if isinstance(body, int) and not isinstance(body, bool) and body >= 0:
        return body
    if isinstance(body, str) and body.isdigit():
        return int(body)
    raise ProtocolError(SOURCE, f"CiviCRM answered a count that is not one: {body!r:.60}")


def _literal(text: str) -> str:
    """`text` matched as it is inside a LIKE pattern: CiviCRM passes the pattern to MySQL,
    whose escape character is the backslash (`\\_` matches "_" only, `\\%` "%" only)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _first_record(body: Any) -> dict[str, Any]:
    """The first record of a write's answer (v3 `values`, sequential or keyed by id)."""
    if isinstance(body, dict) and isinstance(body.get("values"), dict | list):
        found = _records(body)
        return found[0] if found and isinstance(found[0], dict) else {}
    return _first(body)


def _written(body: Any) -> dict[str, str]:
    """What a write's answer says was written: the contact's names, and the e-mail and phone
    of chained creates."""
    record = _first_record(body)
    written: dict[str, str] = {
        name: str(record[name])
        for name in ("first_name", "last_name", "organization_name", "household_name")
        if name in record
    }
    for name in ("email", "phone"):
        chained = record.get(f"api.{name.title()}.create")
        if isinstance(chained, dict) and name in _first_record(chained):
            written[name] = str(_first_record(chained)[name])
    return written


def _primary(entity: str, value: str, before: a.ContactBefore) -> dict[str, Any]:
    """The write of a contact's primary e-mail or phone: the one it has, or a new one."""
    field = entity.lower()
    existing = getattr(before, f"{field}_id")
    if existing:
        return {"id": int(existing), field: value}
    return {field: value, **(NEW_EMAIL if entity == "Email" else NEW_PHONE)}


def _snake(entity: str) -> str:
    """`GroupContact` → `group_contact`, as the `q=` form names entities."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", entity).lower()


def _same(found: Any, value: Any) -> bool:
    return str(found or "").strip().lower() == str(value or "").strip().lower()


def _identity(fields: ContactFields) -> str:
    """What makes two creates the same contact, for the lock that keeps them apart."""
    if fields.email:
        return fields.email.strip().lower()
    names = (fields.first_name, fields.last_name, fields.organization_name, fields.household_name)
    return "|".join((n or "").strip().lower() for n in names)


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


def _contact(raw: Mapping[str, Any], custom: Sequence[CustomField] | None = None) -> Contact:
    """A contact record; with `custom`, the values it holds of those custom fields."""
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
        custom=None if custom is None else c.values_of(raw, custom),
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
