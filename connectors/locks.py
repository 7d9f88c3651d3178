"""One write at a time per record, within this process.

A legacy API writes a record in several calls (a contact, then its e-mail, then its phone) and
has no way to hold the record meanwhile: two callers writing the same record at once would
interleave, each ending with the other's values in part. The gateway holds a lock per record
across its whole write and the read-back that checks it. It holds within one process only:
replicas do not share these locks (the read-back still says when another writer got in between).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager

__all__ = ["WRITES", "RecordLocks"]


class RecordLocks:
    """An `asyncio.Lock` per key, made when first wanted and dropped when nobody holds or waits
    for it (so the table stays as small as the writes in flight)."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


WRITES = RecordLocks()
"""The process's record locks, shared by every request."""
