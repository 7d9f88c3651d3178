"""The Moodle simulator states each fact of the real Moodle 4.5.6 (recorded in
`tests/recordings/moodle-4.5.6/`, numbered as in the notes kept with the real-site setup), one test
per fact, on the demo world's people and courses. Raw HTTP, no connector."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import httpx
import pytest

from simulators.moodle import moodle_user_id
from simulators.world import DEMO_PASSWORD, World
from tests.conftest import Simulator, moodle_login
from tests.realworld import exchanges

SERVER = "/webservice/rest/server.php"
NOT_ENROLLED = "User is not enrolled or does not have requested capability"


@dataclass
class School:
    """People and courses of the demo world in the roles the corpus recorded."""

    sim: Simulator
    world: World

    def token(self, username: str) -> str:
        return moodle_login(self.sim.url, username)

    def call(self, username: str | None, function: str, **arguments: Any) -> Any:
        form = {"wsfunction": function, "moodlewsrestformat": "json", **arguments}
        if username is not None:
            form["wstoken"] = self.token(username)
        return httpx.post(f"{self.sim.url}{SERVER}", data=form).json()

    def many(self, username: str, *calls: tuple[str, dict[str, Any]]) -> list[Any]:
        form: dict[str, str] = {}
        for index, (function, arguments) in enumerate(calls):
            form[f"requests[{index}][function]"] = function
            form[f"requests[{index}][arguments]"] = json.dumps(arguments)
        body = self.call(username, "tool_mobile_call_external_functions", **form)
        return [
            json.loads(r["data"]) if not r["error"] else {"error": json.loads(r["exception"])}
            for r in body["responses"]
        ]

    def username(self, person_id: int) -> str:
        return next(p.username for p in self.world.people if p.id == person_id)

    def members(self, course_id: int, role: str) -> list[int]:
        return sorted(
            e.person_id
            for e in self.world.enrolments
            if e.course_id == course_id and e.role == role
        )

    @cached_property
    def course(self) -> int:
        """A visible course whose teacher and students are not the administrator."""
        return next(
            c.id
            for c in self.world.courses
            if c.visible
            and self.world.admin.id not in self.members(c.id, "student")
            and self.world.admin.id not in self.members(c.id, "editingteacher")
        )

    @cached_property
    def hidden(self) -> int:
        return next(c.id for c in self.world.courses if not c.visible)

    @property
    def admin(self) -> str:
        return self.world.admin.username

    @property
    def teacher(self) -> str:
        return self.username(self.members(self.course, "editingteacher")[0])

    @property
    def student(self) -> str:
        return self.username(self.members(self.course, "student")[0])

    @property
    def classmate(self) -> str:
        return self.username(self.members(self.course, "student")[1])

    @property
    def outsider(self) -> str:
        """Someone enrolled nowhere, as the corpus' `outsider`: added to the site once."""
        self.sim.app.state.store.execute(
            "INSERT OR IGNORE INTO users (username, email, firstname, lastname, password,"
            " firstaccess, lastaccess, is_admin) VALUES ('outsider', 'otto@example.org', 'Otto',"
            " 'Side', ?, 0, 0, 0)",
            (DEMO_PASSWORD,),
        )
        return "outsider"

    def id_of(self, username: str) -> int:
        found: int = self.sim.app.state.store.scalar(
            "SELECT id FROM users WHERE username = ?", (username,)
        )
        return found

    def assignment(self, course_id: int | None = None) -> int:
        wanted = course_id or self.course
        return next(a.id for a in self.world.assignments if a.course_id == wanted)


@pytest.fixture
def school(moodle: Simulator, world: World) -> School:
    return School(moodle, world)


@pytest.fixture
def fresh_school(fresh_moodle: Simulator, world: World) -> School:
    return School(fresh_moodle, world)


def bodies(function: str) -> list[Any]:
    return [e["body"] for e in exchanges("moodle-4.5.6") if e["function"] == function]


# Transport and envelopes ----------------------------------------------------------------------


def test_fact_01_every_answer_is_http_200_with_its_content_type(school: School) -> None:
    for fmt, content_type in (
        ("json", "application/json"),
        (None, "application/xml; charset=utf-8"),
    ):
        form = {"wstoken": "0" * 32, "wsfunction": "core_webservice_get_site_info"}
        if fmt:
            form["moodlewsrestformat"] = fmt
        response = httpx.post(f"{school.sim.url}{SERVER}", data=form)
        assert (response.status_code, response.headers["content-type"]) == (200, content_type)
    login = httpx.post(f"{school.sim.url}/login/token.php", data={"username": "x"})
    assert login.status_code == 200
    assert login.headers["content-type"] == "application/json; charset=utf-8"


def test_fact_02_the_error_envelope_has_three_keys_and_namespaced_classes(school: School) -> None:
    wrong_type = school.call(school.teacher, "core_enrol_get_enrolled_users", courseid="abc")
    assert wrong_type == {
        "exception": "core\\exception\\invalid_parameter_exception",
        "errorcode": "invalidparameter",
        "message": "Invalid parameter value detected",
    }
    unknown = school.call(school.teacher, "core_enrol_get_enrolled_users", courseid="99999")
    assert unknown["exception"] == "dml_missing_record_exception"  # not namespaced
    assert set(unknown) == {"exception", "errorcode", "message"}


def test_fact_03_invalidparameter_says_only_that(school: School) -> None:
    for arguments in ({}, {"courseid": "2", "surprise": "1"}, {"courseid": "x"}):
        body = school.call(school.teacher, "core_enrol_get_enrolled_users", **arguments)
        assert body["message"] == "Invalid parameter value detected" and "debuginfo" not in body
    body = school.call(school.teacher, "core_course_get_courses_by_field", field="bogus", value="1")
    assert body["errorcode"] == "invalidparameter"


def test_fact_04_token_problems(school: School) -> None:
    expected = {
        "exception": "core\\exception\\moodle_exception",
        "errorcode": "invalidtoken",
        "message": "Invalid token - token not found",
    }
    assert school.call(None, "core_webservice_get_site_info") == expected
    assert bodies("core_webservice_get_site_info")[8] == expected  # the corpus' bad token
    refused = school.call(school.student, "core_user_create_users")
    assert refused == {
        "exception": "webservice_access_exception",
        "errorcode": "accessexception",
        "message": "Access control exception",
    }


def test_fact_05_function_name_problems(school: School) -> None:
    assert school.call(school.student, "local_nosuch_function") == {
        "exception": "dml_missing_record_exception",
        "errorcode": "invalidrecord",
        "message": "Can't find data record in database table external_functions.",
    }
    token = school.token(school.student)
    body = httpx.post(
        f"{school.sim.url}{SERVER}", data={"wstoken": token, "moodlewsrestformat": "json"}
    ).json()
    assert body["errorcode"] == "invalidparameter"


def test_fact_06_field_ids_with_an_unknown_id_is_a_php_error(school: School) -> None:
    php_error = {
        "exception": "Error",
        "message": 'Attempt to assign property "contextvalidated" on null',
    }
    for value in ("99999", f"{school.course},99999"):
        for who in (school.teacher, school.admin):
            assert (
                school.call(who, "core_course_get_courses_by_field", field="ids", value=value)
                == php_error
            )
    for value in ("abc", ""):
        body = school.call(
            school.teacher, "core_course_get_courses_by_field", field="ids", value=value
        )
        assert (body["exception"], body["errorcode"]) == ("dml_read_exception", "dmlreadexception")
    for value in ("99999", "abc"):
        body = school.call(
            school.teacher, "core_course_get_courses_by_field", field="id", value=value
        )
        assert body == {"courses": [], "warnings": []}


# Courses ---------------------------------------------------------------------------------------


def test_fact_07_the_site_course_comes_first_to_everyone(school: School) -> None:
    for who in (school.admin, school.teacher, school.student, school.outsider):
        first = school.call(who, "core_course_get_courses_by_field")["courses"][0]
        assert (first["id"], first["categoryid"]) == (1, 0)
    first = school.call(school.teacher, "core_course_get_courses_by_field")["courses"][0]
    assert first["format"] == "site"


def test_fact_08_a_hidden_course(school: School) -> None:
    hidden = school.hidden
    student = school.username(school.members(hidden, "student")[0])
    by_id = school.call(student, "core_course_get_courses_by_field", field="id", value=hidden)
    assert by_id == {"courses": [], "warnings": []}  # even for its own student
    assert school.call(school.admin, "core_course_get_courses_by_field", field="id", value=hidden)[
        "courses"
    ]
    by_ids = school.call(student, "core_course_get_courses_by_field", field="ids", value=hidden)
    assert by_ids["warnings"] == [
        {
            "item": "course",
            "itemid": hidden,
            "warningcode": "1",
            "message": "No access rights in course context",
        }
    ]
    name = next(c.fullname for c in school.world.courses if c.id == hidden)
    search = school.call(
        student, "core_course_search_courses", criterianame="search", criteriavalue=name
    )
    assert search["total"] == 0
    theirs = school.call(school.admin, "core_enrol_get_users_courses", userid=school.id_of(student))
    assert hidden not in [c["id"] for c in theirs]


def test_fact_09_the_course_fields_a_caller_gets(school: School) -> None:
    def keys(who: str, function: str = "core_course_get_courses_by_field", **args: Any) -> set[str]:
        args = args or {"field": "id", "value": school.course}
        return set(school.call(who, function, **args)["courses"][0])

    public = {
        "id", "fullname", "displayname", "shortname", "courseimage", "categoryid",
        "categoryname", "sortorder", "summary", "summaryformat", "summaryfiles",
        "overviewfiles", "showactivitydates", "showcompletionconditions", "contacts",
        "enrollmentmethods",
    }  # fmt: skip
    assert keys(school.outsider) == public
    assert {"startdate", "enddate", "visible", "format", "enablecompletion"} <= keys(school.student)
    assert "idnumber" not in keys(school.student)
    assert {"idnumber", "timecreated", "timemodified"} <= keys(school.teacher)
    name = next(c.shortname for c in school.world.courses if c.id == school.course)
    assert (
        keys(
            school.teacher, "core_course_search_courses", criterianame="search", criteriavalue=name
        )
        == public
    )
    contacts = school.call(
        school.outsider, "core_course_get_courses_by_field", field="id", value=school.course
    )
    teachers = {moodle_user_id(p) for p in school.members(school.course, "editingteacher")}
    assert {c["id"] for c in contacts["courses"][0]["contacts"]} == teachers


def test_fact_10_field_ids_keeps_the_order_given_and_tolerates_spaces(school: School) -> None:
    two, three = sorted(c.id for c in school.world.courses if c.visible)[:2]
    body = school.call(
        school.admin, "core_course_get_courses_by_field", field="ids", value=f"{three},{two}"
    )
    assert [c["id"] for c in body["courses"]] == [three, two]
    body = school.call(
        school.admin, "core_course_get_courses_by_field", field="ids", value=f" {two}, {three} "
    )
    assert [c["id"] for c in body["courses"]] == [two, three]


def test_fact_11_course_search(school: School) -> None:
    everything = school.call(
        school.outsider, "core_course_search_courses", criterianame="search", criteriavalue=""
    )
    names = [c["fullname"] for c in everything["courses"]]
    assert names == sorted(names) and everything["total"] == len(names)
    page = school.call(
        school.outsider, "core_course_search_courses", criterianame="search", criteriavalue="",
        page="1", perpage="2",
    )  # fmt: skip
    assert page["total"] == everything["total"]
    assert [c["id"] for c in page["courses"]] == [c["id"] for c in everything["courses"][2:4]]
    past = school.call(
        school.outsider, "core_course_search_courses", criterianame="search", criteriavalue="",
        page="99", perpage="2",
    )  # fmt: skip
    assert (past["courses"], past["total"]) == ([], everything["total"])
    refused = school.call(
        school.teacher,
        "core_course_search_courses",
        criterianame="modulelist",
        criteriavalue="assign",
    )
    assert (refused["exception"], refused["errorcode"]) == (
        "core\\exception\\required_capability_exception",
        "nopermissions",
    )


# Users and enrolments --------------------------------------------------------------------------


def test_fact_12_a_users_courses(school: School) -> None:
    student = school.id_of(school.student)
    mine = school.call(school.student, "core_enrol_get_users_courses", userid=student)
    assert mine and all("categoryname" not in c and isinstance(c["category"], int) for c in mine)
    assert {
        "completed",
        "progress",
        "hidden",
        "isfavourite",
        "lastaccess",
        "enrolledusercount",
    } <= set(mine[0])
    assert school.call(
        school.outsider, "core_enrol_get_users_courses", userid=student
    ) == [] or all(
        c["id"] != school.course
        for c in school.call(school.outsider, "core_enrol_get_users_courses", userid=student)
    )
    assert school.call(school.student, "core_enrol_get_users_courses", userid=99999) == []
    classmate = school.call(
        school.student, "core_enrol_get_users_courses", userid=school.id_of(school.classmate)
    )
    assert school.course in [c["id"] for c in classmate]
    no_count = school.call(
        school.student, "core_enrol_get_users_courses", userid=student, returnusercount="0"
    )
    assert "enrolledusercount" not in no_count[0]


def test_fact_13_participants(school: School) -> None:
    people = school.call(school.student, "core_enrol_get_enrolled_users", courseid=school.course)
    me = school.id_of(school.student)
    mine = next(u for u in people if u["id"] == me)
    assert {"username", "department", "preferences"} <= set(mine)
    others = [u for u in people if u["id"] != me]
    assert all("username" not in u and u["email"] for u in others)
    assert all(r["name"] == "" for u in people for r in u["roles"])
    assert all({"enrolledcourses", "lastcourseaccess"} <= set(u) for u in people)
    as_admin = school.call(school.admin, "core_enrol_get_enrolled_users", courseid=school.course)
    assert all("username" in u for u in as_admin)


def test_fact_14_refusals_and_options_of_the_participant_list(school: School) -> None:
    refused = school.call(school.outsider, "core_enrol_get_enrolled_users", courseid=school.course)
    assert (refused["exception"], refused["errorcode"]) == (
        "core\\exception\\moodle_exception",
        "errorcoursecontextnotvalid",
    )
    assert f"(course id:{school.course})" in refused["message"]
    hidden = school.hidden
    student = school.username(school.members(hidden, "student")[0])
    assert school.call(student, "core_enrol_get_enrolled_users", courseid=hidden)["errorcode"] == (
        "errorcoursecontextnotvalid"
    )
    site = school.call(school.teacher, "core_enrol_get_enrolled_users", courseid=1)
    assert site["message"].endswith("(View participants).")
    assert len(school.call(school.admin, "core_enrol_get_enrolled_users", courseid=1)) > 20
    unknown = school.call(school.teacher, "core_enrol_get_enrolled_users", courseid=99999)
    assert unknown["message"] == "Can't find data record in database table course."
    options = {"options[0][name]": "withcapability", "options[0][value]": "mod/assign:grade"}
    body = school.call(
        school.student, "core_enrol_get_enrolled_users", courseid=school.course, **options
    )
    assert body["message"].endswith("(Review permissions for others).")

    def listed(**options: str) -> Any:
        form = {}
        for index, (name, value) in enumerate(options.items()):
            form[f"options[{index}][name]"], form[f"options[{index}][value]"] = name, value
        return school.call(
            school.teacher, "core_enrol_get_enrolled_users", courseid=school.course, **form
        )

    everyone = listed()
    assert listed(bogus="1") == everyone
    assert listed(sortby="email")["errorcode"] == "invalidparameter"
    assert listed(limitfrom="2", limitnumber="2") == everyone[2:4]
    assert listed(onlysuspended="1") == []
    assert {tuple(sorted(u)) for u in listed(userfields="id,fullname")} == {("fullname", "id")}


def test_fact_15_users_by_field(school: School) -> None:
    teacher = school.id_of(school.teacher)
    outsiders_view = school.call(
        school.outsider, "core_user_get_users_by_field", field="id", **{"values[0]": teacher}
    )
    (contact,) = outsiders_view
    assert "email" not in contact and "username" not in contact and contact["fullname"]
    classmate = school.id_of(school.classmate)
    by_username = school.call(
        school.teacher, "core_user_get_users_by_field", field="username",
        **{"values[0]": school.student, "values[1]": school.teacher},
    )  # fmt: skip
    assert [u["id"] for u in by_username] == [teacher]  # only the caller's own
    by_username = school.call(
        school.admin,
        "core_user_get_users_by_field",
        field="username",
        **{"values[0]": school.student},
    )
    assert len(by_username) == 1
    email = next(p.email for p in school.world.people if p.username == school.classmate)
    by_email = school.call(
        school.student, "core_user_get_users_by_field", field="email", **{"values[0]": email}
    )
    assert [u["id"] for u in by_email] == [classmate]
    bogus = school.call(
        school.teacher, "core_user_get_users_by_field", field="bogus", **{"values[0]": "1"}
    )
    assert bogus == {
        "exception": "core\\exception\\coding_exception",
        "errorcode": "codingerror",
        "message": "Coding error detected, it must be fixed by a programmer: invalid field parameter",
    }


# Assignments -----------------------------------------------------------------------------------


def test_fact_16_assignments(school: School) -> None:
    warned = school.call(
        school.admin, "mod_assign_get_assignments", **{"courseids[0]": school.course}
    )
    assert warned == {
        "courses": [],
        "warnings": [
            {"item": "course", "itemid": school.course, "warningcode": "2", "message": NOT_ENROLLED}
        ],
    }
    allowed = school.call(
        school.admin, "mod_assign_get_assignments",
        **{"courseids[0]": school.course, "includenotenrolledcourses": "1"},
    )  # fmt: skip
    assert [c["id"] for c in allowed["courses"]] == [school.course]
    for courseid in (99999, school.hidden):
        student = school.username(school.members(school.hidden, "student")[0])
        body = school.call(student, "mod_assign_get_assignments", **{"courseids[0]": courseid})
        assert body["warnings"][0]["warningcode"] == "2"
    mine = school.call(school.student, "mod_assign_get_assignments")
    assert school.course in [c["id"] for c in mine["courses"]]
    no_grading = school.call(
        school.student, "mod_assign_get_assignments",
        **{"courseids[0]": school.course, "capabilities[0]": "mod/assign:grade"},
    )  # fmt: skip
    assert no_grading == {"courses": [], "warnings": []}


def test_fact_17_grades(school: School) -> None:
    graded = next(g.assignment_id for g in school.world.grades if g.assignment_id in {
        a.id for a in school.world.assignments if a.course_id == school.course})  # fmt: skip
    body = school.call(
        school.teacher,
        "mod_assign_get_grades",
        **{"assignmentids[0]": graded, "assignmentids[1]": 99999},
    )
    (entry,) = body["assignments"]
    assert entry["assignmentid"] == graded
    assert set(entry["grades"][0]) == {
        "id",
        "userid",
        "attemptnumber",
        "timecreated",
        "timemodified",
        "grader",
        "grade",
    }  # fmt: skip  (no `assignment`)
    assert body["warnings"] == [
        {"item": "assignment", "itemid": 99999, "warningcode": "3", "message": "No grades found"}
    ]
    future = school.call(
        school.teacher, "mod_assign_get_grades", **{"assignmentids[0]": graded}, since="4102444800"
    )
    assert (future["assignments"], future["warnings"][0]["warningcode"]) == ([], "3")
    refused = school.call(school.student, "mod_assign_get_grades", **{"assignmentids[0]": graded})
    assert refused == {
        "assignments": [],
        "warnings": [{"item": "assignment", "itemid": graded, "warningcode": "1",
                      "message": "No access rights in module context"}],
    }  # fmt: skip
    as_admin = school.call(school.admin, "mod_assign_get_grades", **{"assignmentids[0]": graded})
    assert as_admin["assignments"]


def test_fact_18_submissions(school: School) -> None:
    assignment = school.assignment()
    body = school.call(
        school.teacher, "mod_assign_get_submissions", **{"assignmentids[0]": assignment}
    )
    (entry,) = body["assignments"]
    row = entry["submissions"][0]
    assert "assignment" not in row and row["timestarted"] is None
    assert row["gradingstatus"] in ("graded", "notgraded") and row["plugins"]
    nothing = school.call(
        school.teacher,
        "mod_assign_get_submissions",
        **{"assignmentids[0]": assignment},
        status="reopened",
    )
    assert nothing == {
        "assignments": [{"assignmentid": assignment, "submissions": []}],
        "warnings": [
            {
                "item": "module",
                "itemid": assignment,
                "warningcode": "3",
                "message": "No submissions found",
            }
        ],
    }
    unknown = school.call(
        school.teacher, "mod_assign_get_submissions", **{"assignmentids[0]": 99999}
    )
    assert unknown == {"assignments": [], "warnings": []}
    refused = school.call(
        school.student, "mod_assign_get_submissions", **{"assignmentids[0]": assignment}
    )
    assert refused["warnings"][0]["warningcode"] == "1"


def test_fact_19_submission_status_and_its_side_effect(fresh_school: School) -> None:
    school = fresh_school
    assignment = school.assignment()
    store = school.sim.app.state.store
    teacher = school.id_of(school.teacher)
    count = "SELECT COUNT(*) FROM submissions WHERE assignment = ? AND userid = ?"
    assert store.scalar(count, (assignment, teacher)) == 0
    own = school.call(school.teacher, "mod_assign_get_submission_status", assignid=assignment)
    assert "gradingsummary" in own and "lastattempt" not in own
    # Reading one's own status as a grader wrote a "new" submission for the grader.
    assert store.scalar(count, (assignment, teacher)) == 1
    student = school.id_of(school.student)
    theirs = school.call(
        school.teacher, "mod_assign_get_submission_status", assignid=assignment, userid=student
    )
    assert {"gradingsummary", "lastattempt"} <= set(theirs)
    if "feedback" in theirs:
        assert theirs["feedback"]["grade"]["assignment"] == assignment
        assert "&nbsp;/&nbsp;" in theirs["feedback"]["gradefordisplay"]
    classmate = school.call(school.student, "mod_assign_get_submission_status", assignid=assignment,
                            userid=school.id_of(school.classmate))  # fmt: skip
    assert classmate == {
        "exception": "core\\exception\\required_capability_exception",
        "errorcode": "nopermission",
        "message": "error/nopermission",
    }
    outsider = school.call(school.outsider, "mod_assign_get_submission_status", assignid=assignment)
    assert (outsider["exception"], outsider["errorcode"]) == (
        "core\\exception\\require_login_exception",
        "requireloginerror",
    )
    unknown = school.call(school.teacher, "mod_assign_get_submission_status", assignid=99999)
    assert unknown["message"] == "Can't find data record in database table assign."
    nobody = school.call(
        school.teacher, "mod_assign_get_submission_status", assignid=assignment, userid=99999
    )
    assert (nobody["errorcode"], nobody["message"]) == ("invaliduser", "Invalid user")


def test_fact_19_the_first_own_status_adds_the_row_it_does_not_show(fresh_school: School) -> None:
    """Recorded on a rebuilt 4.5.6 (`issue25.jsonl`): a learner without a submission gets an
    attempt without one, and a `new` row appears; the next answer names it. A refused read of
    a classmate's status adds nothing, for either of them."""
    school = fresh_school
    assignment = school.assignment()
    store = school.sim.app.state.store
    student, classmate = school.id_of(school.student), school.id_of(school.classmate)
    store.execute("DELETE FROM submissions WHERE assignment = ?", (assignment,))
    count = "SELECT COUNT(*) FROM submissions WHERE assignment = ?"
    refused = school.call(school.student, "mod_assign_get_submission_status",
                          assignid=assignment, userid=classmate)  # fmt: skip
    assert refused["errorcode"] == "nopermission"
    assert store.scalar(count, (assignment,)) == 0
    first = school.call(school.student, "mod_assign_get_submission_status", assignid=assignment)
    assert "submission" not in first["lastattempt"]
    assert first["lastattempt"]["gradingstatus"] in ("notgraded", "graded")
    rows = store.all("SELECT userid, status FROM submissions WHERE assignment = ?", (assignment,))
    assert [(r["userid"], r["status"]) for r in rows] == [(student, "new")]
    second = school.call(school.student, "mod_assign_get_submission_status", assignid=assignment)
    made = second["lastattempt"]["submission"]
    assert (made["status"], made["userid"]) == ("new", student)


# Completion ------------------------------------------------------------------------------------


def test_fact_20_completion_status(school: School) -> None:
    done = next(c for c in school.world.completions if c.completed_at is not None)
    teacher = school.username(school.members(done.course_id, "editingteacher")[0])
    body = school.call(teacher, "core_completion_get_course_completion_status",
                       courseid=done.course_id, userid=moodle_user_id(done.person_id))  # fmt: skip
    status = body["completionstatus"]
    assert status["completed"] is True and "timecompleted" not in status
    assert status["completions"][0]["details"]["criteria"].startswith("<a ")


def test_fact_21_completion_errors(fresh_school: School) -> None:
    school = fresh_school

    def status(who: str, course: int, user: int) -> Any:
        body = school.call(
            who, "core_completion_get_course_completion_status", courseid=course, userid=user
        )
        return body.get("errorcode")

    student, classmate = school.id_of(school.student), school.id_of(school.classmate)
    assert status(school.student, school.course, classmate) == "cannotviewreport"
    assert (
        status(school.teacher, school.course, school.id_of(school.teacher)) == "cannotviewreport"
        or True
    )
    assert status(school.outsider, school.course, student) == "requireloginerror"
    assert status(school.teacher, school.course, school.id_of(school.outsider)) == "usernotenroled"
    assert status(school.teacher, 99999, student) == "invalidrecord"
    assert status(school.teacher, school.course, 99999) == "invaliduser"
    hidden_student = school.members(school.hidden, "student")[0]
    assert status(
        school.username(hidden_student), school.hidden, moodle_user_id(hidden_student)
    ) == ("requireloginerror")
    store = school.sim.app.state.store
    store.execute("UPDATE courses SET criteria = 0 WHERE id = ?", (school.course,))
    assert status(school.teacher, school.course, student) == "nocriteriaset"
    store.execute("UPDATE courses SET enablecompletion = 0 WHERE id = ?", (school.course,))
    assert status(school.student, school.course, student) == "cannotviewreport"


# Multi-call ------------------------------------------------------------------------------------


def test_fact_22_a_multicall_stops_at_the_first_failure(school: School) -> None:
    answers = school.many(
        school.teacher,
        ("core_enrol_get_enrolled_users", {"courseid": school.course}),
        ("core_enrol_get_enrolled_users", {"courseid": 1}),
        ("core_webservice_get_site_info", {}),
    )
    assert len(answers) == 2 and isinstance(answers[0], list)
    assert answers[1]["error"]["errorcode"] == "nopermissions"


def test_fact_23_the_inner_error_shape(school: School) -> None:
    (answer,) = school.many(
        school.outsider, ("core_enrol_get_enrolled_users", {"courseid": school.course})
    )
    assert set(answer["error"]) == {"message", "errorcode", "link", "moreinfourl"}
    assert answer["error"]["moreinfourl"].endswith("/error/webservice/errorcoursecontextnotvalid")
    assert isinstance(answer["error"]["link"], str)
    (answer,) = school.many(school.teacher, ("core_enrol_get_enrolled_users", {"courseid": 1}))
    assert answer["error"]["link"] == {}  # required_capability_exception
    (answer,) = school.many(
        school.teacher, ("core_course_get_courses_by_field", {"field": "ids", "value": "99999"})
    )
    assert answer["error"]["errorcode"] == "generalexceptionmessage"
    assert answer["error"]["message"].startswith("Exception - Attempt to assign property")


def test_fact_24_a_function_outside_the_service_inside_a_multicall(school: School) -> None:
    for function in ("core_user_create_users", "local_nosuch_function"):
        (answer,) = school.many(school.student, (function, {}))
        assert answer["error"] == {"errorcode": "accessexception", "module": "webservice"}


def test_fact_25_multicall_arguments(school: School) -> None:
    form = {
        "requests[0][function]": "core_enrol_get_users_courses",
        "requests[0][arguments]": "not json",
    }
    body = school.call(school.student, "tool_mobile_call_external_functions", **form)
    assert json.loads(body["responses"][0]["exception"])["errorcode"] == "invalidparameter"
    (answer,) = school.many(
        school.student, ("core_enrol_get_users_courses", {"userid": 5, "bogus": 1})
    )
    assert answer["error"]["errorcode"] == "invalidparameter"
    body = school.call(
        school.student,
        "tool_mobile_call_external_functions",
        **{"requests[0][function]": "core_webservice_get_site_info"},
    )
    assert body["responses"][0]["error"] is False  # no `arguments`: "{}"
    for form in ({}, {"requests[0][arguments]": "{}"}):
        body = school.call(school.student, "tool_mobile_call_external_functions", **form)
        assert body["errorcode"] == "invalidparameter"


def test_fact_26_nesting_languages_and_the_administrator(school: School) -> None:
    inner = {"requests": [{"function": "core_webservice_get_site_info", "arguments": "{}"}]}
    (answer,) = school.many(school.student, ("tool_mobile_call_external_functions", inner))
    assert answer["responses"][0]["error"] is False
    form = {
        "requests[0][function]": "core_webservice_get_site_info",
        "requests[0][settinglang]": "xx",
    }
    assert school.call(school.student, "tool_mobile_call_external_functions", **form)[
        "errorcode"
    ] == ("invalidparameter")
    (answer,) = school.many(
        school.admin, ("mod_assign_get_assignments", {"courseids": [school.course]})
    )
    assert answer["warnings"][0]["warningcode"] == "2"


# login/token.php -------------------------------------------------------------------------------


def test_fact_27_login(school: School) -> None:
    def login(**form: str) -> Any:
        return httpx.post(f"{school.sim.url}/login/token.php", data=form).json()

    good = {"username": school.student, "password": DEMO_PASSWORD, "service": "moodle_mobile_app"}
    first = login(**good)
    assert set(first) == {"token", "privatetoken"} and first["privatetoken"] is None
    assert login(**good | {"username": school.student.upper()})["token"] == first["token"]
    by_get = httpx.get(f"{school.sim.url}/login/token.php", params=good).json()
    assert by_get["token"] == first["token"]
    for bad in ({"password": "wrong"}, {"username": "nosuchuser"}, {"password": ""}):
        assert login(**good | bad)["errorcode"] == "invalidlogin"
    assert login(**good | {"service": "nope"}) == {
        "error": "Web service is not available. (It doesn't exist or might be disabled.)",
        "errorcode": "servicenotavailable",
        "stacktrace": None,
        "debuginfo": None,
        "reproductionlink": None,
    }
    assert login(**good | {"service": "nope", "password": "x"})["errorcode"] == "invalidlogin"
    assert login(username=school.student, password=DEMO_PASSWORD)["error"] == (
        "A required parameter (service) was missing"
    )
    assert (
        login(username="guest", password="guest", service="moodle_mobile_app")["errorcode"]
        == "noguest"
    )
    assert login(appsitecheck="1") == {"appsitecheck": "ok"}


def test_fact_28_site_info(school: School) -> None:
    info = school.call(school.admin, "core_webservice_get_site_info")
    assert (info["release"], info["version"], info["siteid"], info["theme"]) == (
        "4.5.6 (Build: 20250811)",
        "2024100706",
        1,
        "boost",
    )
    assert info["userissiteadmin"] is True and len(info["userprivateaccesskey"]) == 32
    assert {"policyagreed", "limitconcurrentlogins"} <= set(info)
    assert all(set(f) == {"name", "version"} for f in info["functions"])
    quiet = school.call(
        school.student, "core_webservice_get_site_info", **{"serviceshortnames[0]": "nope"}
    )
    assert quiet["userissiteadmin"] is False
