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

__all__ = ["Answer", "typed", "typed_json"]

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


def typed_json(source: str, content: bytes, model: type[T], what: str) -> T:
    """JSON text straight into `model`, read as loosely as `typed` (no dicts in between: about
    eight times faster than `json.loads` then `typed` for a Flarum page)."""
    try:
        decoded: T = _decoder(model).decode(content)
    except msgspec.ValidationError as exc:
        raise ProtocolError(source, f"{source} answered {what} unlike its protocol: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise ProtocolError(source, f"{source} answered invalid JSON for {what}") from exc
    return decoded


_DECODERS: dict[Any, msgspec.json.Decoder[Any]] = {}


def _decoder(model: Any) -> msgspec.json.Decoder[Any]:
    """One decoder per model, made on first use (making one costs more than a decode)."""
    decoder = _DECODERS.get(model)
    if decoder is None:
        decoder = _DECODERS[model] = msgspec.json.Decoder(model, strict=False)
    return decoder
