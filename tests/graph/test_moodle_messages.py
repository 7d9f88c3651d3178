"""What teachers came for (issue 27), end to end over the Moodle simulator: the learners behind
on an activity without an extension, then a message to them, sent once however often the app
retries with its Idempotency-Key; and Moodle's refusals per recipient."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from graph.schema.ids import GlobalId
from simulators.world import World
from tests.conftest import Gateway, Simulator, moodle_login, running_gateway, running_moodle

SEND = """mutation($to: [ID!]!, $text: String!) { sendMessage(to: $to, text: $text) {
  sentCount deliveries { recipientId sent refusal reason } } }"""


@pytest.fixture
def site(world: World) -> Iterator[Simulator]:
    with running_moodle(world) as simulator:
        yield simulator


@pytest.fixture
def gateway(flarum: Simulator, site: Simulator) -> Iterator[Gateway]:
    with running_gateway(flarum.url, site.url) as running:
        yield running


def gid(type_name: str, upstream_id: int | str) -> str:
    return GlobalId("moodle", type_name, str(upstream_id)).encode()


def teacher_of(site: Simulator, course: int) -> tuple[str, int]:
    row = site.app.state.store.one(
        "SELECT u.username, u.id FROM enrolments e JOIN users u ON u.id = e.userid"
        " WHERE e.courseid = ? AND e.role = 'editingteacher' ORDER BY u.id LIMIT 1",
        (course,),
    )
    return str(row["username"]), int(row["id"])


def post(gateway: Gateway, token: str, body: dict[str, Any], **headers: str) -> httpx.Response:
    return httpx.post(
        f"{gateway.url}/graphql",
        json=body,
        headers={"X-Moodle-Token": token, "X-Legacygraph-Trace": "1", **headers},
        timeout=30,
    )


def test_the_learners_behind_then_a_message_to_them_sent_once(
    gateway: Gateway, site: Simulator
) -> None:
    store = site.app.state.store
    assignment = store.one("SELECT * FROM assignments ORDER BY id LIMIT 1")
    course = int(assignment["course"])
    username, _ = teacher_of(site, course)
    token = moodle_login(site.url, username)
    behind = post(
        gateway,
        token,
        {
            "query": """query($course: ID!, $activity: ID!) { course(id: $course) {
                activity(id: $activity) { name
                  completions(completed: false, hasExtension: false) { learner { id } }
                  extended: completions(completed: false, hasExtension: true) {
                    learner { id } extensionDueDate } } } }""",
            "variables": {
                "course": gid("Course", course),
                "activity": gid("Activity", f"{course}:{assignment['cmid']}"),
            },
        },
    ).json()
    assert "errors" not in behind, behind["errors"]
    activity = behind["data"]["course"]["activity"]
    assert activity["name"] == assignment["name"]
    ungraded = {
        int(r["userid"])
        for r in store.all(
            "SELECT e.userid FROM enrolments e WHERE e.courseid = ? AND e.role = 'student'"
            " AND NOT EXISTS (SELECT 1 FROM grades g WHERE g.assignment = ?"
            " AND g.userid = e.userid)",
            (course, assignment["id"]),
        )
    }
    extended = {GlobalId.decode(r["learner"]["id"]).upstream_id for r in activity["extended"]}
    listed = {GlobalId.decode(r["learner"]["id"]).upstream_id for r in activity["completions"]}
    assert len(extended) == 1 and extended | listed == {str(u) for u in ungraded}
    assert not extended & listed
    # The course, its activities, its participants, the class's completion, the user flags.
    assert behind["extensions"]["upstream"]["moodle"]["requests"] == 5

    to = [r["learner"]["id"] for r in activity["completions"]]
    body = {"query": SEND, "variables": {"to": to, "text": "Please finish this week."}}
    before = store.scalar("SELECT COUNT(*) FROM messages")
    first = post(gateway, token, body, **{"Idempotency-Key": "follow-up-1"})
    again = post(gateway, token, body, **{"Idempotency-Key": "follow-up-1"})
    assert first.json()["data"]["sendMessage"]["sentCount"] == len(to)
    assert again.json()["data"] == first.json()["data"]
    assert again.headers.get("idempotent-replayed") == "true"
    assert store.scalar("SELECT COUNT(*) FROM messages") == before + len(to)


def test_refusals_come_per_recipient(gateway: Gateway, site: Simulator) -> None:
    store = site.app.state.store
    course = int(store.scalar("SELECT course FROM assignments ORDER BY id LIMIT 1"))
    learners = [
        int(r["userid"])
        for r in store.all(
            "SELECT e.userid FROM enrolments e JOIN users u ON u.id = e.userid"
            " WHERE e.courseid = ? AND e.role = 'student' AND u.is_admin = 0"
            " AND NOT EXISTS (SELECT 1 FROM enrolments t WHERE t.userid = e.userid"
            " AND t.role != 'student') ORDER BY e.userid",
            (course,),
        )
    ]
    sender, blocker, picky = learners[:3]
    username = store.scalar("SELECT username FROM users WHERE id = ?", (sender,))
    store.block(blocker, sender)
    store.take_messages_from_contacts_only(picky)
    to = [gid("MoodleUser", u) for u in (blocker, picky, 99999)]
    answer = post(
        gateway,
        moodle_login(site.url, username),
        {"query": SEND, "variables": {"to": to, "text": "Hello"}},
    ).json()
    deliveries = answer["data"]["sendMessage"]["deliveries"]
    assert [(d["sent"], d["refusal"]) for d in deliveries] == [
        (False, "RECIPIENT_PREFERENCES"),
        (False, "RECIPIENT_PREFERENCES"),
        (False, "NO_SUCH_USER"),
    ]
    assert answer["extensions"]["upstream"]["moodle"]["requests"] == 1
    store.messaging = False
    try:
        off = post(
            gateway,
            moodle_login(site.url, username),
            {"query": SEND, "variables": {"to": to[:2], "text": "Hello"}},
        ).json()
    finally:
        store.messaging = True
    assert [d["refusal"] for d in off["data"]["sendMessage"]["deliveries"]] == [
        "MESSAGING_DISABLED",
        "MESSAGING_DISABLED",
    ]


def test_no_recipient_and_an_empty_text_are_bad_input(gateway: Gateway, site: Simulator) -> None:
    username, _ = teacher_of(site, 2)
    token = moodle_login(site.url, username)
    for variables in ({"to": [], "text": "Hello"}, {"to": [gid("MoodleUser", 3)], "text": " "}):
        answer = post(gateway, token, {"query": SEND, "variables": variables}).json()
        assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
