"""The one place where errors become GraphQL `extensions { code source }`."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from connectors.errors import UpstreamError

from .ids import InvalidId
from .pagination import InvalidPage

__all__ = ["ErrorCodes", "UserInputError", "classify"]

logger = logging.getLogger("legacygraph.errors")

CODE_BY_KIND: Mapping[str, str] = {
    "unauthenticated": "UNAUTHENTICATED",
    "forbidden": "FORBIDDEN",
    "not_found": "NOT_FOUND",
    "bad_request": "BAD_USER_INPUT",
    "unavailable": "UPSTREAM_UNAVAILABLE",
    "timeout": "UPSTREAM_TIMEOUT",
    "protocol": "UPSTREAM_PROTOCOL_ERROR",
}


class UserInputError(ValueError):
    """The query's arguments cannot be used (raised by resolvers, shown to the caller)."""


def classify(error: GraphQLError) -> dict[str, Any]:
    """The `extensions` of one error, and the safe message it should carry."""
    original = error.original_error
    if isinstance(original, UpstreamError):
        extensions: dict[str, Any] = {
            "code": CODE_BY_KIND.get(original.kind, "INTERNAL"),
            "source": original.source.upper(),
        }
        if original.upstream_code:
            extensions["upstreamCode"] = original.upstream_code
        if original.field:
            extensions["field"] = original.field
        return extensions
    if isinstance(original, InvalidId | InvalidPage | UserInputError):
        return {"code": "BAD_USER_INPUT"}
    if original is None and not error.path:
        # Syntax errors, validation errors, variables of the wrong type: the request is at fault.
        return {"code": "BAD_USER_INPUT"}
    return {"code": "INTERNAL"}


class ErrorCodes(SchemaExtension):
    """Give every error its code and source; hide the text of unexpected exceptions."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        for error in (result.errors or []) if result else []:
            extensions = classify(error)
            if extensions["code"] == "INTERNAL":
                if error.original_error is not None:
                    logger.error("internal error at %s", error.path, exc_info=error.original_error)
                error.message = "Internal error in the gateway"
            error.extensions = {**(error.extensions or {}), **extensions}
