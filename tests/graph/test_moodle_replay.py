"""Whole queries through the gateway, answered by the recorded Moodle 4.5.6 site.

The gateway runs in process with its Moodle client's network replaced by `RecordedMoodle`: every
upstream request must be one the real site was recorded answering, for the user whose token the
query carries. The queries are the ones the recordings cover whole.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from graph.config import Settings
from graph.schema.ids import GlobalId
from graph.sources.moodle.settings import MoodleSettings
from graph.sources.sections import SourcesSettings
from tests.realworld import RecordedMoodle, gateway_over


class Replayed:
    def __init__(self, site: RecordedMoodle, client: httpx.AsyncClient) -> None:
        self.site = site
        self.client = client

    async def query(self, user: str, query: str) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql", json={"query": query}, headers={"X-Moodle-Token": user}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert self.site.missing == [], "the gateway asked what the real site was not asked"
        return body


@pytest.fixture
async def recorded() -> AsyncIterator[Replayed]:
    site = RecordedMoodle()
    settings = Settings(
        sources=SourcesSettings(moodle=MoodleSettings(url="http://moodle.test", cache_ttl_s=0))
    )
    async with gateway_over(settings, "moodle", site) as client:
        yield Replayed(site, client)


def course_id(number: int) -> str:
    return GlobalId("moodle", "Course", str(number)).encode()


CLASS_OVERVIEW = """{ courses(first: 10) { totalCount nodes { shortName category startDate visible
  assignments { name maxGrade grades { grade gradedAt } } } } }"""


async def test_a_teachers_class_overview(recorded: Replayed) -> None:
    """Findings 1-3 and 9 on the real site: grades answer (no `assignment` key needed), the
    site's front page is not a course, and "No grades found" reads nothing else."""
    body = await recorded.query("teacher1", CLASS_OVERVIEW)
    assert "errors" not in body
    courses = body["data"]["courses"]
    assert courses["totalCount"] == 3
    grades = {
        (c["shortName"], a["name"]): [g["grade"] for g in a["grades"]]
        for c in courses["nodes"]
        for a in c["assignments"]
    }
    assert grades == {
        ("MATH101", "Essay 1"): [85.0, 42.5, 70.0],
        ("MATH101", "Draft Work"): [],
        ("LIT210", "Poem"): [18.0],
        # teacher1 is a student in CODE301: their own grade, given by the administrator.
        ("CODE301", "Hello World"): [45.0],
    }
    assert {c["category"] for c in courses["nodes"]} == {"Category 1"}
    assert recorded.site.functions() == [
        "core_course_get_courses_by_field",
        "mod_assign_get_assignments",
        "mod_assign_get_grades",
        "mod_assign_get_submission_status",
    ]
    # The status call, which writes a "new" submission for its user, went for the caller's own
    # status in the one course where the caller is a student, and nowhere else.
    (status,) = [form for _, f, form in recorded.site.requests if f.endswith("submission_status")]
    assert status["assignid"] == "4" and "userid" not in status


async def test_a_students_dashboard(recorded: Replayed) -> None:
    """Finding 7: the enrolled-courses list names categories by id; the graph names them."""
    body = await recorded.query(
        "student1",
        """{ viewer { moodle { username fullName courses { totalCount nodes { shortName category } } } }
             courses { nodes { shortName assignments { name } } } }""",
    )
    assert "errors" not in body
    mine = body["data"]["viewer"]["moodle"]
    assert (mine["username"], mine["fullName"]) == ("student1", "Ada Costa")
    # The hidden course student1 is enrolled in is not listed (fact 12).
    assert {(c["shortName"], c["category"]) for c in mine["courses"]["nodes"]} == {
        ("MATH101", "Category 1"),
        ("LIT210", "Category 1"),
        ("CODE301", "Category 1"),
    }
    assignments = [a["name"] for c in body["data"]["courses"]["nodes"] for a in c["assignments"]]
    assert assignments == ["Essay 1", "Draft Work", "Poem", "Hello World"]


async def test_a_student_looks_up_a_visible_and_a_hidden_course(recorded: Replayed) -> None:
    """Finding 8: participants without other users' usernames, with their e-mail; a hidden
    course the student is enrolled in is refused on its own, the other answers."""
    body = await recorded.query(
        "student1",
        f"""{{ nodes(ids: ["{course_id(2)}", "{course_id(4)}"]) {{ ... on Course {{ shortName
             participants {{ totalCount nodes {{ fullName username email }} }} }} }} }}""",
    )
    math, hidden = body["data"]["nodes"]
    assert hidden is None
    (error,) = body["errors"]
    assert (error["path"], error["extensions"]["code"]) == (["nodes", 1], "FORBIDDEN")
    assert math["participants"]["totalCount"] == 7
    people = {p["fullName"]: p for p in math["participants"]["nodes"]}
    assert people["Ada Costa"]["username"] == "student1"
    assert people["Bea Abebe"] == {
        "fullName": "Bea Abebe",
        "username": None,
        "email": "student2@example.org",
    }


async def test_an_administrators_view(recorded: Replayed) -> None:
    """The administrator sees the hidden course, usernames, and costs two requests."""
    body = await recorded.query(
        "admin",
        f"""{{ courses {{ totalCount nodes {{ shortName visible }} }}
             nodes(ids: ["{course_id(2)}", "{course_id(4)}"]) {{ ... on Course {{ shortName
               participants {{ totalCount nodes {{ username }} }} }} }} }}""",
    )
    assert "errors" not in body
    assert [(c["shortName"], c["visible"]) for c in body["data"]["courses"]["nodes"]] == [
        ("MATH101", True),
        ("LIT210", True),
        ("HID300", False),
        ("CODE301", True),
    ]
    math, hidden = body["data"]["nodes"]
    assert [p["username"] for p in hidden["participants"]["nodes"]] == ["student1"]
    assert "teacher2" in [p["username"] for p in math["participants"]["nodes"]]
    assert len(recorded.site.requests) == 2


async def test_an_outsider_gets_no_dates_and_no_visibility(recorded: Replayed) -> None:
    body = await recorded.query(
        "outsider", "{ courses { nodes { shortName visible startDate endDate category } } }"
    )
    assert "errors" not in body
    nodes = body["data"]["courses"]["nodes"]
    assert [c["shortName"] for c in nodes] == ["MATH101", "LIT210", "CODE301"]
    assert {(c["visible"], c["startDate"], c["endDate"]) for c in nodes} == {(None, None, None)}


async def test_a_deleted_course_is_not_found_and_the_rest_answers(recorded: Replayed) -> None:
    """Finding 4: `field=ids` with an unknown id fails whole on 4.5.6."""
    body = await recorded.query(
        "teacher1",
        f'{{ courses {{ totalCount }} course(id: "{course_id(99999)}") {{ shortName }} }}',
    )
    assert body["data"] == {"courses": {"totalCount": 3}, "course": None}
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "NOT_FOUND"


async def test_a_bad_token_is_unauthenticated(recorded: Replayed) -> None:
    body = await recorded.query("badtoken", "{ viewer { moodle { fullName } } }")
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
