"""People across systems: one human is the accounts that share a verified e-mail address."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any, TypeVar

from aiodataloader import DataLoader

from connectors.errors import BadRequest, Forbidden
from graph.loaders import loader
from graph.sources.spec import PeopleLookup

__all__ = ["PeopleLoaders", "normalise"]

GMAIL = ("gmail.com", "googlemail.com")
T = TypeVar("T")


def normalise(email: str, *, fold_gmail: bool = False) -> str:
    """Lower-case and trimmed; with `fold_gmail`, Gmail's dots and +tags do not count."""
    address = email.strip().lower()
    local, at, domain = address.partition("@")
    if fold_gmail and at and domain in GMAIL:
        return f"{local.split('+', 1)[0].replace('.', '')}@gmail.com"
    return address


class PeopleLoaders:
    """Each source's account for an e-mail address, found with the caller's own credentials.

    One call per batch where the API finds many addresses at once (Moodle, CiviCRM, Eqsash);
    one call per address, concurrently, where it does not (Flarum, Elgg). A source where the
    caller has no identity, or whose API refuses to search (Flarum without the search-users
    permission, an Elgg site without `user.get_user_by_email`), finds nobody and costs nothing
    (or, where it says how, finds the caller's own account).
    """

    def __init__(self, lookups: Mapping[str, PeopleLookup | None], *, fold_gmail: bool) -> None:
        """`lookups`: each source's, or None where the caller has no identity there."""
        self._fold = fold_gmail
        self._every: dict[str, dict[str, list[Any]]] = {name: {} for name in lookups}
        self._loaders: dict[str, DataLoader[str, Any]] = {
            name: self._loader(name, lookup) for name, lookup in lookups.items()
        }

    def of(self, source: str) -> DataLoader[str, Any]:
        """The loader of `source`'s account (or None) by e-mail address."""
        return self._loaders[source]

    def key(self, email: str) -> str:
        return normalise(email, fold_gmail=self._fold)

    def every(self, source: str, email: str) -> list[Any]:
        """Every account `source` has for the address (a CRM may hold several contacts with
        one e-mail), once its loader has loaded or been primed with them; the first is what
        `of(source)` loads."""
        return self._every[source].get(self.key(email), [])

    async def listed(self, source: str, listing: Awaitable[Sequence[T]]) -> Sequence[T]:
        """The accounts of a list of `source`'s (`listing`), kept: no lookup is needed for
        them. Each address's first is what `of(source)` loads, and all are kept for `every`."""
        found = await listing
        for key, account in self._by_email(source, found).items():
            self.of(source).prime(key, account)
        return found

    def _by_email(self, source: str, found: Sequence[Any]) -> dict[str, Any]:
        """Each address's first account, every one kept for `every`."""
        keys = []
        for account in found:
            if account.email:
                key = self.key(account.email)
                known = self._every[source].setdefault(key, [])
                if account not in known:
                    known.append(account)
                keys.append(key)
        return {key: self._every[source][key][0] for key in keys}

    def _loader(self, source: str, lookup: PeopleLookup | None) -> DataLoader[str, Any]:
        async def nobody(emails: list[str]) -> list[Any]:
            return [None] * len(emails)

        if lookup is None:
            return loader(nobody)

        async def batched(emails: list[str]) -> list[Any]:
            found = self._by_email(source, await lookup.find(emails))
            return [found.get(e) for e in emails]

        async def one_by_one(emails: list[str]) -> list[Any]:
            results = await asyncio.gather(
                *(lookup.find([e]) for e in emails), return_exceptions=True
            )
            if any(isinstance(r, Forbidden | BadRequest) for r in results):
                # The source does not let this caller search: only their own account links.
                mine = await lookup.own() if lookup.own is not None else None
                found = self._by_email(source, [mine] if mine is not None else [])
                return [found.get(e) for e in emails]
            # An account is the one whose address is the one asked for, never merely the
            # first row of an answer (Flarum ignores the filter for members).
            return [
                r if isinstance(r, BaseException) else self._by_email(source, r).get(self.key(e))
                for e, r in zip(emails, results, strict=True)
            ]

        return loader(one_by_one if lookup.one_at_a_time else batched)
