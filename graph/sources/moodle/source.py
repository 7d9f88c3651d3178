"""Moodle (courses): a web service token; no guests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

import httpx
from aiodataloader import DataLoader

from connectors import moodle
from connectors.errors import Forbidden, NotFound, Unauthenticated
from connectors.http import Upstream
from connectors.memory import Recollection
from connectors.moodle import Moodle, MoodleAuth
from graph.doctor.report import Need
from graph.internals import dispatch, enqueue
from graph.loaders import Loader, Once, loader
from graph.sources.moodle.doctor import diagnose
from graph.sources.moodle.settings import MoodleSettings
from graph.sources.spec import Acting, Connection, Memory, PeopleLookup, SignedIn, SourceSpec

__all__ = ["MOODLE", "MoodleLoaders"]


def credential(settings: MoodleSettings | None, token: str | None) -> str | None:
    """Moodle has no guest web services: no token, no call."""
    if token is None and settings is not None and settings.allow_service_fallback:
        token = settings.token
    if token is None:
        raise Unauthenticated("moodle", "Moodle needs a token: send X-Moodle-Token")
    return token


def acting(settings: MoodleSettings, token: str | None) -> Acting:
    return Acting(MoodleAuth(token), f"token:{token or ''}")


def connect(upstream: Upstream, settings: MoodleSettings, memory: Recollection | None) -> Moodle:
    """Its memory: callers whose service refused the multi-call, for ten minutes."""
    return Moodle(upstream, memory=memory, caller_key=upstream.caller_key)


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


def people(loaders: MoodleLoaders) -> PeopleLookup:
    return PeopleLookup(find=loaders.users_by_email)


def over_simulator(url: str) -> MoodleSettings:
    return MoodleSettings(url=url)


K = TypeVar("K")
V = TypeVar("V")
SETTLE_TURNS = 25
"""Event-loop turns a list's answer is given to reach the fields that ask for its users
(a few awaits each: the loader, the resolver, the list's items)."""


class AfterLists(Loader[int, moodle.User]):
    """A loader that sends its batch only once `settled()` returns, so that the users every
    list of the request names go in one call, whatever order the lists answered in."""

    def __init__(
        self,
        batch: Callable[[list[int]], Awaitable[list[moodle.User | BaseException]]],
        settled: Callable[[], Awaitable[None]],
    ) -> None:
        super().__init__(cast(Any, batch))
        self._settled = settled
        self._dispatching: set[asyncio.Task[None]] = set()

    def do_resolve_reject(self, key: int, future: asyncio.Future[moodle.User]) -> None:
        if enqueue(self, key, future):
            task = asyncio.ensure_future(self._dispatch_when_settled())
            self._dispatching.add(task)
            task.add_done_callback(self._dispatching.discard)

    async def _dispatch_when_settled(self) -> None:
        await self._settled()
        dispatch(self)


class MoodleLoaders:
    """Moodle, one request per batch: array functions where Moodle has them, and one
    multi-call for the functions that take a single course or user."""

    def __init__(self, connection: Connection[moodle.Moodle]) -> None:
        self._moodle = connection.site
        self.users: DataLoader[int, moodle.User] = AfterLists(self._users, self._lists_settled)
        self.courses: DataLoader[int, moodle.Course] = loader(self._courses)
        self.participants: DataLoader[int, list[moodle.User]] = loader(
            self._naming(self._participants)
        )
        self.users_courses: DataLoader[int, list[moodle.Course]] = loader(self._users_courses)
        self.assignments: DataLoader[int, list[moodle.Assignment]] = loader(self._assignments)
        self.grades: DataLoader[int, list[moodle.Grade]] = loader(self._grades)
        self.submissions: DataLoader[int, list[moodle.Submission]] = loader(self._submissions)
        self.own_status: DataLoader[int, moodle.OwnStatus] = loader(self._naming(self._own_status))
        self.graded_submissions: DataLoader[int, list[moodle.Submission] | None] = loader(
            self._naming(self._graded_submissions)
        )
        self.graded_grades: DataLoader[int, list[moodle.Grade] | None] = loader(
            self._naming(self._graded_grades)
        )
        self.completions: DataLoader[tuple[int, int], moodle.CourseCompletion] = loader(
            self._completions
        )
        self.activities: DataLoader[int, list[moodle.Activity]] = loader(self._activities)
        self.activity_completions: DataLoader[tuple[int, int], list[moodle.ActivityCompletion]] = (
            loader(self._activity_completions)
        )
        self.graded_flags: DataLoader[int, list[moodle.UserFlags] | None] = loader(
            self._naming(self._graded_flags)
        )
        self._site_info = Once(lambda: self._moodle().site_info())
        self._known_users: dict[int, moodle.User] = {}
        self._listing: set[asyncio.Future[None]] = set()
        self._known_courses: dict[int, moodle.Course] = {}
        self._course_lists: set[asyncio.Future[None]] = set()

    async def caller_id(self) -> int:
        """The caller's own Moodle user id (`core_webservice_get_site_info`, once a request)."""
        return (await self._site_info()).user_id

    async def viewer(self) -> moodle.User:
        """The caller's own account."""
        return await self.users.load(await self.caller_id())

    async def users_by_email(self, emails: list[str]) -> list[moodle.User]:
        return await self._moodle().users_by_email(emails)

    def _remember_users(self, users: list[moodle.User]) -> None:
        for user in users:
            self._known_users.setdefault(user.id, user)
            self.users.prime(user.id, user)

    def _remember_courses(self, courses: list[moodle.Course]) -> None:
        """Courses as a lookup would answer them; the enrolled-courses list, which names the
        category by id only, is not."""
        for course in courses:
            if course.category is not None:
                self._known_courses.setdefault(course.id, course)
                self.courses.prime(course.id, course)

    async def course_list(
        self, fetch: Callable[[], Awaitable[list[moodle.Course]]]
    ) -> list[moodle.Course]:
        """A list of courses (all of them, or a search): lookups by id in the same request
        wait for it and take the courses it names, whichever answer comes first."""
        listing = asyncio.get_running_loop().create_future()
        self._course_lists.add(listing)
        try:
            courses = await fetch()
            self._remember_courses(courses)
            return courses
        finally:
            self._course_lists.discard(listing)
            listing.set_result(None)

    def _naming(
        self, batch: Callable[[list[K]], Awaitable[list[V]]]
    ) -> Callable[[list[K]], Awaitable[list[V]]]:
        """`batch`, marked in flight while it runs: its answer names users (`_lists_settled`)."""

        async def marked(keys: list[K]) -> list[V]:
            listing = asyncio.get_running_loop().create_future()
            self._listing.add(listing)
            try:
                return await batch(keys)
            finally:
                self._listing.discard(listing)
                listing.set_result(None)

        return marked

    async def _lists_settled(self) -> None:
        """Wait until no list that names users (participants, submissions, grades, one's own
        status) is being fetched, and the fields it answers have asked for their users."""
        while True:
            if self._listing:
                await asyncio.gather(*self._listing)
            for _ in range(SETTLE_TURNS):
                await asyncio.sleep(0)
            if not self._listing:
                return

    async def _users(self, ids: list[int]) -> list[moodle.User | BaseException]:
        """Users by id, in one call after the lists that name users have answered (the loader
        waits for them): a participant list of this request names them at no cost, and
        whether a grade's user and its grader cost one request or two, or none, does not
        depend on which of two concurrent answers came back first."""
        missing = [i for i in ids if i not in self._known_users]
        found = dict(self._known_users)
        if missing:
            found.update((user.id, user) for user in await self._moodle().users(missing))
        return [found.get(i) or NotFound("moodle", f"Moodle shows no user {i}") for i in ids]

    async def _courses(self, ids: list[int]) -> list[moodle.Course | BaseException]:
        if self._course_lists:
            await asyncio.gather(*self._course_lists)
        missing = [i for i in ids if i not in self._known_courses]
        found: dict[int, moodle.Course | BaseException] = dict(self._known_courses)
        if missing:
            found.update(zip(missing, await self._moodle().courses_by_id(missing), strict=True))
        return [found[i] for i in ids]

    async def _participants(self, ids: list[int]) -> list[list[moodle.User] | BaseException]:
        results = await self._moodle().enrolled_users(ids)
        for result in results:
            if isinstance(result, list):
                self._remember_users(result)
        return list(results)

    async def _users_courses(self, ids: list[int]) -> list[list[moodle.Course] | BaseException]:
        results = await self._moodle().users_courses(ids)
        for result in results:
            if isinstance(result, list):
                self._remember_courses(result)
        return list(results)

    async def _assignments(self, ids: list[int]) -> list[list[moodle.Assignment] | BaseException]:
        found = await self._moodle().assignments(ids)
        denied = Forbidden("moodle", "Moodle allows no access to this course's assignments")
        return [found.get(i, denied) for i in ids]

    async def _graded_grades(
        self, ids: list[int]
    ) -> list[list[moodle.Grade] | BaseException | None]:
        """Everyone's grades where the caller grades; None where they may not."""
        found, denied = await self._moodle().grades(ids)
        return [None if i in denied else found.get(i, []) for i in ids]

    async def _graded_submissions(
        self, ids: list[int]
    ) -> list[list[moodle.Submission] | BaseException | None]:
        """Everyone's submissions where the caller grades; None where they may not."""
        found, denied = await self._moodle().submissions(ids)
        return [None if i in denied else found.get(i, []) for i in ids]

    async def _grades(self, ids: list[int]) -> list[list[moodle.Grade] | BaseException]:
        """Everyone's grades where the caller grades; elsewhere only the caller's own."""
        listed = await self.graded_grades.load_many(ids)
        own = await self._own({i for i, found in zip(ids, listed, strict=True) if found is None})
        results: list[list[moodle.Grade] | BaseException] = []
        for i, found in zip(ids, listed, strict=True):
            status = own.get(i)
            if isinstance(status, BaseException):
                results.append(status)
            elif status is not None:
                results.append([status.grade] if status.grade else [])
            else:
                results.append(found or [])
        return results

    async def _submissions(self, ids: list[int]) -> list[list[moodle.Submission] | BaseException]:
        """Everyone's submissions where the caller grades; elsewhere only the caller's own."""
        listed = await self.graded_submissions.load_many(ids)
        own = await self._own({i for i, found in zip(ids, listed, strict=True) if found is None})
        results: list[list[moodle.Submission] | BaseException] = []
        for i, found in zip(ids, listed, strict=True):
            status = own.get(i)
            if isinstance(status, BaseException):
                results.append(status)
            elif status is not None:
                results.append([status.submission] if status.submission else [])
            else:
                results.append(found or [])
        return results

    async def submission_of(self, assignment: int, user: int) -> moodle.Submission | None:
        """One user's submission: from the list where the caller grades; else only when the
        user is the caller, from the status call (which may add a `new` row, so it is never
        made for someone else's)."""
        listed = await self.graded_submissions.load(assignment)
        if listed is None:
            if user != await self.caller_id():
                return None
            return (await self.own_status.load(assignment)).submission
        return next((s for s in listed if s.user_id == user), None)

    async def grade_of(self, assignment: int, user: int) -> moodle.Grade | None:
        """One user's grade, asked the way `submission_of` asks."""
        listed = await self.graded_grades.load(assignment)
        if listed is None:
            if user != await self.caller_id():
                return None
            return (await self.own_status.load(assignment)).grade
        return next((g for g in listed if g.user_id == user), None)

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
        return list(await self._moodle().completions(keys, caller=self.caller_id))

    async def _activities(self, ids: list[int]) -> list[list[moodle.Activity] | BaseException]:
        return list(await self._moodle().activities(ids))

    async def _activity_completions(
        self, keys: list[tuple[int, int]]
    ) -> list[list[moodle.ActivityCompletion] | BaseException]:
        return list(await self._moodle().activity_completions(keys, caller=self.caller_id))

    async def _graded_flags(
        self, ids: list[int]
    ) -> list[list[moodle.UserFlags] | BaseException | None]:
        """Every learner's flags where the caller grades; None where they may not."""
        found, denied = await self._moodle().user_flags(ids)
        return [None if i in denied else found.get(i, []) for i in ids]

    async def user_flags(self, assignment: int) -> list[moodle.UserFlags]:
        """Everyone's flags where the caller grades; elsewhere only the caller's own
        extension, from the status call (which may add a `new` row for the caller)."""
        listed = await self.graded_flags.load(assignment)
        if listed is not None:
            return listed
        caller = await self.caller_id()
        return [_own_flags(assignment, caller, await self.own_status.load(assignment))]

    async def flags_of(self, assignment: int, user: int) -> moodle.UserFlags | None:
        """One learner's flags, asked the way `submission_of` asks; None where Moodle keeps
        none for them (no extension, no marking state)."""
        listed = await self.graded_flags.load(assignment)
        if listed is None:
            if user != await self.caller_id():
                return None
            return _own_flags(assignment, user, await self.own_status.load(assignment))
        return next((f for f in listed if f.user_id == user), None)


def _own_flags(assignment: int, user: int, status: moodle.OwnStatus) -> moodle.UserFlags:
    """What the status answer tells a learner of their own flags: the extension only."""
    return moodle.UserFlags(
        assignment_id=assignment,
        user_id=user,
        extension_due_date=status.extension_due_date,
        workflow_state=None,
        allocated_marker_id=None,
        locked=False,
    )


GRADES = "mod/assign:grade in the course (else only the caller's own, via the status function)"
NEEDS = (
    Need("Viewer.moodle", ("core_webservice_get_site_info", "core_user_get_users_by_field")),
    Need("Query.courses", ("core_course_get_courses_by_field",)),
    Need("Query.courses(search)", ("core_course_search_courses",)),
    Need("Query.course", ("core_course_get_courses_by_field",)),
    Need("Course.participants", ("core_enrol_get_enrolled_users",), "moodle/user:viewdetails"),
    Need("Course.assignments", ("mod_assign_get_assignments",), "mod/assign:view"),
    Need(
        "Assignment.submissions",
        ("mod_assign_get_submissions", "mod_assign_get_submission_status"),
        GRADES,
    ),
    Need(
        "Assignment.grades", ("mod_assign_get_grades", "mod_assign_get_submission_status"), GRADES
    ),
    Need(
        "Course.completion",
        ("core_completion_get_course_completion_status",),
        "report/completion:view (else only the caller's own)",
    ),
    Need("MoodleUser.courses", ("core_enrol_get_users_courses",), "moodle/course:viewparticipants"),
    Need("Course.activities", ("core_course_get_contents",)),
    Need(
        "Course.activityCompletions",
        ("core_completion_get_activities_completion_status", "core_course_get_contents"),
        "report/progress:view (else only the caller's own)",
    ),
    Need(
        "Activity.completions",
        ("core_completion_get_activities_completion_status", "core_enrol_get_enrolled_users"),
        "report/progress:view (else only the caller's own)",
    ),
    Need(
        "Assignment.userFlags",
        ("mod_assign_get_user_flags", "mod_assign_get_submission_status"),
        GRADES,
    ),
    Need(
        "Mutation.sendMessage", ("core_message_send_instant_messages",), "moodle/site:sendmessage"
    ),
    Need("Person.moodleUser", ("core_user_get_users_by_field",), "moodle/user:viewdetails"),
)
"""The web service functions each field calls, and the capability Moodle checks per course."""

MOODLE = SourceSpec(
    name="moodle",
    label="Moodle",
    header="X-Moodle-Token",
    settings=MoodleSettings,
    credential=credential,
    acting=acting,
    connect=connect,
    loaders=MoodleLoaders,
    ping=ping,
    login=login,
    account=account,
    people=people,
    viewer=MoodleLoaders.viewer,
    demo_port=9101,
    over_simulator=over_simulator,
    memory=Memory(size=10_000, ttl_s=600),
    needs=NEEDS,
    diagnose=diagnose,
)
