"""GraphQL over HTTP: which media type an answer is sent as, and the status of a request error.

Two media types answer a GraphQL request. `application/json` is what every client understands;
under it a well-formed request is answered `200` whatever its errors. The newer
`application/graphql-response+json` lets the status say what happened: a request error (the
document does not parse or validate, the variables do not fit it, no operation can be chosen)
is answered `400`. A client gets the newer type only when it asks for it; `*/*` and a missing
`Accept` get `application/json`, as the spec asks until its watershed.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "GRAPHQL_RESPONSE",
    "JSON",
    "is_request_error",
    "media_type_for",
    "plain_json",
    "status_of_request_error",
    "weighted",
]

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"


def media_type_for(accept: str | None) -> str:
    """The media type to answer with, from the request's `Accept` header.

    The newer type wins when the client ranks it at least as high as `application/json`
    (`application/graphql-response+json, application/json;q=0.9` is what spec-following clients
    send); anything else, including an `Accept` that names neither, is answered as JSON."""
    best_json = best_graphql = -1.0
    for kind, quality in weighted(accept or ""):
        if kind == GRAPHQL_RESPONSE:
            best_graphql = max(best_graphql, quality)
        elif kind in (JSON, "application/*", "*/*"):
            best_json = max(best_json, quality)
    if best_graphql > 0 and best_graphql >= best_json:
        return GRAPHQL_RESPONSE
    return JSON


def weighted(header: str) -> Iterable[tuple[str, float]]:
    """Each value of a comma-separated header with its `q` (`Accept`, `Accept-Encoding`),
    lower-cased; 1 without a `q`, 0 for one that is not a number."""
    for item in header.split(","):
        kind, *parameters = item.split(";")
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
        if kind.strip():
            yield kind.strip().lower(), quality


def is_request_error(data: object, errors: Iterable[object] | None) -> bool:
    """Whether a result failed before execution: no data, and no error belongs to a field
    (a parse, validation or variable error, or no operation to run). Such a result carries no
    `data` entry at all (GraphQL spec, "Response": "If an error was raised before execution
    begins, the data entry should not be present")."""
    if data is not None or not errors:
        return False
    return all(not getattr(error, "path", None) for error in errors)


def status_of_request_error(codes: Iterable[str]) -> int:
    """`400` for a client's mistake, `500` where the gateway itself failed before executing."""
    return 500 if "INTERNAL" in codes else 400


def plain_json(content_type: str) -> bool:
    """A request's `Content-Type` is JSON's, `application/json` in any case (media types are
    case-insensitive), with parameters or none; the other spellings Strawberry reads as JSON
    (`application/json-patch+json`, say) are not this."""
    return content_type.partition(";")[0].strip().lower() == JSON
