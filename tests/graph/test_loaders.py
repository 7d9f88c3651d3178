"""The gateway's `Loader`: set up as aiodataloader's `DataLoader` sets itself up."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiodataloader import DataLoader

from graph.loaders import Loader, Once, each, loader


async def test_a_loader_is_set_up_as_a_dataloader_with_its_cache_map() -> None:
    async def batch(keys: list[str]) -> list[str | BaseException]:
        return [key.upper() for key in keys]

    ours = loader(batch)
    theirs: DataLoader[str, Any] = DataLoader(batch, cache_map={})
    assert set(vars(ours)) - {"futures"} == set(vars(theirs))
    ours.prime("p", "P")  # DataLoader's own prime and clear work on the loader's futures
    assert ours.futures["p"].result() == "P"
    ours.clear("p")
    assert "p" not in ours.futures
    ours.prime("q", "Q")
    ours.clear_all()
    assert ours.futures == {}
    assert (ours.loop, ours.batch_load_fn) == (theirs.loop, theirs.batch_load_fn)
    assert ours.get_cache_key("k") == theirs.get_cache_key("k") == "k"
    assert (ours.batch, ours.max_batch_size, ours.cache) == (True, None, True)


async def test_a_loader_batches_caches_and_says_what_it_holds() -> None:
    asked: list[list[str]] = []

    async def batch(keys: list[str]) -> list[Any]:
        asked.append(keys)
        return [ValueError(key) if key == "bad" else key.upper() for key in keys]

    one: Loader[str, str] = loader(batch)
    one.prime("p", "primed")
    assert one.held("p") == "primed" and one.held("a") is None
    results = await asyncio.gather(one.load("a"), one.load("b"), one.load("a"), one.load("p"))
    assert results == ["A", "B", "A", "primed"]
    assert asked == [["a", "b"]]
    with pytest.raises(ValueError, match="bad"):
        await one.load("bad")
    assert one.held("a") == "A" and one.held("bad") is None
    assert await each(["x", "y"], one.load) == ["X", "Y"]


async def test_each_keeps_a_failure_in_its_slot_for_one_key_or_several() -> None:
    async def fetch(key: str) -> str:
        if key == "bad":
            raise LookupError(key)
        return key * 2

    assert await each(["a"], fetch) == ["aa"]
    (alone,) = await each(["bad"], fetch)
    assert isinstance(alone, LookupError) and alone.args == ("bad",)
    several = await each(["a", "bad", "b"], fetch)
    assert several[0] == "aa" and several[2] == "bb" and isinstance(several[1], LookupError)
    assert await each([], fetch) == []


async def test_once_asks_once_however_many_wait_and_one_cancelled_waiter_cancels_nothing() -> None:
    asked = 0
    release = asyncio.Event()

    async def ask() -> str:
        nonlocal asked
        asked += 1
        await release.wait()
        return "the caller"

    once = Once(ask)
    first = asyncio.ensure_future(once())
    second = asyncio.ensure_future(once())
    await asyncio.sleep(0)
    first.cancel()
    release.set()
    assert await second == "the caller"
    assert await once() == "the caller"
    assert asked == 1
    assert first.cancelled()
