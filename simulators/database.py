"""The simulators' SQLite databases: one connection behind a lock, seeded once."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

__all__ = ["Database"]


class Database:
    """A SQLite database shared by a simulator's request handlers (they run on one event loop,
    the tests read from another thread: hence the lock). `seed` runs once, on a new database."""

    def __init__(self, path: str, schema: str, seed: Callable[[sqlite3.Connection], None]) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        if not self._db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table'").fetchone():
            self._db.executescript(schema)
            with self.transaction() as db:
                seed(db)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        rows = self.all(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.one(sql, params)
        return None if row is None else row[0]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """One statement in its own transaction."""
        with self.transaction() as db:
            return db.execute(sql, params)
