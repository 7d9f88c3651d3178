"""Custom fields: what `CustomField.get` says of each, and their values read and written as
CiviCRM keeps them (recorded on 5.77: every value a string, dates `2023-05-06 00:00:00`,
yes/no `1`/`0`, options by value, several options between `\\x01` separators)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from .answers import CustomFieldRecord, OptionValueRecord
from .models import CustomField, CustomOption

__all__ = [
    "CONTACT_EXTENDS",
    "OPTION_HTML",
    "InvalidValue",
    "applies_to",
    "custom_fields",
    "options_of",
    "same",
    "values_of",
    "written",
]

SOURCE = "civicrm"
CONTACT_EXTENDS = ("Contact", "Individual", "Organization", "Household")
"""The custom groups that extend contacts: every contact, or one type of them."""
OPTION_HTML = ("Select", "Radio", "CheckBox", "Multi-Select", "Autocomplete-Select")
SEPARATOR = "\x01"
NUMBERS = ("Int", "Float", "Money")


class InvalidValue(ValueError):
    """A value the field cannot take, found before anything is written."""

    def __init__(self, message: str, key: str) -> None:
        super().__init__(message)
        self.key = key


TRUE = ("1", "true", "yes")
FALSE = ("0", "false", "no")


def custom_fields(
    fields: Iterable[CustomFieldRecord], options: Iterable[OptionValueRecord]
) -> list[CustomField]:
    """The fields, each with its options (by option group)."""
    by_group: dict[int, list[CustomOption]] = {}
    for option in options:
        by_group.setdefault(option.option_group_id, []).append(
            CustomOption(value=option.value, label=option.label)
        )
    return [
        CustomField(
            id=f.id,
            name=f.name,
            label=f.label,
            group=f.group_title,
            extends=f.extends,
            data_type=f.data_type,
            html_type=f.html_type,
            options=tuple(by_group.get(f.option_group_id or 0, ())),
            multiple=f.serialize not in ("", "0") or f.html_type in ("CheckBox", "Multi-Select"),
        )
        for f in fields
    ]


def applies_to(field: CustomField, contact_type: str) -> bool:
    return field.extends in ("Contact", contact_type)


def options_of(field: CustomField, value: str) -> list[CustomOption]:
    """The options a stored value holds (one, or several between separators), each with its
    label; a value the field no longer lists keeps its value as label."""
    labels = {o.value: o.label for o in field.options}
    parts = [p for p in value.split(SEPARATOR) if p] if field.multiple else [value]
    return [CustomOption(value=p, label=labels.get(p, p)) for p in parts if p != ""]


def written(field: CustomField, value: str | None) -> Any:
    """`value` as CiviCRM takes it for this field, checked before anything is written: a
    number, a date (`YYYY-MM-DD`, or with a time), yes or no, one of the field's options (by
    value or label; several comma-separated where the field takes several); None or "" clears
    the field."""
    if value is None or value.strip() == "":
        return ""
    text = value.strip()
    where = f"{field.label} ({field.key})"
    if field.options or (field.html_type in OPTION_HTML and field.data_type != "Boolean"):
        chosen = [p.strip() for p in text.split(",")] if field.multiple else [text]
        values = []
        for part in chosen:
            match = [o.value for o in field.options if part in (o.value, o.label)]
            if not match:
                allowed = ", ".join(f"{o.value} ({o.label})" for o in field.options)
                raise InvalidValue(
                    f"{where}: {part!r} is not one of its options: {allowed}", field.key
                )
            values.append(match[0])
        return values if field.multiple else values[0]
    if field.data_type in NUMBERS:
        try:
            number = float(text)
        except ValueError:
            number = None
        if number is None or (field.data_type == "Int" and not number.is_integer()):
            kind = "a whole number" if field.data_type == "Int" else "a number"
            raise InvalidValue(f"{where}: {text!r} is not {kind}", field.key)
        return text
    if field.data_type == "Boolean":
        if text.lower() in TRUE:
            return 1
        if text.lower() in FALSE:
            return 0
        raise InvalidValue(f"{where}: {text!r} is not true or false", field.key)
    if field.data_type == "Date":
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?", text):
            raise InvalidValue(f"{where}: {text!r} is not a date (YYYY-MM-DD)", field.key)
        try:
            date.fromisoformat(text[:10])
        except ValueError:
            raise InvalidValue(f"{where}: {text!r} is not a date", field.key) from None
        return text.replace("T", " ")
    return text


def same(field: CustomField, stored: str | None, sent: Any) -> bool:
    """Whether what reads back is what was written."""
    stored = stored or ""
    if isinstance(sent, list):
        return sorted(p for p in stored.split(SEPARATOR) if p) == sorted(sent)
    if field.data_type in NUMBERS and stored and sent != "":
        return float(stored) == float(sent)
    if field.data_type == "Date" and stored and sent != "":
        return stored.startswith(str(sent)[:10])
    return stored == str(sent)


def values_of(record: Mapping[str, Any], fields: Iterable[CustomField]) -> dict[str, str]:
    """The values a `Contact.get` row holds of these fields: absent keys (a field the caller
    may not see, recorded for a user without "access all custom data") are left out."""
    found: dict[str, str] = {}
    for field in fields:
        value = record.get(field.key)
        if value is None:
            continue
        found[field.key] = SEPARATOR.join(value) if isinstance(value, list) else str(value)
    return found
