"""Eqsash (a module/method CMS): the site's api key, plus the caller's token; guests allowed."""

from __future__ import annotations

from typing import Any

import httpx
from aiodataloader import DataLoader

from connectors import eqsash
from connectors.eqsash import Eqsash, EqsashAuth
from connectors.errors import NotFound
from connectors.http import Upstream
from connectors.memory import Recollection
from graph.loaders import Once, loader
from graph.sources.eqsash.settings import EqsashSettings
from graph.sources.spec import Acting, Connection, PeopleLookup, SignedIn, SourceSpec, caller_only

__all__ = ["EQSASH", "EqsashLoaders"]


def acting(settings: EqsashSettings, token: str | None) -> Acting:
    """As the caller, or anonymously: Eqsash has no service identity to fall back on."""
    auth = EqsashAuth(settings.api_key, token=token, session_name=settings.session_name)
    return Acting(auth, f"token:{token}" if token else "guest")


def connect(upstream: Upstream, settings: EqsashSettings, memory: Recollection | None) -> Eqsash:
    return Eqsash(upstream, path=settings.path, get_methods=settings.get_methods)


async def ping(name: str, settings: EqsashSettings, client: httpx.AsyncClient) -> str:
    upstream = Upstream(name, client, settings.url, EqsashAuth(settings.api_key))
    sections = await Eqsash(upstream, path=settings.path).sections()
    # Sections are open to anonymous callers, yet Eqsash checks the site key first.
    return f"reachable, site key ok ({len(sections)} sections)"


async def login(site: Eqsash, settings: EqsashSettings, username: str, password: str) -> SignedIn:
    token = await site.login(username, password)
    return SignedIn(token.token, expires_at=token.expires_at, user_id=str(token.user_id))


async def account(site: Eqsash, user_id: str | None) -> Any:
    return await site.current_user()


def people(loaders: EqsashLoaders) -> PeopleLookup:
    return PeopleLookup(find=loaders.users_by_email)


def over_simulator(url: str) -> EqsashSettings:
    from simulators.eqsash import API_KEY

    return EqsashSettings(url=url, api_key=API_KEY, callable=("stats.get_counters",))


class EqsashLoaders:
    """Eqsash: users and articles by ids in one call each (`get_many`), sections listed once."""

    def __init__(self, connection: Connection[eqsash.Eqsash]) -> None:
        self._eqsash = connection.site
        self.users: DataLoader[int, eqsash.EqsashUser] = loader(self._users)
        self.articles: DataLoader[int, eqsash.Article] = loader(self._articles)
        self.sections: DataLoader[int, eqsash.Section] = loader(self._sections)
        self._viewer = Once(lambda: self._eqsash().current_user())

    async def article_list(
        self, *, limit: int, offset: int, search: str | None = None, section: int | None = None
    ) -> tuple[int, list[eqsash.Article]]:
        """A window of the articles and how many there are; each is kept by id."""
        total, found = await self._eqsash().articles(
            limit=limit, offset=offset, search=search, section=section
        )
        for article in found:
            self.articles.prime(article.id, article)
        return total, found

    async def viewer(self) -> eqsash.EqsashUser:
        """The caller's own account, asked once per request."""
        return await self._viewer()

    async def users_by_email(self, emails: list[str]) -> list[eqsash.EqsashUser]:
        return await self._eqsash().users_by_email(emails)

    async def _users(self, ids: list[int]) -> list[eqsash.EqsashUser | BaseException]:
        found = {u.id: u for u in await self._eqsash().users(ids)}
        return [found.get(i) or NotFound("eqsash", f"Eqsash has no user {i}") for i in ids]

    async def _articles(self, ids: list[int]) -> list[eqsash.Article | BaseException]:
        found = {a.id: a for a in await self._eqsash().articles_by_ids(ids)}
        return [found.get(i) or NotFound("eqsash", f"Eqsash has no article {i}") for i in ids]

    async def _sections(self, ids: list[int]) -> list[eqsash.Section | BaseException]:
        found = {s.id: s for s in await self._eqsash().sections()}
        return [found.get(i) or NotFound("eqsash", f"Eqsash has no section {i}") for i in ids]


EQSASH = SourceSpec(
    name="eqsash",
    label="Eqsash",
    header="X-Eqsash-Token",
    settings=EqsashSettings,
    credential=caller_only,
    acting=acting,
    connect=connect,
    loaders=EqsashLoaders,
    ping=ping,
    login=login,
    account=account,
    people=people,
    viewer=EqsashLoaders.viewer,
    demo_port=9105,
    over_simulator=over_simulator,
)
