"""Moodle's side of parameters: PHP's bracketed form fields, then `validate_parameters`.

PHP turns `a[0][b]=1` into nested arrays; Moodle then checks the result against the function's
description and answers `invalidparameter` for anything missing, mistyped or unexpected.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Bool", "Int", "InvalidParameter", "ListOf", "Str", "Struct", "parse_php_form"]

SEGMENT = re.compile(r"\[([^\[\]]*)\]")
REQUIRED: Any = object()


class InvalidParameter(Exception):
    """Moodle's invalid_parameter_exception; the text goes into `debuginfo`."""


def parse_php_form(items: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """`[("a[0][b]", "1")]` → `{"a": {"0": {"b": "1"}}}`, as PHP builds `$_REQUEST`."""
    root: dict[str, Any] = {}
    for name, value in items:
        base, _, rest = name.partition("[")
        keys = [base] + (SEGMENT.findall("[" + rest) if rest else [])
        if not base or (rest and "".join(f"[{k}]" for k in keys[1:]) != "[" + rest):
            raise InvalidParameter(f"malformed parameter name {name!r}")
        node = root
        for key in keys[:-1]:
            if key == "":
                key = str(len(node))
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                raise InvalidParameter(f"{name}: {key} is both a value and an array")
            node = child
        last = keys[-1] if keys[-1] != "" else str(len(node))
        if isinstance(node.get(last), dict):
            raise InvalidParameter(f"{name}: {last} is both a value and an array")
        node[last] = value
    return root


@dataclass(frozen=True)
class Int:
    default: Any = REQUIRED

    def check(self, value: Any, where: str) -> int:
        if isinstance(value, bool) or not re.fullmatch(r"-?\d+", str(value)):
            raise InvalidParameter(
                f'{where} => Invalid parameter value detected (Invalid external api parameter: the value is "{value}", the server was expecting "int" type)'
            )
        return int(value)


@dataclass(frozen=True)
class Str:
    default: Any = REQUIRED

    def check(self, value: Any, where: str) -> str:
        if isinstance(value, dict):
            raise InvalidParameter(
                f"{where} => Invalid parameter value detected (Scalar type expected, array or object received.)"
            )
        return str(value)


@dataclass(frozen=True)
class Bool:
    default: Any = REQUIRED

    def check(self, value: Any, where: str) -> bool:
        if isinstance(value, bool):
            return value
        if str(value) not in ("0", "1", "true", "false"):
            raise InvalidParameter(
                f'{where} => Invalid parameter value detected (Invalid external api parameter: the value is "{value}", the server was expecting "bool" type)'
            )
        return str(value) in ("1", "true")


@dataclass(frozen=True)
class ListOf:
    item: Any
    default: Any = REQUIRED

    def check(self, value: Any, where: str) -> list[Any]:
        if isinstance(value, list):
            items = value
        elif isinstance(value, dict) and all(k.isdigit() for k in value):
            items = [value[k] for k in sorted(value, key=int)]
        else:
            raise InvalidParameter(
                f"{where} => Invalid parameter value detected (Only arrays accepted. The bad value is: '{value}')"
            )
        return [self.item.check(v, f"{where}[{i}]") for i, v in enumerate(items)]


@dataclass(frozen=True)
class Struct:
    fields: Mapping[str, Any] = field(default_factory=dict)
    default: Any = REQUIRED

    def check(self, value: Any, where: str = "") -> dict[str, Any]:
        if not isinstance(value, dict):
            raise InvalidParameter(
                f"{where} => Invalid parameter value detected (Only arrays accepted. The bad value is: '{value}')"
            )
        unexpected = set(value) - set(self.fields)
        if unexpected:
            raise InvalidParameter(
                f"Unexpected keys ({', '.join(sorted(unexpected))}) detected in parameter array."
            )
        checked = {}
        for name, spec in self.fields.items():
            here = f"{where}[{name}]" if where else name
            if name in value:
                checked[name] = spec.check(value[name], here)
            elif spec.default is REQUIRED:
                raise InvalidParameter(
                    f"{here} => Invalid parameter value detected (Missing required key in single structure: {name})"
                )
            else:
                checked[name] = spec.default
        return checked
