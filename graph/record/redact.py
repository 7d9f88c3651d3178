"""Replacing what identifies people and secrets, consistently within one corpus: the same
input always gets the same replacement, so that a name in a list and the same name in a lookup
still match; ids, numbers, dates and the system's own vocabulary are kept."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

__all__ = ["Redactor"]

SECRETS = frozenset(
    {"token", "wstoken", "privatetoken", "userprivateaccesskey", "api_key", "key", "secret"}
)
"""Replaced by `<token>`, their length noted."""
PERSONAL = frozenset(
    {
        "email", "username", "firstname", "lastname", "fullname", "displayname",
        "alternatename", "middlename", "firstnamephonetic", "lastnamephonetic", "idnumber",
        "institution", "department", "address", "phone1", "phone2", "city", "name",
        "shortname", "categoryname", "sitename", "summary", "intro", "description", "text",
        "content", "title", "feedback", "comment", "value", "filename", "displayvalue",
    }
)  # fmt: skip
"""Keys whose string values are people's names, addresses or free text."""
KEPT_UNDER = frozenset({"functions", "roles", "warnings", "advancedfeatures", "completions"})
"""Lists of the system's own vocabulary (function names, role names, warning codes)."""
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.replacements: dict[str, str] = {}
        self.secrets = {s for s in secrets if s}
        self.counts: dict[str, int] = {}

    def replace(self, text: str, kind: str) -> str:
        """`text`'s replacement, made once per corpus."""
        if text not in self.replacements:
            if EMAIL.match(text):
                kind = "email"
            number = self.counts[kind] = self.counts.get(kind, 0) + 1
            if kind == "email":
                made = f"person{number}@example.invalid"
            elif kind == "url":
                made = f"https://example.invalid/{number}"
            else:
                made = f"{kind}-{number}"
            self.replacements[text] = made
        return self.replacements[text]

    def secret(self, text: str) -> str:
        return "<token>"

    def value(self, value: Any, key: str = "", kept: bool = False) -> Any:
        """An answer with its personal strings and secrets replaced, walked by key."""
        if isinstance(value, dict):
            return {
                k: self.value(v, str(k).lower(), kept or k in KEPT_UNDER) for k, v in value.items()
            }
        if isinstance(value, list):
            return [self.value(v, key, kept) for v in value]
        if not isinstance(value, str) or not value:
            return value
        if (inner := embedded(value)) is not None:  # a multi-call's answers are JSON strings
            return json.dumps(self.value(inner, key, kept))
        if key in SECRETS or value in self.secrets:
            return self.secret(value)
        if kept:
            return value
        if key in PERSONAL or EMAIL.match(value):
            return self.replace(value, key)
        if "url" in key or value.startswith(("http://", "https://")):  # the site's address
            return self.replace(value, "url")
        return value

    def known(self, value: Any) -> Any:
        """The gateway's answer with every string this corpus replaced in the site's answers
        replaced the same way (and secrets hidden), all others kept."""
        if isinstance(value, dict):
            return {k: self.known(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.known(v) for v in value]
        if isinstance(value, str):
            if value in self.secrets:
                return "<token>"
            if (inner := embedded(value)) is not None:
                changed = self.known(inner)
                return value if changed == inner else json.dumps(changed)
            return self.replacements.get(value, value)
        return value


def embedded(text: str) -> Any:
    """The JSON document a string holds (`{...}` or `[...]`), else None."""
    if not text.startswith(("{", "[")):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None
