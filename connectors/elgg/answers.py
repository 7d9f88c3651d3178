"""What Elgg's web service methods answer, as the connector reads them, for both method sets
(`profiles.py`): this project's own (`legacygraph`) and the elgg_with_rest_api plugin's
(`rest_api`, read from its lib/*.php). Elgg's XML view sends every value as text; `typed` reads
numbers from it."""

from __future__ import annotations

from typing import Any

from ..answers import Answer

__all__ = [
    "Activity",
    "Group",
    "Owner",
    "PluginActivity",
    "PluginGroup",
    "PluginProfile",
    "ProfileCore",
    "User",
]


class User(Answer):
    guid: int
    username: str
    name: str | None = None
    email: str | None = None
    avatar_url: str | None = None
    location: str | None = None


class Group(Answer):
    guid: int
    name: str = ""
    description: str | None = None
    membership: str = "open"
    members_count: int | None = None
    owner_guid: int | None = None
    time_created: int | None = None


class Activity(Answer):
    id: int
    subject_guid: int
    action_type: str = ""
    subject_username: str = ""
    subject_name: str | None = None
    object_guid: int | None = None
    object_title: str | None = None
    summary: str = ""
    posted: int | None = None


class ProfileCore(Answer):
    username: str
    name: str | None = None


class PluginProfile(Answer):
    """`user.get_profile` of the rest_api plugin: no guid, no e-mail."""

    core: ProfileCore
    profile_fields: Any = None
    avatar_url: str | None = None


class Owner(Answer):
    guid: int | None = None


class PluginGroup(Answer):
    """A group of the rest_api plugin's `group.get_list`: `title`, a count of `members`, and
    its age in words (`time_create`), not a time."""

    guid: int
    title: str = ""
    description: str | None = None
    members: int | None = None
    permission_public: bool = False
    owner: Owner | None = None


class PluginActivity(Answer):
    """A river item of the rest_api plugin: its author by `username`/`name`, what happened in
    words (`txt`), its age in words (`time`)."""

    id: int
    subject_guid: int
    action_type: str = ""
    username: str = ""
    name: str | None = None
    avatar_url: str | None = None
    object_guid: int | None = None
    txt: str = ""
