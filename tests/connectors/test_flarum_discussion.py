"""A Flarum discussion and post decoded straight from their JSON:API resources into
`models.Discussion` and `models.Post`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest

from connectors.errors import ProtocolError
from connectors.flarum import Discussion, in_discussion
from connectors.flarum.convert import discussion, post, related
from connectors.flarum.jsonapi import Resource


def resource(attributes: dict[str, Any], **relationships: Any) -> Resource:
    body = {"type": "discussions", "id": "7", "attributes": attributes}
    if relationships:
        body["relationships"] = {name: {"data": data} for name, data in relationships.items()}
    return msgspec.json.decode(json.dumps(body).encode(), type=Resource)


WHOLE = {
    "title": "Food bank",
    "slug": "7-food-bank",
    "commentCount": 3,
    "participantCount": 2,
    "createdAt": "2024-05-01T10:00:00+00:00",
    "lastPostedAt": "2024-05-02T11:30:00+00:00",
    "isLocked": True,
    "isSticky": False,
    "canReply": True,
}


def test_attributes_and_relationships_make_the_discussion() -> None:
    found = discussion(
        resource(
            WHOLE,
            user={"type": "users", "id": "2"},
            tags=[{"type": "tags", "id": "1"}, {"type": "tags", "id": "4"}],
            firstPost={"type": "posts", "id": "30"},
        )
    )
    assert found == Discussion(
        id="7",
        title="Food bank",
        slug="7-food-bank",
        comment_count=3,
        created_at=datetime(2024, 5, 1, 10, tzinfo=UTC),
        last_posted_at=datetime(2024, 5, 2, 11, 30, tzinfo=UTC),
        is_locked=True,
        is_sticky=False,
        is_hidden=False,
        author_id="2",
        tag_ids=("1", "4"),
        first_post_id="30",
        post_ids=None,
        relationships=frozenset({"user", "tags", "firstPost"}),
    )
    with pytest.raises(AttributeError):
        found.title = "changed"  # type: ignore[misc]


def test_what_the_resource_leaves_out_is_unknown_not_empty() -> None:
    found = discussion(resource({"title": "Quiet", "createdAt": WHOLE["createdAt"]}))
    assert found.slug == "7"  # Flarum sent none: the id stands in
    assert (found.comment_count, found.last_posted_at) == (0, None)
    assert (found.author_id, found.tag_ids, found.first_post_id) == (None, None, None)
    assert found.relationships == frozenset()


def test_dates_are_read_in_utc() -> None:
    found = discussion(
        resource(
            {
                "title": "Elsewhere",
                "createdAt": "2024-05-01T12:00:00+02:00",
                "lastPostedAt": "2024-05-01T10:00:00",
            }
        )
    )
    assert found.created_at == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert found.created_at.utcoffset() == timedelta(0)
    assert found.last_posted_at == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert found.last_posted_at is not None and found.last_posted_at.tzinfo is UTC


def test_a_discussion_without_created_at_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="discussions 7 without createdAt"):
        discussion(resource({"title": "Partial", "slug": "7-partial"}))
    with pytest.raises(ProtocolError, match="unlike its protocol"):
        discussion(resource({**WHOLE, "commentCount": "many"}))
    with pytest.raises(ProtocolError):
        discussion(resource({**WHOLE, "createdAt": "yesterday"}))


def test_related_leaves_a_partial_discussion_out_and_refuses_a_broken_whole_one() -> None:
    partial = resource({"title": "After a reply", "slug": "7-after", "isApproved": True})
    whole = resource(WHOLE)
    assert related([partial]).discussions == {}
    assert related([whole]).discussions == {"7": discussion(whole)}
    with pytest.raises(ProtocolError):
        related([resource({**WHOLE, "title": None})])


def post_resource(attributes: dict[str, Any], **relationships: Any) -> Resource:
    body = {"type": "posts", "id": "30", "attributes": attributes}
    if relationships:
        body["relationships"] = {name: {"data": data} for name, data in relationships.items()}
    return msgspec.json.decode(json.dumps(body).encode(), type=Resource)


COMMENT = {
    "number": 1,
    "createdAt": "2024-05-01T10:00:00+00:00",
    "contentType": "comment",
    "contentHtml": "<p>Hello</p>",
    "content": "Hello",
    "editedAt": None,
    "isHidden": False,
    "canEdit": True,
}


def test_a_post_is_decoded_straight_into_its_model() -> None:
    found = post(post_resource(COMMENT, user={"type": "users", "id": "2"}))
    assert (found.id, found.number, found.content_type) == ("30", 1, "comment")
    assert (found.content_html, found.content, found.event) == ("<p>Hello</p>", "Hello", None)
    assert found.created_at == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert (found.author_id, found.discussion_id) == ("2", None)
    assert found.relationships == frozenset({"user"})
    assert found.is_full
    moved = in_discussion(found, "7")
    assert (moved.discussion_id, moved.content, moved.author_id) == ("7", "Hello", "2")


def test_an_event_post_carries_what_happened_and_no_text() -> None:
    renamed = {**COMMENT, "contentType": "discussionRenamed", "content": ["Old", "New"]}
    found = post(post_resource(renamed))
    assert (found.content, found.event) == (None, ["Old", "New"])
    assert post(post_resource({**COMMENT, "content": None})).event is None


def test_the_short_form_of_a_post_is_not_full_and_a_partial_one_is_left_out() -> None:
    short = {k: v for k, v in COMMENT.items() if k not in ("content", "editedAt", "canEdit")}
    found = post(post_resource(short))
    assert not found.is_full and found.content is None
    partial = post_resource({"number": 2, "contentType": "comment"})
    assert related([partial]).posts == {}
    with pytest.raises(ProtocolError, match="posts 30 without createdAt"):
        post(partial)
    with pytest.raises(ProtocolError):
        related([post_resource({**COMMENT, "number": "first"})])
