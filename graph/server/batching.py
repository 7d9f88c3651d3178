"""Batched operations: a JSON array of operations in one POST, answered by an array in order.

Opt-in (`[graphql] batch_max`). The operations run concurrently in one request context, so the
per-request loaders batch their upstream calls together. Queries only: mutations run one after
another by the spec, and one after another in one context they would read what its loaders
kept from before the write; they are sent on their own. An operation that cannot be run (a
persisted query the gateway does not know) is answered with its own error, so that a client's
persisted-query link can send that one again with its text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cross_web import HTTPException
from graphql import GraphQLError
from strawberry.http import GraphQLRequestData

__all__ = ["Refused", "check_batch", "check_queries_only"]


@dataclass
class Refused(GraphQLRequestData):
    """An operation of a batch that is not run: answered with `error` alone."""

    error: GraphQLError | None = None


def check_batch(items: list[Any], batch_max: int) -> None:
    """Refuse (400, one error) a batch this gateway does not run: batching off, an empty or
    too long array, or an item that is not an operation."""
    if batch_max == 0:
        raise HTTPException(
            400, "Batching is not enabled on this gateway: send one operation per request"
        )
    if not items:
        raise HTTPException(400, "The batch is empty: send at least one operation")
    if len(items) > batch_max:
        raise HTTPException(
            400, f"A batch may hold at most {batch_max} operations; this one holds {len(items)}"
        )
    for index, item in enumerate(items):
        where = f"Operation {index} of the batch"
        if not isinstance(item, dict):
            raise HTTPException(400, f"{where} is not a JSON object")
        for key, kind in (("query", str), ("operationName", str)):
            if not isinstance(item.get(key), kind | None):
                raise HTTPException(400, f"{where}: `{key}` must be a string or null")
        for key in ("variables", "extensions"):
            if not isinstance(item.get(key), dict | None):
                raise HTTPException(400, f"{where}: `{key}` must be an object or null")
        if item.get("query") is None and "persistedQuery" not in (item.get("extensions") or {}):
            raise HTTPException(400, f"{where} has no query")


def check_queries_only(kinds: list[str | None]) -> None:
    """Refuse a batch that holds a mutation or a subscription (what does not parse is left to
    its own answer)."""
    for index, kind in enumerate(kinds):
        if kind is not None and kind != "query":
            raise HTTPException(
                400,
                f"Operation {index} of the batch is a {kind}: a batch holds queries only; "
                f"send a {kind} on its own",
            )
