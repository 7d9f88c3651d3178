"""The one place where errors become GraphQL `extensions { code source }`."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from graphql import GraphQLError

from connectors.errors import UpstreamError
from graph.internals import token_limit
from graph.schema.ids import InvalidId
from graph.schema.pagination import InvalidPage

__all__ = ["UserInputError", "classify", "give_codes"]

logger = logging.getLogger("legacygraph.errors")

CODE_BY_KIND: Mapping[str, str] = {
    "unauthenticated": "UNAUTHENTICATED",
    "forbidden": "FORBIDDEN",
    "not_found": "NOT_FOUND",
    "bad_request": "BAD_USER_INPUT",
    "conflict": "CONFLICT",
    "unavailable": "UPSTREAM_UNAVAILABLE",
    "timeout": "UPSTREAM_TIMEOUT",
    "protocol": "UPSTREAM_PROTOCOL_ERROR",
}


class UserInputError(ValueError):
    """The query's arguments cannot be used (raised by resolvers, shown to the caller)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


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
    if isinstance(original, UserInputError) and original.field:
        return {"code": "BAD_USER_INPUT", "field": original.field}
    if isinstance(original, InvalidId | InvalidPage | UserInputError):
        return {"code": "BAD_USER_INPUT"}
    if (tokens := token_limit(error)) is not None:
        return {"code": "QUERY_TOO_COMPLEX", "limit": "tokens", "max": tokens}
    if original is None and not error.path:
        # Syntax errors, validation errors, variables of the wrong type: the request is at fault.
        return {"code": "BAD_USER_INPUT"}
    return {"code": "INTERNAL"}


def give_codes(errors: Iterable[GraphQLError]) -> None:
    """Give every error its code and source, log it once, and hide the text of the unexpected.

    Called from `Schema.process_errors`, the one hook that sees every error: syntax and
    validation errors as well as those raised by resolvers."""
    for error in errors:
        # A code set where the error was made (a query limit) stands; otherwise classify it.
        extensions = {**classify(error), **(error.extensions or {})}
        original = error.original_error
        if extensions["code"] == "INTERNAL":
            logger.error("internal error at %s", error.path, exc_info=original)
            error.message = "Internal error in the gateway"
        elif isinstance(original, UpstreamError):
            logger.info("upstream error at %s: %r", error.path, original)
        error.extensions = extensions
