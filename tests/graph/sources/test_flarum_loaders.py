"""What Flarum's loaders hold from `included` (`graph/sources/flarum/source.py`): `user_held`
answers what `users` holds, whichever came first."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from connectors.flarum import Flarum, Related, User
from graph.sources.flarum.source import FlarumLoaders


class NoSite:
    """A connection no test here reaches: nothing below asks Flarum."""

    def site(self) -> Flarum:
        raise AssertionError("no request expected")


SHORT = User(id="3", username="ada", display_name="Ada", avatar_url=None, slug="ada")
FULL = replace(SHORT, display_name="Ada L.", is_full=True, email="ada@example.org")


def test_an_included_user_is_held_as_the_loader_holds_it() -> None:
    async def run() -> None:
        loaders = FlarumLoaders(NoSite())
        assert loaders.user_held("3") is None
        loaders._remember(Related(users={"3": SHORT}))
        assert loaders.user_held("3") is SHORT
        assert await loaders.users.load("3") is SHORT  # no request: it came along
        loaders._remember(Related(users={"3": FULL}))  # the loader keeps what it holds
        assert loaders.user_held("3") is SHORT is loaders.users.held("3")

    asyncio.run(run())


def test_a_user_the_loader_held_first_stays_the_one_held() -> None:
    async def run() -> None:
        loaders = FlarumLoaders(NoSite())
        loaders.users.prime("3", FULL)
        loaders._remember(Related(users={"3": SHORT}))
        assert loaders.user_held("3") is FULL is loaders.users.held("3")
        assert "3" not in loaders.included_users

    asyncio.run(run())
