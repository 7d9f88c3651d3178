"""Upstream answers decoded once, at the connector boundary, into typed models.

Each connector describes the answers of its system as `msgspec.Struct`s (its `answers` module):
which keys are required, which optional or nullable, as the real systems send them. `typed`
turns a decoded answer (JSON, or a connector's reading of XML) into such a model; a missing or
mistyped field is an `UPSTREAM_PROTOCOL_ERROR` that names the source and the field, never a
`KeyError` in a resolver. (msgspec over pydantic by measurement: 210 Moodle participants decode
in 0.13 ms against 0.55 ms.)
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from .errors import ProtocolError

__all__ = ["Answer", "typed"]

T = TypeVar("T")


class Answer(msgspec.Struct, forbid_unknown_fields=False):
    """The base of every answer model: keys the gateway does not read are ignored."""


def typed(source: str, value: Any, model: type[T] | Any, what: str) -> T:
    """`value` as `model`. Systems that send numbers as strings (CiviCRM, Moodle's grades) are
    read loosely: "7" is 7 where an int is expected."""
    try:
        converted: T = msgspec.convert(value, model, strict=False)
    except msgspec.ValidationError as exc:
        raise ProtocolError(source, f"{source} answered {what} unlike its protocol: {exc}") from exc
    return converted
