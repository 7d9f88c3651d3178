"""Persisted queries: documents known by the SHA-256 of their text (Apollo's APQ protocol).

A client sends `extensions.persistedQuery.sha256Hash` with or without the query. Known hashes
come from a directory of `.graphql` files or a JSON manifest and, unless only those may run, from
clients that sent a query with its hash once (`learned`: kept a day, in this process or in Redis,
where every replica of the gateway finds what any of them learned).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from connectors.memory import Recollection

__all__ = ["PersistedQueries", "PersistedQueryError", "read_persisted"]


class PersistedQueryError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class PersistedQueries:
    def __init__(self, source: str = "", *, only: bool = False) -> None:
        self.only = only
        self.known: dict[str, str] = read_persisted(Path(source)) if source else {}

    async def resolve(
        self, query: str | None, extensions: dict[str, Any] | None, learned: Recollection
    ) -> str | None:
        """The document to run; raises `PersistedQueryError` when there is none to run."""
        persisted = (extensions or {}).get("persistedQuery")
        digest = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        if digest is None:
            if self.only and query is not None and sha256(query) not in self.known:
                raise PersistedQueryError("FORBIDDEN", "only persisted queries run on this gateway")
            return query
        if not isinstance(digest, str):
            raise PersistedQueryError("BAD_USER_INPUT", "persistedQuery.sha256Hash is not a string")
        if query is None:
            found = self.known.get(digest) or await learned.recall(digest)
            if not isinstance(found, str):
                raise PersistedQueryError("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")
            return found
        if sha256(query) != digest:
            raise PersistedQueryError("BAD_USER_INPUT", "provided sha does not match query")
        if digest not in self.known:
            if self.only:
                raise PersistedQueryError("FORBIDDEN", "only persisted queries run on this gateway")
            await learned.remember(digest, query)
        return query


def read_persisted(source: Path) -> dict[str, str]:
    """Hash -> document, from a directory of `.graphql` files (each known by the SHA-256 of its
    text) or a JSON manifest: Apollo's (`{"operations": [{"id": …, "body": …}]}`) or a plain
    object of id -> document. Raises `ValueError` saying what is wrong with it."""
    if source.is_dir():
        texts = (path.read_text(encoding="utf-8") for path in sorted(source.glob("*.graphql")))
        return {sha256(text): text for text in texts}
    try:
        manifest = json.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read {source}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{source} is not JSON: {exc}") from None
    if isinstance(manifest, dict) and isinstance(manifest.get("operations"), list):
        pairs = [
            (op.get("id"), op.get("body")) if isinstance(op, dict) else (None, None)
            for op in manifest["operations"]
        ]
    elif isinstance(manifest, dict):
        pairs = list(manifest.items())
    else:
        pairs = [(None, None)]
    known = {i: b for i, b in pairs if isinstance(i, str) and isinstance(b, str)}
    if len(known) != len(pairs):
        raise ValueError(f"{source}: every operation needs a string id and body")
    return known


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
