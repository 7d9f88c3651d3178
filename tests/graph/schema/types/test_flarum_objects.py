"""Flarum's GraphQL objects made by `of()` without the dataclass `__init__`
(`graph/schema/types/flarum.py`) are the objects `__init__` makes, field for field."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors import flarum
from graph.schema.ids import GlobalId
from graph.schema.types.flarum import Discussion, FlarumUser

USER = flarum.User(
    id="7", username="ada", display_name="Ada L.", avatar_url="https://a/x.png", slug="ada"
)
DISCUSSION = flarum.Discussion(
    title="Engines",
    slug="7-engines",
    created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    comment_count=3,
    is_sticky=True,
    id="12",
)


@pytest.mark.parametrize(
    ("made", "upstream"), [(FlarumUser.of(USER), USER), (Discussion.of(DISCUSSION), DISCUSSION)]
)
def test_of_makes_what_the_dataclass_init_makes(made: Any, upstream: Any) -> None:
    cls = type(made)
    names = {field.name for field in dataclasses.fields(cls) if field.init}
    assert set(vars(made)) == names  # every field set, none more
    assert made == cls(**vars(made))
    assert made.data is upstream
    assert GlobalId.decode(made.id) == GlobalId("flarum", cls.__name__, upstream.id)


def test_the_objects_carry_the_upstream_values() -> None:
    user = FlarumUser.of(USER)
    assert (user.upstream_id, user.username, user.display_name, user.avatar_url) == (
        "7",
        "ada",
        "Ada L.",
        "https://a/x.png",
    )
    discussion = Discussion.of(DISCUSSION)
    assert (discussion.title, discussion.slug, discussion.comment_count) == (
        "Engines",
        "7-engines",
        3,
    )
    assert (discussion.is_sticky, discussion.is_locked, discussion.is_hidden) == (
        True,
        False,
        False,
    )
    assert discussion.created_at == DISCUSSION.created_at and discussion.last_posted_at is None
