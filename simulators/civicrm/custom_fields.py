"""Custom fields (issue27.jsonl): their definitions, and a contact's values read and written."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .calls import Call
from .errors import ApiError, invalid_option
from .records import texts, v3_values
from .site import Site, User

__all__ = ["CUSTOM_KEY", "custom_field_records", "custom_of", "custom_written", "get"]


CUSTOM_KEY = re.compile(r"custom_(\d+)")


def custom_field_records(site: Site, params: Mapping[str, Any]) -> list[dict[str, str]]:
    extends = params.get("custom_group_id.extends")
    kinds = extends.get("IN", []) if isinstance(extends, dict) else None
    found = []
    for r in site.store.all("SELECT * FROM custom_fields ORDER BY id"):
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


def custom_of(
    site: Site, user: User, contact_id: int, returned: list[str] | None
) -> dict[str, str]:
    """The custom values asked for (`return: custom_N`), "" where none; nothing for a
    caller without "access all custom data" (issue27.jsonl 272, 274)."""
    asked = [int(m.group(1)) for k in returned or () if (m := CUSTOM_KEY.fullmatch(k))]
    if not asked or not user.custom_data:
        return {}
    values = site.store.custom_values(contact_id)
    known = {r["id"] for r in site.store.all("SELECT id FROM custom_fields")}
    return {f"custom_{i}": values.get(i, "") for i in asked if i in known}


def custom_written(site: Site, user: User, params: Mapping[str, Any]) -> dict[int, str]:
    """The custom values a `Contact.create` writes, checked as CiviCRM checks them (an
    option it does not have, a number that is not one: 278, 279); none, silently, for a
    caller without "access all custom data" (281, 282)."""
    given = {int(m.group(1)): v for k, v in params.items() if (m := CUSTOM_KEY.fullmatch(k))}
    if not given or not user.custom_data:
        return {}
    fields = {r["id"]: r for r in site.store.all("SELECT * FROM custom_fields")}
    options = {
        (r["option_group_id"], r["value"]) for r in site.store.all("SELECT * FROM option_values")
    }
    written: dict[int, str] = {}
    for field_id, value in given.items():
        field = fields.get(field_id)
        if field is None:
            continue  # CiviCRM ignores what it does not know
        text = "" if value is None else str(value)
        if text and field["option_group_id"] and (field["option_group_id"], text) not in options:
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


def get(site: Site, user: User, call: Call) -> Any:
    """`CustomField.get` and `CustomGroup.get`."""
    entity, params, sequential = call.entity, call.params, call.sequential
    # issue27.jsonl 268, 269: only "administer CiviCRM and access all custom data"
    if not user.custom_data:
        raise ApiError(
            f"API permission check failed for {entity}/get call; insufficient "
            "permission: require administer CiviCRM and access all custom data",
            "unauthorized",
        )
    if entity == "CustomGroup":
        sets = site.store.all("SELECT DISTINCT group_title, extends FROM custom_fields")
        found = [
            {"id": str(i), "title": r["group_title"], "extends": r["extends"]}
            for i, r in enumerate(sets, start=1)
        ]
        return v3_values(found, sequential, "id")
    return v3_values(custom_field_records(site, params), sequential, "id")
