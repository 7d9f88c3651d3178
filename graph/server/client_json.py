"""A client's JSON (a request body, a GET's `variables` or `extensions`), read strictly.

What the standard library accepts, and a GraphQL server should not: bytes that are not UTF-8,
nesting deep enough to exhaust the parser's recursion, `NaN` and `Infinity`, numbers too large for
a float or for Python's integer parsing, and strings holding lone surrogates (which cannot be
sent on to any upstream). Each is the client's fault: a `ClientJsonError` with a reason, which the
endpoint answers HTTP 400 in GraphQL's error format.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["ClientJsonError", "read_client_json"]

MAX_DEPTH = 64
"""Deeper nesting than any query's variables need."""


class ClientJsonError(ValueError):
    """The client sent JSON the gateway will not read; the message says why."""


def _refuse_constant(name: str) -> Any:
    raise ClientJsonError(f"{name} is not a JSON number")


def _float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ClientJsonError(f"the number {text[:20]}… is too large")
    return value


def read_client_json(data: str | bytes) -> object:
    """The decoded value, or `ClientJsonError`; malformed JSON raises `json.JSONDecodeError`."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ClientJsonError("The request body is not valid UTF-8") from exc
    try:
        value = json.loads(data, parse_constant=_refuse_constant, parse_float=_float)
    except RecursionError as exc:
        raise ClientJsonError("The JSON is nested too deeply") from exc
    except ValueError as exc:
        if isinstance(exc, json.JSONDecodeError | ClientJsonError):
            raise
        raise ClientJsonError(f"The JSON holds a number that cannot be read: {exc}") from exc
    _check(value, 0)
    return value


def _check(value: object, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ClientJsonError(f"The JSON is nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, str):
        _text(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _text(key)
            _check(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check(item, depth + 1)


def _text(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ClientJsonError("The JSON holds a string with a lone surrogate (\\ud800…)") from exc
