"""Global ids: unpadded URL-safe base64 of `<source>:<Type>:<upstream id>`."""

from __future__ import annotations

import base64
import binascii
import functools
from dataclasses import dataclass

__all__ = ["GlobalId", "InvalidId", "encode_id"]


class InvalidId(ValueError):
    """Not an id this gateway issued."""


@functools.lru_cache(maxsize=32_768)
def encode_id(source: str, type_name: str, upstream_id: str) -> str:
    """The global id of one object. Remembered: a page names the same objects again and again
    (a hundred discussions, a handful of authors), and every request asks for them anew."""
    text = f"{source}:{type_name}:{upstream_id}"
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


@dataclass(frozen=True)
class GlobalId:
    source: str
    type_name: str
    upstream_id: str

    def encode(self) -> str:
        return encode_id(self.source, self.type_name, self.upstream_id)

    @classmethod
    def decode(cls, value: str) -> GlobalId:
        try:
            padded = value + "=" * (-len(value) % 4)
            text = base64.urlsafe_b64decode(padded.encode("ascii")).decode()
        except (binascii.Error, UnicodeError, ValueError):
            raise InvalidId(f"{value!r} is not a legacygraph id") from None
        source, _, rest = text.partition(":")
        type_name, _, upstream_id = rest.partition(":")
        if not (source and type_name and upstream_id):
            raise InvalidId(f"{value!r} is not a legacygraph id")
        return cls(source, type_name, upstream_id)

    @classmethod
    def expect_int(cls, value: str, source: str, type_name: str) -> int:
        """Like `expect`, for sources whose ids are numbers."""
        upstream_id = cls.expect(value, source, type_name)
        if not upstream_id.isdigit():
            raise InvalidId(f"{value!r} is not a {type_name} id")
        return int(upstream_id)

    @classmethod
    def expect(cls, value: str, source: str, type_name: str) -> str:
        """The upstream id inside `value`, which must be an id of that source and type."""
        decoded = cls.decode(value)
        if (decoded.source, decoded.type_name) != (source, type_name):
            raise InvalidId(f"{value!r} is a {decoded.type_name} id, not a {type_name} id")
        return decoded.upstream_id
