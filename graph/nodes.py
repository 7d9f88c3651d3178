"""Global ids back to objects: `Query.node` and `Query.nodes`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiodataloader import DataLoader

from connectors.errors import NotFound

from .context import Context
from .ids import GlobalId, InvalidId
from .sources import CIVICRM, ELGG, EQSASH, FLARUM, MOODLE
from .types.civicrm import CivicrmGroup, Contact
from .types.common import Info, Node
from .types.elgg import ElggGroup, ElggUser
from .types.eqsash import Article, EqsashUser, Section
from .types.flarum import Discussion, FlarumUser, Post, Tag
from .types.moodle import Assignment, Course, Grade, MoodleUser, Submission
from .types.person import Person

__all__ = ["NODE_LOADERS", "number", "resolve_node"]


NodeLoader = Callable[[Info, str], Awaitable[Node]]


def number(upstream_id: str) -> int:
    if not upstream_id.isdigit():
        raise InvalidId(f"{upstream_id!r} is not a numeric id")
    return int(upstream_id)


def _by(
    loader: Callable[[Context], DataLoader[Any, Any]],
    make: Callable[[Any], Node],
    key: Callable[[str], Any] = str,
) -> NodeLoader:
    """Resolve an id through one of the request's loaders."""

    async def load(info: Info, upstream_id: str) -> Node:
        return make(await loader(info.context).load(key(upstream_id)))

    return load


async def _assignment(info: Info, upstream_id: str) -> Node:
    """Moodle lists assignments by course only: look in the caller's courses."""
    wanted = number(upstream_id)
    for assignments in (await info.context.site(MOODLE).assignments([])).values():
        for assignment in assignments:
            if assignment.id == wanted:
                return Assignment.of(assignment)
    raise NotFound("moodle", f"Moodle shows no assignment {wanted} in the caller's courses")


def _whose(upstream_id: str) -> tuple[int, int]:
    """`assignment:user`, the id of a submission or grade."""
    assignment, _, user = upstream_id.partition(":")
    return number(assignment), number(user)


async def _submission(info: Info, upstream_id: str) -> Node:
    assignment, user = _whose(upstream_id)
    for submission in await info.context.loaders(MOODLE).submissions.load(assignment):
        if submission.user_id == user:
            return Submission.of(submission)
    raise NotFound(
        "moodle", f"Moodle shows no submission of user {user} in assignment {assignment}"
    )


async def _grade(info: Info, upstream_id: str) -> Node:
    assignment, user = _whose(upstream_id)
    for grade in await info.context.loaders(MOODLE).grades.load(assignment):
        if grade.user_id == user:
            return Grade.of(grade)
    raise NotFound("moodle", f"Moodle shows no grade of {user} in assignment {assignment}")


async def _person(info: Info, email: str) -> Node:
    return Person.of(info, email)


NODE_LOADERS: dict[tuple[str, str], NodeLoader] = {
    ("legacygraph", "Person"): _person,
    ("flarum", "Discussion"): _by(lambda c: c.loaders(FLARUM).discussions, Discussion.of),
    ("flarum", "Post"): _by(lambda c: c.loaders(FLARUM).posts, Post.of),
    ("flarum", "FlarumUser"): _by(lambda c: c.loaders(FLARUM).users, FlarumUser.of),
    ("flarum", "Tag"): _by(lambda c: c.loaders(FLARUM).tags, Tag.of),
    ("moodle", "Course"): _by(lambda c: c.loaders(MOODLE).courses, Course.of, number),
    ("moodle", "MoodleUser"): _by(lambda c: c.loaders(MOODLE).users, MoodleUser.of, number),
    ("moodle", "Assignment"): _assignment,
    ("moodle", "Submission"): _submission,
    ("moodle", "Grade"): _grade,
    ("civicrm", "Contact"): _by(lambda c: c.loaders(CIVICRM).contacts, Contact.of, number),
    ("civicrm", "CivicrmGroup"): _by(lambda c: c.loaders(CIVICRM).groups, CivicrmGroup.of, number),
    ("elgg", "ElggGroup"): _by(lambda c: c.loaders(ELGG).groups, ElggGroup.of, number),
    ("elgg", "ElggUser"): _by(lambda c: c.loaders(ELGG).profiles, ElggUser.of),
    ("eqsash", "Article"): _by(lambda c: c.loaders(EQSASH).articles, Article.of, number),
    ("eqsash", "EqsashUser"): _by(lambda c: c.loaders(EQSASH).users, EqsashUser.of, number),
    ("eqsash", "Section"): _by(lambda c: c.loaders(EQSASH).sections, Section.of, number),
}


async def resolve_node(info: Info, node_id: str) -> Node:
    decoded = GlobalId.decode(node_id)
    loader = NODE_LOADERS.get((decoded.source, decoded.type_name))
    if loader is None:
        raise InvalidId(f"{node_id!r} names no type this gateway serves")
    return await loader(info, decoded.upstream_id)
