"""Per-request dataloaders: they batch and de-duplicate upstream calls within one request.
Each source's loaders live with the source (`graph/sources/<name>.py`); these are their parts.

A loader lives for one request and one caller, so nothing it holds reaches another caller.
Resources that arrive in a document's `included` are primed into the loaders, so resolving an
author or a tag that came along costs no further request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar, cast

from aiodataloader import DataLoader

from graph.internals import set_up_loader

__all__ = ["Loader", "Once", "each", "loader"]

K = TypeVar("K")
V = TypeVar("V")
BatchLoad = Callable[[list[K]], Awaitable[list[V | BaseException]]]


class Loader(DataLoader[K, V]):
    """A DataLoader that can also say what it already holds: a resolver whose data came along
    (primed from `included`, or loaded earlier) answers at once, without a task."""

    def __init__(self, batch_load_fn: Any) -> None:
        # `DataLoader(batch_load_fn, cache_map=self.futures)`, less its check that
        # `batch_load_fn` is a coroutine function (`graph/internals.py`, `set_up_loader`).
        self.futures: dict[Any, asyncio.Future[V]] = {}
        """What the loader holds, by cache key: its `cache_map`."""
        set_up_loader(self, batch_load_fn, self.futures, _itself)

    def held(self, key: K) -> V | None:
        future = self.futures.get(self.get_cache_key(key))
        if future is None or not future.done() or future.cancelled() or future.exception():
            return None
        value: V = future.result()
        return value


def _itself(key: Any) -> Any:
    return key


def loader(batch: BatchLoad[K, V]) -> Loader[K, V]:
    """A loader over `batch`, which answers one slot per key: the value, or the exception
    that key failed with (the loader raises it to that key's caller only)."""
    return Loader(cast(Any, batch))


async def each(keys: Sequence[K], fetch: Callable[[K], Awaitable[V]]) -> list[V | BaseException]:
    """One concurrent call per key, for APIs with no batch form: a failure stays in its slot.
    One key (one user by id, say) is awaited in place: no task and no gather for it."""
    if len(keys) == 1:
        try:
            return [await fetch(keys[0])]
        except Exception as error:
            return [error]
    return list(await asyncio.gather(*(fetch(key) for key in keys), return_exceptions=True))


class Once(Generic[V]):
    """An answer asked for once a request, however many resolvers wait for it (the caller's
    own account, say); a resolver that is cancelled does not cancel it for the others."""

    def __init__(self, ask: Callable[[], Awaitable[V]]) -> None:
        self._ask = ask
        self._asked: asyncio.Future[V] | None = None

    async def __call__(self) -> V:
        if self._asked is None:
            self._asked = asyncio.ensure_future(self._ask())
        return await asyncio.shield(self._asked)
