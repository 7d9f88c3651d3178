"""People across systems: one human is the accounts that share a verified e-mail address."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiodataloader import DataLoader

from connectors import civicrm, elgg, eqsash, flarum, moodle
from connectors.errors import BadRequest, Forbidden

from .loaders import loader

__all__ = ["PeopleLoaders", "normalise"]

GMAIL = ("gmail.com", "googlemail.com")


def normalise(email: str, *, fold_gmail: bool = False) -> str:
    """Lower-case and trimmed; with `fold_gmail`, Gmail's dots and +tags do not count."""
    address = email.strip().lower()
    local, at, domain = address.partition("@")
    if fold_gmail and at and domain in GMAIL:
        return f"{local.split('+', 1)[0].replace('.', '')}@gmail.com"
    return address


Connect = Callable[[], Any] | None
"""How to reach a source as the caller, or None where the caller has no identity there."""


class PeopleLoaders:
    """Each source's account for an e-mail address, found with the caller's own credentials.

    One call per batch where the API finds many addresses at once (Moodle, CiviCRM, Eqsash);
    one call per address, concurrently, where it does not (Flarum, Elgg). A source where the
    caller has no identity, or whose API refuses to search (Flarum without the search-users
    permission, an Elgg site without `user.get_user_by_email`), finds nobody and costs nothing.
    """

    def __init__(
        self,
        *,
        flarum_site: Connect,
        flarum_own: Callable[[], Awaitable[Any]] | None,
        moodle_site: Connect,
        civicrm_site: Connect,
        elgg_site: Connect,
        eqsash_site: Connect,
        fold_gmail: bool,
    ) -> None:
        self._fold = fold_gmail

        def by_email(found: Sequence[Any], email_of: Callable[[Any], str | None]) -> dict[str, Any]:
            accounts: dict[str, Any] = {}
            for account in found:
                email = email_of(account)
                if email:
                    accounts.setdefault(normalise(email, fold_gmail=self._fold), account)
            return accounts

        def batched(
            connect: Connect, find: Callable[[Any, list[str]], Awaitable[Sequence[Any]]]
        ) -> DataLoader[str, Any]:
            async def load(emails: list[str]) -> list[Any]:
                if connect is None:
                    return [None] * len(emails)
                found = by_email(await find(connect(), emails), lambda a: a.email)
                return [found.get(e) for e in emails]

            return loader(load)

        def one_by_one(
            connect: Connect,
            find: Callable[[Any, str], Awaitable[Sequence[Any]]],
            own: Callable[[], Awaitable[Any]] | None = None,
        ) -> DataLoader[str, Any]:
            async def load(emails: list[str]) -> list[Any]:
                if connect is None:
                    return [None] * len(emails)
                site = connect()
                results = await asyncio.gather(
                    *(find(site, e) for e in emails), return_exceptions=True
                )
                if any(isinstance(r, Forbidden | BadRequest) for r in results):
                    # The source does not let this caller search: only their own account links.
                    mine = await own() if own is not None else None
                    found = by_email([mine] if mine is not None else [], lambda a: a.email)
                    return [found.get(e) for e in emails]
                # An account is the one whose address is the one asked for, never merely the
                # first row of an answer (Flarum ignores the filter for members).
                return [
                    r
                    if isinstance(r, BaseException)
                    else by_email(r, lambda a: a.email).get(self.key(e))
                    for e, r in zip(emails, results, strict=True)
                ]

            return loader(load)

        self.flarum: DataLoader[str, flarum.User | None] = one_by_one(
            flarum_site, lambda site, email: site.users_by_email(email), own=flarum_own
        )
        self.moodle: DataLoader[str, moodle.User | None] = batched(
            moodle_site, lambda site, emails: site.users_by_email(emails)
        )
        self.civicrm: DataLoader[str, civicrm.Contact | None] = batched(
            civicrm_site, lambda site, emails: site.contacts(emails=emails)
        )
        self.elgg: DataLoader[str, elgg.ElggUser | None] = one_by_one(
            elgg_site, lambda site, email: site.users_by_email(email)
        )
        self.eqsash: DataLoader[str, eqsash.EqsashUser | None] = batched(
            eqsash_site, lambda site, emails: site.users_by_email(emails)
        )

    def key(self, email: str) -> str:
        return normalise(email, fold_gmail=self._fold)
