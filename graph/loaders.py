"""Per-request dataloaders: they batch and de-duplicate upstream calls within one request.

A loader lives for one request and one caller, so nothing it holds reaches another caller.
Resources that arrive in a document's `included` are primed into the loaders, so resolving an
author or a tag that came along costs no further request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar, cast

from aiodataloader import DataLoader

from connectors import civicrm, elgg, eqsash, moodle
from connectors.errors import Forbidden, NotFound
from connectors.flarum import Discussion, Flarum, Page, Post, Related, Tag, User

__all__ = ["CivicrmLoaders", "ElggLoaders", "EqsashLoaders", "FlarumLoaders", "MoodleLoaders"]

K = TypeVar("K")
V = TypeVar("V")
BatchLoad = Callable[[list[K]], Awaitable[list[V | BaseException]]]


class Loader(DataLoader[K, V]):
    """A DataLoader that can also say what it already holds: a resolver whose data came along
    (primed from `included`, or loaded earlier) answers at once, without a task."""

    def held(self, key: K) -> V | None:
        future = self._cache.get(self.get_cache_key(key))
        if future is None or not future.done() or future.cancelled() or future.exception():
            return None
        value: V = future.result()
        return value


def loader(batch: BatchLoad[K, V]) -> Loader[K, V]:
    """A loader over `batch`, which answers one slot per key: the value, or the exception
    that key failed with (the loader raises it to that key's caller only)."""
    return Loader(cast(Any, batch))


async def each(keys: Sequence[K], fetch: Callable[[K], Awaitable[V]]) -> list[V | BaseException]:
    """One concurrent call per key, for APIs with no batch form: a failure stays in its slot."""
    return list(await asyncio.gather(*(fetch(key) for key in keys), return_exceptions=True))


class FlarumLoaders:
    def __init__(self, flarum: Callable[[], Flarum]) -> None:
        self._flarum = flarum
        self.users: Loader[str, User] = loader(self._users)
        """Users as best known: the short form from `included`, else the full document."""
        self.full_users: DataLoader[str, User] = loader(self._full_users)
        self.posts: Loader[str, Post] = loader(self._posts)
        """Posts with their author linked."""
        self.included_posts: dict[str, Post] = {}
        """Posts that came along without relationships (a list's `firstPost`)."""
        self.discussions: DataLoader[str, Discussion] = loader(self._discussions)
        self.tags: Loader[str, Tag] = loader(self._tags)
        self.discussion_posts: DataLoader[tuple[str, int, int], Page[Post]] = loader(
            self._discussion_posts
        )

    def remember(self, related: Related) -> None:
        for user in related.users.values():
            self.users.prime(user.id, user)
            if user.is_full:
                self.full_users.prime(user.id, user)
        for tag in related.tags.values():
            self.tags.prime(tag.id, tag)
        for post in related.posts.values():
            if "user" in post.relationships:  # a post in the loader always knows its author
                self.posts.prime(post.id, post)
            else:
                self.included_posts[post.id] = post

    def post_held(self, post_id: str) -> Post | None:
        """The post, if a document brought it along, with or without its author."""
        return self.posts.held(post_id) or self.included_posts.get(post_id)

    async def _users(self, ids: list[str]) -> list[User | BaseException]:
        # Each user answers for itself: one missing user is NotFound alone.
        return await each(ids, self.full_users.load)

    async def _full_users(self, ids: list[str]) -> list[User | BaseException]:
        return await each(ids, self._flarum().user)

    async def _posts(self, ids: list[str]) -> list[Post | BaseException]:
        page = await self._flarum().posts(ids)
        self.remember(page.related)
        found = {post.id: post for post in page.items}
        return [found.get(i) or NotFound("flarum", f"Flarum has no visible post {i}") for i in ids]

    async def _discussions(self, ids: list[str]) -> list[Discussion | BaseException]:
        async def fetch(discussion_id: str) -> Discussion:
            found = await self._flarum().discussion(discussion_id)
            self.remember(found.related)
            return found.item

        return await each(ids, fetch)

    async def _tags(self, ids: list[str]) -> list[Tag | BaseException]:
        found = {tag.id: tag for tag in await self._flarum().tags()}
        return [found.get(i) or NotFound("flarum", f"Flarum has no tag {i}") for i in ids]

    async def _discussion_posts(
        self, keys: list[tuple[str, int, int]]
    ) -> list[Page[Post] | BaseException]:
        async def fetch(key: tuple[str, int, int]) -> Page[Post]:
            discussion_id, offset, limit = key
            page = await self._flarum().discussion_posts(discussion_id, offset=offset, limit=limit)
            self.remember(page.related)
            return page

        return await each(keys, fetch)


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


class CivicrmLoaders:
    """CiviCRM: contacts and groups by id, and memberships both ways, one `IN` call per batch
    (API v3; the v2 style has no `IN`, and its connector calls once per id instead)."""

    def __init__(self, connect: Callable[[], civicrm.Civicrm]) -> None:
        self._civicrm = connect
        self.contacts: DataLoader[int, civicrm.Contact] = loader(self._contacts)
        self.groups: DataLoader[int, civicrm.Group] = loader(self._groups)
        self.groups_of_contact: DataLoader[int, list[int]] = loader(self._groups_of_contact)
        self.members_of_group: DataLoader[int, list[int]] = loader(self._members_of_group)

    def remember_contacts(self, contacts: list[civicrm.Contact]) -> None:
        for contact in contacts:
            self.contacts.prime(contact.id, contact)

    async def _contacts(self, ids: list[int]) -> list[civicrm.Contact | BaseException]:
        found = {c.id: c for c in await self._civicrm().contacts(ids=ids)}
        return [found.get(i) or NotFound("civicrm", f"CiviCRM shows no contact {i}") for i in ids]

    async def _groups(self, ids: list[int]) -> list[civicrm.Group | BaseException]:
        found = {g.id: g for g in await self._civicrm().groups(ids=ids)}
        return [found.get(i) or NotFound("civicrm", f"CiviCRM shows no group {i}") for i in ids]

    async def _groups_of_contact(self, ids: list[int]) -> list[list[int] | BaseException]:
        memberships = await self._civicrm().memberships(contact_ids=ids)
        return [[m.group_id for m in memberships if m.contact_id == i] for i in ids]

    async def _members_of_group(self, ids: list[int]) -> list[list[int] | BaseException]:
        memberships = await self._civicrm().memberships(group_ids=ids)
        return [[m.contact_id for m in memberships if m.group_id == i] for i in ids]


class ElggLoaders:
    """Elgg has no batch calls: each distinct call goes once per request, concurrently (the
    source's connection pool keeps it under `max_concurrency`)."""

    def __init__(self, connect: Callable[[], elgg.Elgg]) -> None:
        self._elgg = connect
        self.groups: DataLoader[int, elgg.ElggGroup] = loader(self._groups)
        self.members: DataLoader[tuple[int, int, int], list[elgg.ElggUser]] = loader(self._members)
        self.user_groups: DataLoader[str, list[elgg.ElggGroup]] = loader(self._user_groups)
        self.profiles: DataLoader[str, elgg.ElggUser] = loader(self._profiles)
        self.river: DataLoader[tuple[int, int], list[elgg.Activity]] = loader(self._river)

    async def _groups(self, guids: list[int]) -> list[elgg.ElggGroup | BaseException]:
        return await each(guids, self._elgg().group)

    async def _members(
        self, keys: list[tuple[int, int, int]]
    ) -> list[list[elgg.ElggUser] | BaseException]:
        site = self._elgg()
        return await each(keys, lambda k: site.members(k[0], offset=k[1], limit=k[2]))

    async def _profiles(self, usernames: list[str]) -> list[elgg.ElggUser | BaseException]:
        return await each(usernames, self._elgg().profile)

    async def _user_groups(
        self, usernames: list[str]
    ) -> list[list[elgg.ElggGroup] | BaseException]:
        return await each(usernames, self._elgg().user_groups)

    async def _river(
        self, keys: list[tuple[int, int]]
    ) -> list[list[elgg.Activity] | BaseException]:
        site = self._elgg()
        return await each(keys, lambda k: site.river(group_guid=k[0], limit=k[1]))


class EqsashLoaders:
    """Eqsash: users and articles by ids in one call each (`get_many`), sections listed once."""

    def __init__(self, connect: Callable[[], eqsash.Eqsash]) -> None:
        self._eqsash = connect
        self.users: DataLoader[int, eqsash.EqsashUser] = loader(self._users)
        self.articles: DataLoader[int, eqsash.Article] = loader(self._articles)
        self.sections: DataLoader[int, eqsash.Section] = loader(self._sections)

    def remember_articles(self, articles: list[eqsash.Article]) -> None:
        for article in articles:
            self.articles.prime(article.id, article)

    async def _users(self, ids: list[int]) -> list[eqsash.EqsashUser | BaseException]:
        found = {u.id: u for u in await self._eqsash().users(ids)}
        return [found.get(i) or NotFound("eqsash", f"Eqsash has no user {i}") for i in ids]

    async def _articles(self, ids: list[int]) -> list[eqsash.Article | BaseException]:
        found = {a.id: a for a in await self._eqsash().articles_by_ids(ids)}
        return [found.get(i) or NotFound("eqsash", f"Eqsash has no article {i}") for i in ids]

    async def _sections(self, ids: list[int]) -> list[eqsash.Section | BaseException]:
        found = {s.id: s for s in await self._eqsash().sections()}
        return [found.get(i) or NotFound("eqsash", f"Eqsash has no section {i}") for i in ids]
