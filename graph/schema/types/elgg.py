"""Elgg in the graph: ElggUser, ElggGroup, ElggActivity."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from connectors import elgg
from connectors.elgg import GROUPS_AT_MOST
from graph.schema.ids import GlobalId
from graph.schema.pagination import Connection, connection
from graph.schema.types.common import (
    Account,
    Group,
    GroupSource,
    Info,
    SourceTypes,
    by_loader,
    global_id,
    number,
    own_account_field,
    page_window,
    person_account_field,
)
from graph.schema.types.source import Source
from graph.sources import ELGG

__all__ = [
    "TYPES",
    "ElggActivity",
    "ElggGroup",
    "ElggMutation",
    "ElggPersonAccount",
    "ElggUser",
    "ElggViewer",
]

SOURCE = Source("elgg")


@strawberry.type(description="A member of the Elgg community site.")
class ElggUser(Account):
    upstream_id: str
    avatar_url: str | None
    location: str | None
    data: strawberry.Private[elgg.ElggUser]

    @classmethod
    def of(cls, user: elgg.ElggUser) -> ElggUser:
        # Elgg's methods find a user by username (some tell no guid): the id holds the username.
        return cls(
            id=global_id(SOURCE, "ElggUser", user.username),
            source=SOURCE,
            upstream_id=str(user.guid) if user.guid is not None else user.username,
            username=user.username,
            display_name=user.name,
            avatar_url=user.avatar_url,
            location=user.location,
            data=user,
        )

    async def account_email(self, info: Info) -> str | None:
        return self.data.email

    @strawberry.field(description="Their groups (someone else's closed groups only if shared).")
    async def groups(
        self, info: Info
    ) -> list[Annotated[ElggGroup, strawberry.lazy(__name__)]] | None:
        found = await info.context.loaders(ELGG).user_groups.load(self.data.username)
        return [ElggGroup.of(g) for g in found]


@strawberry.type(description="Something someone did on the Elgg site (a river item).")
class ElggActivity:
    action: str = strawberry.field(description="Elgg's action type: join, create, comment...")
    summary: str
    created_at: datetime | None
    object_title: str | None
    subject: ElggUser

    @classmethod
    def of(cls, activity: elgg.Activity) -> ElggActivity:
        return cls(
            action=activity.action,
            summary=activity.summary,
            created_at=activity.created_at,
            object_title=activity.object_title,
            subject=ElggUser.of(activity.subject),
        )


@strawberry.type(description="An Elgg group; a closed group shows its members to members only.")
class ElggGroup(Group):
    upstream_id: str
    is_open: bool
    created_at: datetime | None
    data: strawberry.Private[elgg.ElggGroup]

    @classmethod
    def of(cls, group: elgg.ElggGroup) -> ElggGroup:
        return cls(
            id=global_id(SOURCE, "ElggGroup", str(group.guid)),
            source=SOURCE,
            upstream_id=str(group.guid),
            name=group.name,
            description=group.description,
            is_open=group.is_open,
            created_at=group.created_at,
            data=group,
        )

    @strawberry.field
    async def member_count(self, info: Info) -> int | None:
        return self.data.member_count

    @strawberry.field
    async def members(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Account] | None:
        at = page_window(info, first, after)
        key = (self.data.guid, at.offset, at.limit + 1)
        found = await info.context.loaders(ELGG).members.load(key)
        return connection(
            found[: at.limit],
            at,
            has_next=len(found) > at.limit,
            node=ElggUser.of,
            total_count=self.data.member_count,
        )

    @strawberry.field(description="The latest activity in the group, newest first.")
    async def activity(self, info: Info, first: int = 10) -> list[ElggActivity] | None:
        limit = min(max(first, 0), info.context.settings.graphql.max_page_size)
        found = await info.context.loaders(ELGG).river.load((self.data.guid, limit))
        return [ElggActivity.of(a) for a in found]


@strawberry.type
class ElggViewer:
    """`Viewer.elgg`."""

    elgg: ElggUser | None = own_account_field(
        "elgg", ElggUser, "Null when the request carries no Elgg token."
    )


@strawberry.type
class ElggPersonAccount:
    """`Person.elggUser`."""

    elgg_user: ElggUser | None = person_account_field(
        "elgg", ElggUser, "The Elgg account, where the caller may find it."
    )


@strawberry.type
class ElggMutation:
    @strawberry.mutation(description="Join an Elgg group as the caller (open groups only).")
    async def join_group(self, info: Info, group_id: strawberry.ID) -> ElggGroup | None:
        guid = GlobalId.expect_int(group_id, "elgg", "ElggGroup")
        await info.context.site(ELGG).join(guid)
        return ElggGroup.of(await info.context.site(ELGG).group(guid))


async def _groups(info: Info, search: str | None) -> list[Group]:
    needle = (search or "").lower()
    groups = await info.context.site(ELGG).groups(limit=GROUPS_AT_MOST)
    return [ElggGroup.of(g) for g in groups if needle in g.name.lower()]


async def _groups_of_person(info: Info, email: str) -> list[Group]:
    member = await info.context.people_loaders.of("elgg").load(email)
    if member is None:
        return []
    return [
        ElggGroup.of(g) for g in await info.context.loaders(ELGG).user_groups.load(member.username)
    ]


TYPES = SourceTypes(
    account=ElggUser,
    nodes={
        ElggGroup: by_loader(lambda c: c.loaders(ELGG).groups, ElggGroup.of, number),
        ElggUser: by_loader(lambda c: c.loaders(ELGG).profiles, ElggUser.of),
    },
    groups=GroupSource(
        "ElggGroup",
        _groups,
        listed=lambda context: "elgg" in context.settings.sources.configured(),
        of_person=_groups_of_person,
    ),
)
"""The type of a person's account here, how `Query.node` finds each type by its id, and its part
of `Query.groups`: listed without a source wherever Elgg is configured (the gateway's application
key reads the groups)."""
