"""Moodle (courses): a web service token; no guests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
from aiodataloader import DataLoader

from connectors import moodle
from connectors.errors import Forbidden, NotFound, Unauthenticated
from connectors.http import Upstream
from connectors.moodle import Moodle, MoodleAuth

from ..loaders import loader
from .settings import SourceSettings
from .spec import Memory, PeopleLookup, Reach, SignedIn, SourceSpec

if TYPE_CHECKING:
    from ..context import Context

__all__ = ["MOODLE", "MoodleLoaders", "MoodleSettings"]


@dataclass(frozen=True)
class MoodleSettings(SourceSettings):
    token: str = field(default="", repr=False)
    """Service token, used only for callers who send none and only with fallback allowed."""
    service: str = "moodle_mobile_app"
    """The external service `login` asks tokens for; the mobile one allows batched calls."""

    def check(self, where: str) -> None:
        super().check(where)
        if self.allow_service_fallback and not self.token:
            raise ValueError(f"{where}: allow_service_fallback needs token")


def credential(settings: MoodleSettings | None, token: str | None) -> str | None:
    """Moodle has no guest web services: no token, no call."""
    if token is None and settings is not None and settings.allow_service_fallback:
        token = settings.token
    if token is None:
        raise Unauthenticated("moodle", "Moodle needs a token: send X-Moodle-Token")
    return token


def connect(reach: Reach, settings: MoodleSettings, token: str | None) -> Moodle:
    """Its memory: callers whose service refused the multi-call, for ten minutes."""
    upstream = reach.upstream(MoodleAuth(token), f"token:{token or ''}")
    return Moodle(
        upstream,
        memory=reach.memory,
        caller_key=upstream.caller_key,
    )


async def ping(name: str, settings: MoodleSettings, client: httpx.AsyncClient) -> str:
    moodle = Moodle(Upstream(name, client, settings.url, MoodleAuth(settings.token or None)))
    try:
        info = await moodle.site_info()
    except Unauthenticated:
        if settings.token:
            raise
        # No token of ours: Moodle's invalidtoken answer still proves its web services work.
        return "reachable, web services answer; no service token configured"
    return f"reachable, auth ok as service user {info.username}, Moodle {info.release}"


async def login(site: Moodle, settings: MoodleSettings, username: str, password: str) -> SignedIn:
    return SignedIn(await site.login(username, password, settings.service))


async def account(site: Moodle, user_id: str | None) -> Any:
    info = await site.site_info()
    (user,) = await site.users([info.user_id])
    return user


def people(context: Context) -> PeopleLookup:
    return PeopleLookup(find=lambda site, emails: site.users_by_email(emails))


async def viewer(context: Context) -> Any:
    site = await context.once("viewer.moodle", context.site(MOODLE).site_info)
    return await context.loaders(MOODLE).users.load(site.user_id)


def over_simulator(url: str) -> MoodleSettings:
    return MoodleSettings(url=url)


class MoodleLoaders:
    """Moodle, one request per batch: array functions where Moodle has them, and one
    multi-call for the functions that take a single course or user."""

    def __init__(self, connect: Callable[[], moodle.Moodle]) -> None:
        self._moodle = connect
        self.users: DataLoader[int, moodle.User] = loader(self._users)
        self.courses: DataLoader[int, moodle.Course] = loader(self._courses)
        self.participants: DataLoader[int, list[moodle.User]] = loader(self._participants)
        self.users_courses: DataLoader[int, list[moodle.Course]] = loader(self._users_courses)
        self.assignments: DataLoader[int, list[moodle.Assignment]] = loader(self._assignments)
        self.grades: DataLoader[int, list[moodle.Grade]] = loader(self._grades)
        self.submissions: DataLoader[int, list[moodle.Submission]] = loader(self._submissions)
        self.own_status: DataLoader[int, moodle.OwnStatus] = loader(self._own_status)
        self.completions: DataLoader[tuple[int, int], moodle.CourseCompletion] = loader(
            self._completions
        )

    def remember_users(self, users: list[moodle.User]) -> None:
        for user in users:
            self.users.prime(user.id, user)

    def remember_courses(self, courses: list[moodle.Course]) -> None:
        """Courses as a lookup would answer them; the enrolled-courses list, which names the
        category by id only, is not."""
        for course in courses:
            if course.category is not None:
                self.courses.prime(course.id, course)

    async def _users(self, ids: list[int]) -> list[moodle.User | BaseException]:
        found = {user.id: user for user in await self._moodle().users(ids)}
        return [found.get(i) or NotFound("moodle", f"Moodle shows no user {i}") for i in ids]

    async def _courses(self, ids: list[int]) -> list[moodle.Course | BaseException]:
        return list(await self._moodle().courses_by_id(ids))

    async def _participants(self, ids: list[int]) -> list[list[moodle.User] | BaseException]:
        results = await self._moodle().enrolled_users(ids)
        for result in results:
            if isinstance(result, list):
                self.remember_users(result)
        return list(results)

    async def _users_courses(self, ids: list[int]) -> list[list[moodle.Course] | BaseException]:
        results = await self._moodle().users_courses(ids)
        for result in results:
            if isinstance(result, list):
                self.remember_courses(result)
        return list(results)

    async def _assignments(self, ids: list[int]) -> list[list[moodle.Assignment] | BaseException]:
        found = await self._moodle().assignments(ids)
        denied = Forbidden("moodle", "Moodle allows no access to this course's assignments")
        return [found.get(i, denied) for i in ids]

    async def _grades(self, ids: list[int]) -> list[list[moodle.Grade] | BaseException]:
        """Everyone's grades where the caller grades; elsewhere only the caller's own."""
        found, denied = await self._moodle().grades(ids)
        own = await self._own(denied)
        results: list[list[moodle.Grade] | BaseException] = []
        for i in ids:
            status = own.get(i)
            if isinstance(status, BaseException):
                results.append(status)
            elif status is not None:
                results.append([status.grade] if status.grade else [])
            else:
                results.append(found.get(i, []))
        return results

    async def _submissions(self, ids: list[int]) -> list[list[moodle.Submission] | BaseException]:
        """Everyone's submissions where the caller grades; elsewhere only the caller's own."""
        found, denied = await self._moodle().submissions(ids)
        own = await self._own(denied)
        results: list[list[moodle.Submission] | BaseException] = []
        for i in ids:
            status = own.get(i)
            if isinstance(status, BaseException):
                results.append(status)
            elif status is not None:
                results.append([status.submission] if status.submission else [])
            else:
                results.append(found.get(i, []))
        return results

    async def _own(self, ids: set[int]) -> dict[int, moodle.OwnStatus | BaseException]:
        ordered = sorted(ids)
        statuses = await asyncio.gather(
            *(self.own_status.load(i) for i in ordered), return_exceptions=True
        )
        return dict(zip(ordered, statuses, strict=True))

    async def _own_status(self, ids: list[int]) -> list[moodle.OwnStatus | BaseException]:
        return list(await self._moodle().own_statuses(ids))

    async def _completions(
        self, keys: list[tuple[int, int]]
    ) -> list[moodle.CourseCompletion | BaseException]:
        return list(await self._moodle().completions(keys))


MOODLE = SourceSpec(
    name="moodle",
    label="Moodle",
    header="X-Moodle-Token",
    settings=MoodleSettings,
    credential=credential,
    connect=connect,
    loaders=MoodleLoaders,
    ping=ping,
    login=login,
    account=account,
    people=people,
    viewer=viewer,
    demo_port=9101,
    over_simulator=over_simulator,
    memory=Memory(size=10_000, ttl_s=600),
)
