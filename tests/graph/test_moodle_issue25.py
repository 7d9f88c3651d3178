"""Issue 25's Moodle findings, replayed from a rebuilt real Moodle 4.5.6
(`tests/recordings/moodle-4.5.6/issue25.jsonl`, recorded through the gateway as it is now,
and as it was before for the cases marked "before the fix").

That site was fresh: its rows of `mdl_assign_submission` were 1-7 of the first corpus, and the
recorded reads added 8 (student1, assignment 2), 9 (student2, assignment 3, by the classmate
lookup before the fix), 10 (student1, assignment 4) and 11 (student6, assignment 3).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from graph.config import Settings
from graph.schema.ids import GlobalId
from graph.sources.moodle.settings import MoodleSettings
from graph.sources.sections import SourcesSettings
from simulators.moodle import moodle_user_id
from simulators.world import World
from tests.conftest import Gateway, Simulator, moodle_login, running_gateway, running_moodle
from tests.realworld import MULTICALL, RecordedMoodle, exchanges, gateway_over

RECORDING = "issue25.jsonl"


class Replayed:
    def __init__(self, site: RecordedMoodle, client: httpx.AsyncClient) -> None:
        self.site = site
        self.client = client

    async def query(self, user: str, query: str) -> dict[str, Any]:
        self.site.requests.clear()
        response = await self.client.post(
            "/graphql", json={"query": query}, headers={"X-Moodle-Token": user}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert self.site.missing == [], "the gateway asked what the real site was not asked"
        return body

    def functions(self) -> list[str]:
        return [function for _, function, _ in self.site.requests]


class Held(RecordedMoodle):
    """The recorded site, holding back the answers of `function` until `after` has been
    answered and the gateway has run on that answer: the order in which concurrent answers
    arrive is the test's choice, not the event loop's."""

    def __init__(self, function: str, after: str) -> None:
        super().__init__(RECORDING, in_order=True)
        self.held = function
        self.after = after
        self.released = asyncio.Event()

    async def handle(self, request: httpx.Request) -> httpx.Response:
        content = request.content.decode()
        if self.held in content:
            await self.released.wait()
            for _ in range(200):  # and the gateway's resolvers run on the other answer first
                await asyncio.sleep(0)
        response = self(request)
        if self.after in content:
            self.released.set()
        return response


@pytest.fixture
async def recorded() -> AsyncIterator[Replayed]:
    async with replaying(RecordedMoodle(RECORDING, in_order=True)) as replayed:
        yield replayed


def replaying(site: RecordedMoodle, handler: Any = None) -> Any:
    settings = Settings(
        sources=SourcesSettings(moodle=MoodleSettings(url="http://moodle.test", cache_ttl_s=0))
    )

    class Opened:
        async def __aenter__(self) -> Replayed:
            self._context = gateway_over(settings, "moodle", handler or site)
            return Replayed(site, await self._context.__aenter__())

        async def __aexit__(self, *exc: object) -> None:
            await self._context.__aexit__(*exc)

    return Opened()


def gid(type_name: str, upstream_id: str) -> str:
    return GlobalId("moodle", type_name, upstream_id).encode()


def codes(body: dict[str, Any]) -> dict[tuple[str | int, ...], str]:
    return {tuple(e["path"]): e["extensions"]["code"] for e in body.get("errors", [])}


async def test_m1_the_site_course_is_no_course(recorded: Replayed) -> None:
    body = await recorded.query(
        "admin",
        f"""{{ course(id: "{gid("Course", "1")}") {{ shortName }}
             nodes(ids: ["{gid("Course", "1")}", "{gid("Course", "2")}"]) {{
               ... on Course {{ shortName }} }} }}""",
    )
    assert body["data"] == {"course": None, "nodes": [None, {"shortName": "MATH101"}]}
    assert codes(body) == {("course",): "NOT_FOUND", ("nodes", 0): "NOT_FOUND"}
    assert {e["message"] for e in body["errors"]} == {
        "Moodle's course 1 is the site's front page, not a course"
    }
    # Moodle answered the front page as a course (format `site`): one request for both.
    (listed,) = [e for e in exchanges("moodle-4.5.6", RECORDING) if e["case"].startswith("M1")][:1]
    assert listed["body"]["courses"][0]["format"] == "site"
    assert recorded.functions() == ["core_course_get_courses_by_field"]
    body = await recorded.query("student1", f'{{ course(id: "{gid("Course", "1")}") {{ id }} }}')
    assert codes(body) == {("course",): "NOT_FOUND"}


async def test_m2_a_classmates_submission_is_not_found_without_the_status_call(
    recorded: Replayed,
) -> None:
    """The status function writes a `new` row for the caller: a lookup of someone else's
    submission or grade never calls it (recorded: no row was added on the real site)."""
    body = await recorded.query(
        "student1",
        f"""{{ s: node(id: "{gid("Submission", "4:3")}") {{ id }}
             g: node(id: "{gid("Grade", "4:3")}") {{ id }} }}""",
    )
    assert body["data"] == {"s": None, "g": None}
    assert codes(body) == {("s",): "NOT_FOUND", ("g",): "NOT_FOUND"}
    assert sorted(recorded.functions()) == [
        "core_webservice_get_site_info",  # who the caller is: not user 3
        "mod_assign_get_grades",
        "mod_assign_get_submissions",
    ]


async def test_m2_ones_own_submission_by_id_comes_from_the_status_call(
    recorded: Replayed,
) -> None:
    body = await recorded.query(
        "student6",
        f'{{ node(id: "{gid("Submission", "3:10")}") {{ ... on Submission {{ status upstreamId }} }} }}',
    )
    assert body == {"data": {"node": {"status": "new", "upstreamId": "11"}}}
    # Replayed from the first: Moodle's first answer had no submission, the second row 11.
    statuses = [form for _, f, form in recorded.site.requests if f.endswith("submission_status")]
    assert [(s["assignid"], "userid" in s) for s in statuses] == [("3", False), ("3", False)]


async def test_m3_the_first_read_shows_the_row_moodle_made(recorded: Replayed) -> None:
    """Moodle's first status answer had an attempt and no submission (the row is added after
    it reads); the gateway asks once more for those and shows the row in the same answer."""
    body = await recorded.query(
        "student1",
        """{ courses { nodes { shortName assignments { name
             submissions { status upstreamId user { fullName } } grades { grade } } } } }""",
    )
    assert "errors" not in body
    mine = {
        a["name"]: [(s["status"], s["upstreamId"]) for s in a["submissions"]]
        for c in body["data"]["courses"]["nodes"]
        for a in c["assignments"]
    }
    assert mine == {
        "Essay 1": [("submitted", "1")],
        "Draft Work": [("new", "8")],
        "Poem": [("submitted", "5")],
        "Hello World": [("new", "10")],
    }
    first = next(
        e
        for e in exchanges("moodle-4.5.6", RECORDING)
        if e["case"].startswith("M3: a student's first read of their own submissions")
        and e["function"] == MULTICALL
    )
    hello_world = first["decoded_responses"][3]["data"]
    assert "lastattempt" in hello_world and "submission" not in hello_world["lastattempt"]
    statuses = [f for f in recorded.functions() if f.endswith("submission_status")]
    assert statuses == ["mod_assign_get_submission_status"]  # assignment 4 again, alone


COMPLETIONS = """{ courses { nodes { shortName
  done: completions(completed: true) { learner { fullName } completion { completed } }
  open: completions(completed: false) { learner { fullName } completion { completed } } } } }"""


async def test_m4_m5_unknown_is_not_completed_and_a_course_refusal_is_learned_once(
    recorded: Replayed,
) -> None:
    body = await recorded.query("admin", COMPLETIONS)
    courses = {c["shortName"]: c for c in body["data"]["courses"]["nodes"]}
    done = {name: [r["learner"]["fullName"] for r in c["done"]] for name, c in courses.items()}
    assert done == {"MATH101": ["Ada Costa"], "LIT210": [], "HID300": [], "CODE301": []}
    assert [len(courses[name]["open"]) for name in courses] == [4, 3, 1, 2]
    upstream = {
        ("LIT210", "nocriteriaset"),  # no criteria
        ("HID300", "cannotviewreport"),  # completion switched off
        ("CODE301", "cannotviewreport"),
    }
    names = list(courses)
    found = {(names[e["path"][2]], e["extensions"]["upstreamCode"]) for e in body["errors"]}
    assert found == upstream
    # The courses, the participants, one multi-call per course that refuses (Moodle stops
    # a multi-call at its first failure) and who the caller is: never one per learner.
    assert recorded.functions() == [
        "core_course_get_courses_by_field",
        MULTICALL,
        MULTICALL,
        MULTICALL,
        "core_webservice_get_site_info",
        MULTICALL,
    ]


FLAGSHIP = """{ courses(first: 2) { totalCount nodes { shortName participants(role: STUDENT) {
  totalCount } assignments { name grades { grade user { fullName } } } } } }"""


async def test_m6_the_administrators_overview_costs_five_whatever_answers_first() -> None:
    """Before the fix it cost six when the participants came back after the grades (the
    grades' users were asked for by id); recorded in `before the fix: admin class overview
    run 1`. The users now wait for the participant lists of the same request."""
    before = [
        e["function"]
        for e in exchanges("moodle-4.5.6", RECORDING)
        if e["case"] == "before the fix: admin class overview run 1"
    ]
    assert before[-1] == "core_user_get_users_by_field" and len(before) == 6
    counts = []
    for order in ("as it comes", "participants last", "participants last", "as it comes"):
        site: RecordedMoodle
        if order == "participants last":
            held = Held(MULTICALL, after="mod_assign_get_grades")
            site, handler = held, held.handle
        else:
            site, handler = RecordedMoodle(RECORDING, in_order=True), None
        async with replaying(site, handler) as replayed:
            body = await replayed.query("admin", FLAGSHIP)
            assert "errors" not in body
            assert "core_user_get_users_by_field" not in replayed.functions()
            counts.append(len(replayed.site.requests))
    assert counts == [5, 5, 5, 5]


async def test_m6_an_assignment_with_its_users_and_graders_asks_for_users_once() -> None:
    query = f"""{{ node(id: "{gid("Assignment", "1")}") {{ ... on Assignment {{ name
      submissions {{ status user {{ fullName }} }}
      grades {{ grade user {{ fullName }} grader {{ fullName }} }} }} }} }}"""
    for held in ("mod_assign_get_grades", "mod_assign_get_submissions"):
        other = "mod_assign_get_submissions" if held.endswith("grades") else "mod_assign_get_grades"
        site = Held(held, after=other)
        async with replaying(site, site.handle) as replayed:
            body = await replayed.query("teacher1", query)
            assert "errors" not in body
            graders = {g["grader"]["fullName"] for g in body["data"]["node"]["grades"]}
            assert graders == {"Tara Teach", "Noel Noneditor"}
            assert replayed.functions().count("core_user_get_users_by_field") == 1
            assert len(replayed.site.requests) == 4


@pytest.mark.parametrize("type_name", ["Submission", "Grade"])
async def test_m7_an_id_of_the_earlier_form_says_which_form(
    recorded: Replayed, type_name: str
) -> None:
    body = await recorded.query("student1", f'{{ node(id: "{gid(type_name, "5")}") {{ id }} }}')
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "names the assignment and the user, as in '12:34'" in error["message"]
    assert "earlier form" in error["message"]
    assert recorded.site.requests == []


# Against the simulator, which keeps the recorded fact: the status call adds a `new` row.


def test_m2_a_classmate_lookup_adds_no_row_and_ones_own_read_shows_it(
    school: Gateway, moodle: Simulator, world: World
) -> None:
    store = moodle.app.state.store
    course = next(c.id for c in world.courses if c.visible)
    students = [
        e.person_id for e in world.enrolments if e.course_id == course and e.role == "student"
    ]
    student, classmate = (next(p for p in world.people if p.id == i) for i in students[:2])
    assignment = next(a.id for a in world.assignments if a.course_id == course)
    store.execute("DELETE FROM submissions WHERE assignment = ?", (assignment,))
    store.execute("DELETE FROM grades WHERE assignment = ?", (assignment,))
    headers = {"X-Moodle-Token": moodle_login(moodle.url, student.username)}
    theirs = gid("Submission", f"{assignment}:{moodle_user_id(classmate.id)}")
    body = school.query(f'{{ node(id: "{theirs}") {{ id }} }}', **headers)
    assert codes(body) == {("node",): "NOT_FOUND"}
    rows = "SELECT userid, status FROM submissions WHERE assignment = ?"
    assert store.all(rows, (assignment,)) == []
    mine = gid("Submission", f"{assignment}:{moodle_user_id(student.id)}")
    body = school.query(f'{{ node(id: "{mine}") {{ ... on Submission {{ status }} }} }}', **headers)
    assert body == {"data": {"node": {"status": "new"}}}
    assert [tuple(r) for r in store.all(rows, (assignment,))] == [
        (moodle_user_id(student.id), "new")
    ]


DASHBOARD = """{ viewer { moodle { fullName courses { nodes { shortName category } } } }
  courses { nodes { shortName assignments { name dueDate submissions { status } grades { grade } } } } }"""


@pytest.mark.parametrize("order", ["as it comes", "course list last"])
async def test_m6_a_students_dashboard_costs_eight_whatever_answers_first(order: str) -> None:
    """The viewer's courses name their categories by id; the course list of the same query
    names them, and a lookup by id waits for it instead of asking Moodle."""
    if order == "course list last":
        held = Held("core_course_get_courses_by_field", after="core_enrol_get_users_courses")
        site, handler = held, held.handle
    else:
        site, handler = RecordedMoodle(RECORDING, in_order=True), None
    # Past the site's first read of student1's statuses (M3): Hello World has its row now.
    first = next(
        e
        for e in exchanges("moodle-4.5.6", RECORDING)
        if e["case"].startswith("M3: a student's first read") and e["function"] == MULTICALL
    )
    reserved = {"wsfunction", "moodlewsrestformat"}
    site.answer(
        "student1",
        MULTICALL,
        frozenset((k, v) for k, v in first["params"].items() if k not in reserved),
    )
    async with replaying(site, handler) as replayed:
        body = await replayed.query("student1", DASHBOARD)
        assert "errors" not in body
        mine = body["data"]["viewer"]["moodle"]["courses"]["nodes"]
        assert {c["category"] for c in mine} == {"Category 1"}
        # Who, their account, their courses; the course list, the assignments, the graded
        # lists (refused to a student) and the student's own statuses in one multi-call.
        assert sorted(replayed.functions()) == [
            "core_course_get_courses_by_field",
            "core_enrol_get_users_courses",
            "core_user_get_users_by_field",
            "core_webservice_get_site_info",
            "mod_assign_get_assignments",
            "mod_assign_get_grades",
            "mod_assign_get_submissions",
            MULTICALL,
        ]


def test_m5_a_course_refusal_costs_one_round_per_course(flarum: Simulator, world: World) -> None:
    """An administrator's completions where one course has no criteria and one has completion
    switched off: one multi-call for every learner, one more per refusing course, and who
    the caller is; every learner of those courses still has their own error."""
    no_criteria, switched_off = [c.id for c in world.courses if c.visible][:2]
    query = """{ courses(first: 50) { nodes { upstreamId
      completions { learner { id } completion { completed } } } } }"""
    with running_moodle(world) as moodle, running_gateway(flarum.url, moodle.url) as gateway:
        store = moodle.app.state.store
        store.execute("UPDATE courses SET criteria = 0 WHERE id = ?", (no_criteria,))
        store.execute("UPDATE courses SET enablecompletion = 0 WHERE id = ?", (switched_off,))
        token = moodle_login(moodle.url, world.admin.username)
        moodle.app.state.calls.reset()
        body = gateway.query(query, **{"X-Moodle-Token": token})
        calls = moodle.app.state.calls.snapshot()
    learners = {
        c: sum(e.course_id == c and e.role == "student" for e in world.enrolments)
        for c in (no_criteria, switched_off)
    }
    assert len(body["errors"]) == sum(learners.values())
    # The participants' multi-call, then the completions': all learners, then two rounds.
    assert calls[MULTICALL] == 1 + 3
    assert calls["core_webservice_get_site_info"] == 1
