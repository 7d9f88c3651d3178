"""Flarum's included users, made without the frozen dataclass `__init__`
(`connectors/flarum/convert.py`), are the users `User(...)` makes, field for field; what a page
decodes is left out of the cycle collector's work."""

from __future__ import annotations

import dataclasses
import gc
from datetime import UTC, datetime

import msgspec
import pytest

from connectors.flarum import User
from connectors.flarum.convert import discussion, user
from connectors.flarum.jsonapi import Resource


def resource(attributes: str) -> Resource:
    text = f'{{"type": "users", "id": "3", "attributes": {attributes}}}'
    return msgspec.json.decode(text.encode(), type=Resource)


SHORT = '{"username": "ada", "displayName": "Ada", "avatarUrl": null, "slug": "ada"}'
FULL = (
    '{"username": "ada", "displayName": "", "slug": "ada", "joinTime": "2026-01-02T03:04:05+00:00",'
    ' "discussionCount": 4, "commentCount": "9", "email": "ada@example.org"}'
)


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        (SHORT, User(id="3", username="ada", display_name="Ada", avatar_url=None, slug="ada")),
        (
            FULL,
            User(
                id="3",
                username="ada",
                display_name="ada",  # an empty display name is the username
                avatar_url=None,
                slug="ada",
                joined_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
                discussion_count=4,
                comment_count=9,
                email="ada@example.org",
                is_full=True,
            ),
        ),
        (
            '{"username": "bo", "joinTime": ""}',  # a join time Flarum left empty
            User(
                id="3", username="bo", display_name="bo", avatar_url=None, slug=None, is_full=True
            ),
        ),
    ],
)
def test_a_user_is_what_the_dataclass_makes(attributes: str, expected: User) -> None:
    made = user(resource(attributes))
    assert type(made) is User
    assert set(vars(made)) == {field.name for field in dataclasses.fields(User)}
    assert made == expected and hash(made) == hash(expected) and repr(made) == repr(expected)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.username = "other"  # type: ignore[misc]


def test_what_a_page_decodes_is_not_tracked_by_the_cycle_collector() -> None:
    text = (
        b'{"type": "discussions", "id": "5", "attributes": {"title": "T", "createdAt":'
        b' "2026-01-02T03:04:05+00:00"}, "relationships": {"user": {"data": {"type": "users",'
        b' "id": "3"}}, "tags": {"data": [{"type": "tags", "id": "1"}]}}}'
    )
    found = msgspec.json.decode(text, type=Resource)
    made = discussion(found)
    assert (made.id, made.author_id, made.tag_ids, made.relationships) == (
        "5",
        "3",
        ("1",),
        frozenset({"user", "tags"}),
    )
    assert made.first_post_id is None and made.post_ids is None  # not carried: not loaded
    linkage = found.relationships["user"].data
    for value in (found, found.relationships["user"], linkage, made):
        assert not gc.is_tracked(value)
