"""JSON:API documents as Flarum writes them: resources, included, links, and error objects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ..answers import Answer, typed
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


class Linkage(Answer):
    type: str
    id: str


class Relationship(Answer):
    data: Linkage | list[Linkage] | None = None
    """Absent where the relationship was not included (links only)."""


class RawResource(Answer):
    type: str
    id: str
    attributes: dict[str, Any] = {}
    relationships: dict[str, Relationship] = {}


class RawDocument(Answer):
    data: RawResource | list[RawResource] | None
    included: list[RawResource] = []
    links: dict[str, str | None] = {}


@dataclass(frozen=True)
class Resource:
    type: str
    id: str
    attributes: Mapping[str, Any]
    relationships: Mapping[str, Relationship]

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


@dataclass(frozen=True)
class Document:
    data: Resource | list[Resource] | None
    included: list[Resource]
    links: Mapping[str, str]

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
    body = decode_json(response, SOURCE)
    if response.status_code >= 400 or (isinstance(body, dict) and "errors" in body):
        raise _error(response.status_code, body)
    if not isinstance(body, dict) or "data" not in body:
        raise ProtocolError(SOURCE, "Flarum answered JSON that is not a JSON:API document")
    document: RawDocument = typed(SOURCE, body, RawDocument, "a JSON:API document")
    data = document.data
    return Document(
        data=(
            [_resource(item) for item in data]
            if isinstance(data, list)
            else (_resource(data) if data is not None else None)
        ),
        included=[_resource(item) for item in document.included],
        links={k: v for k, v in document.links.items() if v is not None},
    )


def _is_json(response: httpx.Response) -> bool:
    return "json" in response.headers.get("content-type", "")


def _resource(item: RawResource) -> Resource:
    return Resource(
        type=item.type, id=item.id, attributes=item.attributes, relationships=item.relationships
    )


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
