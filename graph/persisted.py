"""Persisted queries: documents known by the SHA-256 of their text (Apollo's APQ protocol).

A client sends `extensions.persistedQuery.sha256Hash` with or without the query. Known hashes
come from a directory of `.graphql` files and, unless only those may run, from clients that sent
a query with its hash once (kept in a bounded cache).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from cachetools import LRUCache

__all__ = ["PersistedQueries", "PersistedQueryError"]


class PersistedQueryError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class PersistedQueries:
    def __init__(self, directory: str = "", *, only: bool = False) -> None:
        self.only = only
        self.known: dict[str, str] = {}
        if directory:
            for path in sorted(Path(directory).glob("*.graphql")):
                text = path.read_text(encoding="utf-8")
                self.known[sha256(text)] = text
        self.learned: LRUCache[str, str] = LRUCache(maxsize=1_000)

    def resolve(self, query: str | None, extensions: dict[str, Any] | None) -> str | None:
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
            found = self.known.get(digest) or self.learned.get(digest)
            if found is None:
                raise PersistedQueryError("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")
            return found
        if sha256(query) != digest:
            raise PersistedQueryError("BAD_USER_INPUT", "provided sha does not match query")
        if digest not in self.known:
            if self.only:
                raise PersistedQueryError("FORBIDDEN", "only persisted queries run on this gateway")
            self.learned[digest] = query
        return query


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
