"""Issue 27 through the gateway, replayed from a real Moodle 4.5.6: what teachers came for
(activity completion, extensions, messages), as each role, with its upstream cost.

The site is the rebuilt 4.5.6 of `tests/recordings/moodle-4.5.6/issue27.jsonl` (its data by
`setup/makedata_issue27.php`): each function's calls per role, then the gateway's own calls for
the operations of `graph27.jsonl` (`setup/record_issue27_graph.py`), whose answers and costs
`test_the_recorded_operations_answer_as_on_the_real_site` compares.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from graph.config import Settings
from graph.schema.ids import GlobalId
from graph.sources.moodle.settings import MoodleSettings
from graph.sources.sections import SourcesSettings
from tests.realworld import MULTICALL, RecordedMoodle, corpus, gateway_over

RECORDING = "issue27.jsonl"
STATUS = "core_completion_get_activities_completion_status"
SEND = "core_message_send_instant_messages"


class Replayed:
    def __init__(self, site: RecordedMoodle, client: httpx.AsyncClient) -> None:
        self.site = site
        self.client = client

    async def query(
        self, user: str, query: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        self.site.requests.clear()
        response = await self.client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"X-Moodle-Token": user},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert self.site.missing == [], "the gateway asked what the real site was not asked"
        return body

    def requests(self) -> int:
        return len(self.site.requests)


@pytest.fixture
async def recorded() -> AsyncIterator[Replayed]:
    site = RecordedMoodle(RECORDING)
    settings = Settings(
        sources=SourcesSettings(moodle=MoodleSettings(url="http://moodle.test", cache_ttl_s=0))
    )
    async with gateway_over(settings, "moodle", site) as client:
        yield Replayed(site, client)


def gid(type_name: str, upstream_id: str) -> str:
    return GlobalId("moodle", type_name, upstream_id).encode()


MATH = gid("Course", "2")
ESSAY = gid("Activity", "2:1")


async def test_learners_who_have_not_completed_an_activity_and_have_no_extension(
    recorded: Replayed,
) -> None:
    """The playground example (`learners-behind.graphql`) as the editing teacher: Essay 1 is
    complete on a grade; student2 has none but has an extension, student5 has neither."""
    body = await recorded.query(
        "teacher1",
        f"""{{ course(id: "{MATH}") {{ shortName activity(id: "{ESSAY}") {{
                 name kind completionTracking
                 behind: completions(completed: false, hasExtension: false) {{
                   learner {{ fullName }} completion {{ state }} extensionDueDate }}
                 extended: completions(completed: false, hasExtension: true) {{
                   learner {{ fullName }} extensionDueDate }} }} }} }}""",
    )
    assert "errors" not in body, body["errors"]
    activity = body["data"]["course"]["activity"]
    assert activity["name"] == "Essay 1" and activity["kind"] == "assign"
    assert activity["completionTracking"] == "AUTOMATIC"
    assert activity["behind"] == [
        {
            "learner": {"fullName": "Ed Fox"},
            "completion": {"state": "INCOMPLETE"},
            "extensionDueDate": None,
        }
    ]
    assert activity["extended"] == [
        {"learner": {"fullName": "Bea Abebe"}, "extensionDueDate": "2026-12-20T22:00:06+00:00"}
    ]
    # The course, its activities, its participants, one multi-call for the class's activity
    # completion, the assignment's user flags: five requests, however many learners.
    assert recorded.requests() == 5
    functions = recorded.site.functions()
    assert functions.count(MULTICALL) == 1 and functions.count("  " + STATUS) == 5
    assert "mod_assign_get_user_flags" in functions


async def test_a_learner_s_activities_name_their_states(recorded: Replayed) -> None:
    body = await recorded.query(
        "teacher2",
        f"""{{ course(id: "{MATH}") {{ activityCompletions(userId: "{gid("MoodleUser", "6")}") {{
                 state completed tracking activity {{ name visible }} }} }} }}""",
    )
    assert "errors" not in body, body["errors"]
    assert body["data"]["course"]["activityCompletions"] == [
        {"state": "INCOMPLETE", "completed": False, "tracking": "AUTOMATIC",
         "activity": {"name": "Essay 1", "visible": True}},
        {"state": "COMPLETE", "completed": True, "tracking": "MANUAL",
         "activity": {"name": "Reading 1", "visible": True}},
        {"state": "INCOMPLETE", "completed": False, "tracking": "MANUAL",
         "activity": {"name": "Answers", "visible": False}},
        {"state": "COMPLETE_FAIL", "completed": False, "tracking": "AUTOMATIC",
         "activity": {"name": "Lab Report", "visible": True}},
        {"state": "INCOMPLETE", "completed": False, "tracking": "AUTOMATIC",
         "activity": {"name": "Group Project", "visible": True}},
    ]  # fmt: skip


async def test_a_learner_reads_their_own_and_not_a_classmate_s(recorded: Replayed) -> None:
    own = gid("MoodleUser", "5")
    classmate = gid("MoodleUser", "6")
    body = await recorded.query(
        "student1",
        f"""{{ course(id: "{MATH}") {{
                 mine: activityCompletions(userId: "{own}") {{ state activity {{ name }} }}
                 theirs: activityCompletions(userId: "{classmate}") {{ state }} }} }}""",
    )
    course = body["data"]["course"]
    assert [c["activity"]["name"] for c in course["mine"]] == [
        "Essay 1", "Reading 1", "Lab Report", "Group Project"
    ]  # fmt: skip
    assert course["mine"][2]["state"] == "COMPLETE_PASS"
    assert course["theirs"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]


async def test_user_flags_on_an_assignment_and_a_submission(recorded: Replayed) -> None:
    body = await recorded.query(
        "teacher1",
        f"""{{ course(id: "{MATH}") {{ activity(id: "{gid("Activity", "2:8")}") {{
                 assignment {{ name userFlags {{ user {{ fullName }} extensionDueDate
                   workflowState allocatedMarker {{ fullName }} }} }} }} }} }}""",
    )
    assert "errors" not in body, body["errors"]
    assignment = body["data"]["course"]["activity"]["assignment"]
    assert assignment["name"] == "Group Project"
    assert assignment["userFlags"] == [
        {"user": {"fullName": "Bea Abebe"}, "extensionDueDate": "2026-12-26T22:29:56+00:00",
         "workflowState": None, "allocatedMarker": None},
        {"user": {"fullName": "Cy Dorn"}, "extensionDueDate": None,
         "workflowState": "inmarking", "allocatedMarker": {"fullName": "Noel Noneditor"}},
    ]  # fmt: skip


async def test_message_them(recorded: Replayed) -> None:
    """A learner's message to five users, one a call in one multi-call: sent to a classmate;
    refused for one blocking the sender, one taking contacts only, one sharing no course;
    no such user for the last."""
    to = ", ".join(f'"{gid("MoodleUser", str(u))}"' for u in (6, 7, 8, 11, 99999))
    body = await recorded.query(
        "student1",
        f"""mutation {{ sendMessage(to: [{to}], text: "Please finish Essay 1 this week.") {{
                 sentCount deliveries {{ sent messageId refusal reason }} }} }}""",
    )
    assert "errors" not in body, body["errors"]
    sent = body["data"]["sendMessage"]
    assert sent["sentCount"] == 1
    assert [(d["sent"], d["messageId"], d["refusal"]) for d in sent["deliveries"]] == [
        (True, "11", None),
        (False, None, "RECIPIENT_PREFERENCES"),
        (False, None, "RECIPIENT_PREFERENCES"),
        (False, None, "RECIPIENT_PREFERENCES"),
        (False, None, "NO_SUCH_USER"),
    ]
    assert recorded.requests() == 1
    assert recorded.site.functions() == [MULTICALL] + ["  " + SEND] * 5


async def test_the_same_recipient_twice_gets_one_message(recorded: Replayed) -> None:
    learner = gid("MoodleUser", "8")
    body = await recorded.query(
        "teacher2",
        f"""mutation {{ sendMessage(to: ["{learner}", "{learner}"],
                 text: "Please finish Essay 1 this week.") {{ sentCount }} }}""",
    )
    assert body["data"]["sendMessage"]["sentCount"] == 1
    assert recorded.site.functions() == [SEND]


OPERATIONS = [
    json.loads(line)
    for line in (corpus("moodle-4.5.6") / "graph27.jsonl").read_text().splitlines()
    if line.strip()
]


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda o: f"{o['user']}: {o['case']}")
async def test_the_recorded_operations_answer_as_on_the_real_site(
    recorded: Replayed, operation: dict[str, Any]
) -> None:
    """Each operation recorded through the gateway on the real site answers the same over its
    recorded calls, with the same upstream cost."""
    body = await recorded.query(operation["user"], operation["query"], operation["variables"])
    assert body.get("data") == operation["answer"].get("data")
    assert codes(body) == codes(operation["answer"])
    assert recorded.requests() == operation["requests"]
    assert sorted(f for _, f, _ in recorded.site.requests) == sorted(operation["calls"])


def codes(body: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    return sorted((tuple(e["path"]), e["extensions"]["code"]) for e in body.get("errors", []))
