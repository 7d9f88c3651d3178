"""JSON:API documents as Flarum writes them: resources, included, links, and error objects."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any, TypeVar

import httpx
import msgspec

from ..answers import Answer, typed_json
from ..errors import (
    BadRequest,
    Forbidden,
    NotFound,
    ProtocolError,
    Unauthenticated,
    Unavailable,
    UpstreamError,
)
from ..http import decode_json

__all__ = ["Document", "Linkage", "Relationship", "Resource", "read_document"]

SOURCE = "flarum"
T = TypeVar("T")

# Flarum's error codes (core ErrorServiceProvider) and what they mean to a caller.
ERRORS: Mapping[str, tuple[type[UpstreamError], str]] = {
    "not_authenticated": (Unauthenticated, "Flarum did not accept these credentials"),
    "invalid_access_token": (Unauthenticated, "Flarum did not accept the access token"),
    # Flarum runs a request whose token it does not know as a guest; a guest's write then fails
    # the CSRF check. For an API client that means: not signed in.
    "csrf_token_mismatch": (Unauthenticated, "Flarum needs a valid token for this write"),
    "permission_denied": (Forbidden, "Flarum does not allow this for this user"),
    "invalid_confirmation_token": (Forbidden, "Flarum did not accept the confirmation token"),
    "not_found": (NotFound, "Flarum has no such resource, or it is not visible to this user"),
    "validation_error": (BadRequest, "Flarum rejected the input"),
    "invalid_parameter": (BadRequest, "Flarum rejected a parameter"),
    "method_not_allowed": (BadRequest, "Flarum does not allow this method here"),
    "too_many_requests": (Unavailable, "Flarum asks to slow down: too many requests"),
    "io_error": (Unavailable, "Flarum had an I/O error"),
    "unknown": (Unavailable, "Flarum failed with an internal error"),
}


class Linkage(Answer, gc=False):
    type: str
    id: str


class Relationship(Answer, gc=False):
    data: Linkage | list[Linkage] | None = None
    """Absent where the relationship was not included (links only)."""


NO_ATTRIBUTES = msgspec.Raw(b"{}")


class Resource(Answer, gc=False):
    """One resource; its attributes stay JSON text until the converter reads them as the model
    of its type (`attributes_as`), so no dict is built for them. Made from JSON only, it (and
    its `Relationship` and `Linkage`) can hold no cycle: `gc=False` spares the cycle collector
    a hundred of them a page."""

    type: str
    id: str
    raw_attributes: msgspec.Raw = msgspec.field(name="attributes", default=NO_ATTRIBUTES)
    relationships: dict[str, Relationship] = {}

    def attributes_as(self, model: builtins.type[T]) -> T:
        return typed_json(SOURCE, self.raw_attributes, model, f"{self.type} {self.id}")

    @property
    def attributes(self) -> Mapping[str, Any]:
        """The attributes as plain JSON values (for the few reads that need no model)."""
        return self.attributes_as(dict[str, Any])

    def to_one(self, name: str) -> str | None:
        relationship = self.relationships.get(name)
        linkage = relationship.data if relationship is not None else None
        return linkage.id if isinstance(linkage, Linkage) else None

    def to_many(self, name: str) -> tuple[str, ...] | None:
        """The related ids, or None when the relationship was not loaded at all."""
        relationship = self.relationships.get(name)
        if relationship is None or not isinstance(relationship.data, list):
            return None
        return tuple(item.id for item in relationship.data)


class Document(Answer):
    data: Resource | list[Resource] | None
    included: list[Resource] = []
    links: dict[str, str | None] = {}
    errors: Any = None
    """Never beside `data` from Flarum; where it is, the document is read as an error."""

    def one(self) -> Resource:
        if not isinstance(self.data, Resource):
            raise ProtocolError(SOURCE, "Flarum answered a list where one resource was expected")
        return self.data

    def many(self) -> list[Resource]:
        if not isinstance(self.data, list):
            raise ProtocolError(SOURCE, "Flarum answered one resource where a list was expected")
        return self.data


def read_document(response: httpx.Response) -> Document:
    """Parse a JSON:API answer, raising the matching `UpstreamError` for an error document."""
    if response.status_code >= 500 and not _is_json(response):
        raise Unavailable(SOURCE, f"Flarum failed (HTTP {response.status_code})", status=500)
    unreadable: ProtocolError | None = None
    if response.status_code < 400 and _is_json(response):
        try:  # the usual answer, decoded straight into the models
            document = typed_json(SOURCE, response.content, Document, "a JSON:API document")
        except ProtocolError as error:
            unreadable = error  # unless the body says why (an error document), this is it
        else:
            if document.errors is None:
                return document
    body = decode_json(response, SOURCE)
    if response.status_code >= 400 or (isinstance(body, dict) and "errors" in body):
        raise _error(response.status_code, body)
    if not isinstance(body, dict) or "data" not in body:
        raise ProtocolError(SOURCE, "Flarum answered JSON that is not a JSON:API document")
    raise unreadable or ProtocolError(SOURCE, "Flarum answered a JSON:API document unread")


def _is_json(response: httpx.Response) -> bool:
    return "json" in response.headers.get("content-type", "")


def _error(status: int, body: Any) -> UpstreamError:
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        kind = Unavailable if status >= 500 else ProtocolError
        return kind(SOURCE, f"Flarum answered HTTP {status} without JSON:API errors", status=status)
    first = errors[0]
    code = str(first.get("code", "unknown"))
    cls, message = ERRORS.get(code, (ProtocolError, f"Flarum answered error {code!r}"))
    if status >= 500:
        cls = Unavailable
    field = None
    if code == "validation_error":
        details = []
        for error in errors:
            pointer = str((error.get("source") or {}).get("pointer", ""))
            name = pointer.rsplit("/", 1)[-1] or None
            field = field or name
            details.append(f"{name}: {error.get('detail', 'invalid')}" if name else "invalid")
        message = f"{message}: " + "; ".join(details)
    elif code in {"permission_denied", "not_found", "too_many_requests"} and first.get("detail"):
        message = f"{message}: {first['detail']}"
    return cls(SOURCE, message, upstream_code=code, status=status, field=field)
