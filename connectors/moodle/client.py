"""The Moodle web services client: typed async methods over one `Upstream`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from ..answers import typed
from ..errors import (
    BadRequest,
    Forbidden,
    NotFound,
    ProtocolError,
    Unauthenticated,
    Unavailable,
    UpstreamError,
)
from ..http import Upstream, decode_json
from ..memory import LocalMemory, Recollection
from . import answers as a
from .models import (
    Activity,
    ActivityCompletion,
    Assignment,
    CompletionCriterion,
    Course,
    CourseCompletion,
    Grade,
    MessageSent,
    OwnStatus,
    SiteInfo,
    Submission,
    User,
    UserFlags,
)
from .params import encode

__all__ = ["MULTICALL", "Call", "Moodle", "error_from"]

SOURCE = "moodle"
SERVER = "/webservice/rest/server.php"
MULTICALL = "tool_mobile_call_external_functions"
COURSES_BY_FIELD = "core_course_get_courses_by_field"
STATUS = "mod_assign_get_submission_status"
"""A function called that writes: it adds a `new` submission for its user."""
CONTENTS = "core_course_get_contents"
ACTIVITY_STATUS = "core_completion_get_activities_completion_status"
USER_FLAGS = "mod_assign_get_user_flags"
SEND = "core_message_send_instant_messages"
WRITES = frozenset({STATUS, SEND})
"""Functions that write: a request holding one is never cached and never retried."""
PLAIN_TEXT = 2
"""Moodle's `FORMAT_PLAIN`: a message's text is not read as HTML."""
MESSAGE_MAX_BYTES = 4096
"""`\\core_message\\api::MESSAGE_MAX_LENGTH`, compared with PHP's `strlen` (bytes)."""
T = TypeVar("T")

PHP_ERROR = "generalexceptionmessage"
"""A PHP `Error` inside Moodle: `{"exception": "Error", "message": ...}` with no errorcode when
alone, `generalexceptionmessage` inside a multi-call (4.5.6 answers so for `field=ids` with one
unknown id)."""

ERRORS: Mapping[str, type[UpstreamError]] = {
    "invalidtoken": Unauthenticated,
    "servicerequireslogin": Unauthenticated,
    "accessexception": Forbidden,
    "requireloginerror": Forbidden,
    "nopermissions": Forbidden,
    # `mod_assign_get_submission_status` for a classmate: singular, message "error/nopermission".
    "nopermission": Forbidden,
    "errorcoursecontextnotvalid": Forbidden,
    # A classmate's completion, and also any completion where the course has it switched off.
    "cannotviewreport": Forbidden,
    "invalidparameter": BadRequest,
    "dmlreadexception": BadRequest,
    "invalidrecord": NotFound,
    "invalidrecordunknown": NotFound,
    "invaliduser": NotFound,
    "nottracked": NotFound,
    # Completion that cannot be read for one learner: none to read, not an error of the class.
    "nocriteriaset": NotFound,
    "usernotenroled": NotFound,
    # `core_message_send_instant_messages` where the site has messaging switched off.
    "disabled": Forbidden,
}
LOGIN_ERRORS: Mapping[str, type[UpstreamError]] = {
    "servicenotavailable": Unavailable,
    "enablewsdescription": Unavailable,
    "sitemaintenance": Unavailable,
    "cannotcreatetoken": Forbidden,
    "missingparam": BadRequest,
}
"""`login/token.php`'s codes other than `invalidlogin`/`noguest` (both unauthenticated)."""
COURSE_REFUSALS = frozenset({"nocriteriaset", "requireloginerror", "invalidrecord"})
"""Completion refusals that hold for every learner of a course: no criteria, a course the
caller may not enter (an outsider, a hidden course), no such course."""
ACTIVITY_COURSE_REFUSALS = frozenset(
    {"requireloginerror", "invalidrecord", "errorcoursecontextnotvalid"}
)
"""Activity completion refusals that hold for every learner of a course."""
SENDING_REFUSALS = frozenset({"disabled", "accessexception", "nopermissions", "invalidtoken"})
"""Refusals of a message that hold for every message of the caller: messaging switched off on
the site, the function or `moodle/site:sendmessage` not the caller's, a token gone."""
MESSAGE_REFUSALS: tuple[tuple[str, type[UpstreamError], str], ...] = (
    # Moodle says why only in words (`errormessage`, in the site's language): these are 4.5's
    # English strings. "Their message preferences" is also the answer where the recipient
    # blocks the sender; Moodle does not tell the two apart (recorded, issue27.jsonl).
    ("message preferences", Forbidden, "usercantbemessaged"),
    ("doesn't exist", NotFound, "touserdoesntexist"),
    ("longer than the maximum", BadRequest, "errormessagetoolong"),
)
ACCESS_DENIED = "1"
"""`warningcode` of "No access rights in module/course context"."""
NOT_ENROLLED = "2"
"""`warningcode` of `mod_assign_get_assignments`' "User is not enrolled or does not have
requested capability"."""


def error_from(body: Mapping[str, Any]) -> UpstreamError:
    """Moodle's `{exception, errorcode, message}` as our error; unknown codes: protocol errors."""
    if not body.get("errorcode") and body.get("exception") == "Error":
        code = PHP_ERROR
    else:
        code = str(body.get("errorcode") or body.get("exception") or "unknown")
    message = str(body.get("message") or code)
    kind = ERRORS.get(code, ProtocolError)
    if kind is ProtocolError:
        message = f"Moodle answered error {code}: {message}"
    return kind(SOURCE, message, upstream_code=code)


def _read(response: httpx.Response) -> Any:
    """A function's answer; a Moodle exception document (HTTP 200) raises the matching error."""
    if response.status_code >= 500:
        raise Unavailable(SOURCE, f"Moodle failed (HTTP {response.status_code})")
    body = decode_json(response, SOURCE)
    if isinstance(body, dict) and "exception" in body:
        raise error_from(body)
    return body


def _warned(warnings: Sequence[a.Warning], item: str, code: str) -> set[int]:
    """The ids of `item`s that a batch answer's warnings name with `code`."""
    return {w.itemid for w in warnings if w.item == item and w.warningcode == code}


def _typed(body: Any, model: Any, what: str) -> Any:
    return typed(SOURCE, body, model, what)


def _time(seconds: Any) -> datetime | None:
    """Moodle's Unix seconds; 0 means not set."""
    return datetime.fromtimestamp(int(seconds), UTC) if seconds else None


def _grade(text: Any) -> float | None:
    """Moodle sends grades as strings ("85.00000"); -1 means not graded."""
    if text in (None, ""):
        return None
    value = float(text)
    return None if value < 0 else value


@dataclass(frozen=True)
class Call:
    """One function call, as it goes alone or inside a multi-call."""

    function: str
    arguments: Mapping[str, Any] = field(default_factory=dict)


class Moodle:
    """A Moodle site, seen by the token in `upstream.auth`.

    Batch calls send their ids in ascending order, whatever order the graph asked for them in:
    the same set of ids is the same request, and so the same cache entry.

    `memory` is shared by every request of the gateway (and, in Redis, by its replicas): the
    callers (by a keyed hash of their token, `caller_key`) for whom the site refused
    `tool_mobile_call_external_functions`, so that they are not asked again for a while.
    """

    def __init__(
        self,
        upstream: Upstream,
        *,
        memory: Recollection | None = None,
        caller_key: str = "",
    ) -> None:
        self.upstream = upstream
        self._memory = memory if memory is not None else LocalMemory(size=1, ttl_s=600)
        self._caller_key = caller_key

    # Transport ---------------------------------------------------------------------------------

    async def call(self, function: str, arguments: Mapping[str, Any] | None = None) -> Any:
        """Call one function; a Moodle exception document raises the matching error."""
        # Every flattened name is unique (list positions are part of it), so a dict keeps them.
        form = {
            "wsfunction": function,
            "moodlewsrestformat": "json",
            **dict(encode(arguments or {})),
        }
        # Moodle takes every function by POST; the status function adds a `new` submission and
        # the message function sends: a request holding either is never cached, never retried.
        inner = {function, *(str(r.get("function")) for r in _requests(arguments))}
        writes = bool(WRITES & inner)
        return await self.upstream.request(
            "POST", SERVER, form=form, call=function, idempotent=not writes, decode=_read
        )

    async def call_many(self, calls: Sequence[Call]) -> list[Any]:
        """Call several functions in as few requests as the site allows; one slot per call,
        holding the result or the `UpstreamError` of that call alone.

        Through `tool_mobile_call_external_functions` where the caller's service has it: Moodle
        stops a multi-call at the first failing call, so the calls after it are sent again.
        Otherwise each call goes alone, concurrently (the client's pool bounds how many at once).
        """
        return await self._batched(calls, self.multicall)

    async def call_until_refusal(self, calls: Sequence[Call]) -> list[Any]:
        """Like `call_many`, but a multi-call that stops at a failing call is not sent again
        for the calls after it: the answer holds the slots up to and including the failure
        (every slot where the calls went alone). The caller decides what the rest still needs.
        """
        return await self._batched(calls, self._multicall_round)

    async def _batched(
        self, calls: Sequence[Call], multicall: Callable[[Sequence[Call]], Awaitable[list[Any]]]
    ) -> list[Any]:
        no_multicall = f"no-multicall:{self._caller_key}"
        if len(calls) > 1 and not await self._memory.recall(no_multicall):
            try:
                return await multicall(calls)
            except (Forbidden, NotFound) as refusal:
                if refusal.upstream_code not in ("accessexception", "invalidrecord"):
                    raise
                await self._memory.remember(no_multicall, True)
        return list(
            await asyncio.gather(
                *(self.call(c.function, c.arguments) for c in calls), return_exceptions=True
            )
        )

    async def multicall(self, calls: Sequence[Call]) -> list[Any]:
        """`calls` through `tool_mobile_call_external_functions`, however few; one slot each."""
        results: list[Any] = [None] * len(calls)
        start = 0
        while start < len(calls):
            batch = calls[start:]
            try:
                answers = await self._multicall_round(batch)
            except UpstreamError as error:
                if start == 0:
                    raise
                results[start:] = [error] * len(batch)  # keep what the first rounds answered
                break
            results[start : start + len(answers)] = answers
            start += len(answers)
        return results

    async def _multicall_round(self, calls: Sequence[Call]) -> list[Any]:
        """One multi-call: a slot for each call Moodle ran, which stops at the first failure."""
        answer = await self.call(
            MULTICALL,
            {
                "requests": [
                    {"function": c.function, "arguments": json.dumps(dict(c.arguments))}
                    for c in calls
                ]
            },
        )
        responses = _typed(answer, a.MultiCall, "a multi-call").responses
        if not responses or len(responses) > len(calls):
            raise ProtocolError(SOURCE, "Moodle's multi-call answer has no usable responses")
        return [_response(response) for response in responses]

    # Functions ---------------------------------------------------------------------------------

    async def site_info(self) -> SiteInfo:
        info = _typed(await self.call("core_webservice_get_site_info"), a.SiteInfo, "site info")
        return SiteInfo(
            site_name=info.sitename,
            user_id=info.userid,
            username=info.username,
            first_name=info.firstname,
            last_name=info.lastname,
            full_name=info.fullname,
            release=info.release,
            functions=frozenset(f.name for f in info.functions),
        )

    async def login(self, username: str, password: str, service: str) -> str:
        """A token for the user on `service` (`login/token.php`)."""
        response = await self.upstream.request(
            "POST",
            "/login/token.php",
            form={"username": username, "password": password, "service": service},
        )
        body = decode_json(response, SOURCE)
        if isinstance(body, dict) and body.get("token"):
            return str(body["token"])
        code = str(body.get("errorcode", "unknown")) if isinstance(body, dict) else "unknown"
        message = (
            str(body.get("error", "Moodle refused the login")) if isinstance(body, dict) else ""
        )
        kind = LOGIN_ERRORS.get(code, Unauthenticated)
        raise kind(SOURCE, message or "Moodle refused the login", upstream_code=code)

    async def courses(self) -> list[Course]:
        """Every course the caller may see, without the site's front page (course 1, format
        `site`, category 0), which Moodle lists first but which is no course."""
        listed = _typed(await self.call(COURSES_BY_FIELD), a.Courses, "courses")
        return [_course(c) for c in listed.courses if not _is_site(c)]

    async def courses_by_id(self, ids: Sequence[int]) -> list[Course | UpstreamError]:
        """Courses by id, one slot per id, in one call where every id exists.

        Moodle 4.5 fails a whole `field=ids` call with a PHP error when any one id is unknown;
        then each id is asked alone (`field=id`, one multi-call), so one deleted course is
        `NotFound` and the others answer.
        """
        if not ids:
            return []
        try:
            body = await self.call(
                COURSES_BY_FIELD,
                {"field": "ids", "value": ",".join(map(str, sorted(ids)))},
            )
        except ProtocolError as error:
            if error.upstream_code != PHP_ERROR:
                raise
            by_id = [Call(COURSES_BY_FIELD, {"field": "id", "value": i}) for i in ids]
            answers = await self._many(by_id, _courses_of)
            return [_only_course(i, answer) for i, answer in zip(ids, answers, strict=True)]
        listed = _typed(body, a.Courses, "courses")
        # The site's front page answers like a course; it is none (`courses` leaves it out).
        found: dict[int, Course | UpstreamError] = {
            c.id: _front_page(c.id) if _is_site(c) else _course(c) for c in listed.courses
        }
        hidden = _warned(listed.warnings, "course", ACCESS_DENIED)
        return [found.get(i) or _no_course(i, hidden=i in hidden) for i in ids]

    async def search_courses(self, text: str) -> tuple[int, list[Course]]:
        body = await self.call(
            "core_course_search_courses", {"criterianame": "search", "criteriavalue": text}
        )
        found = _typed(body, a.SearchedCourses, "a course search")
        return found.total, [_course(c) for c in found.courses]

    @staticmethod
    def users_courses_call(user_id: int) -> Call:
        return Call("core_enrol_get_users_courses", {"userid": user_id})

    @staticmethod
    def enrolled_users_call(course_id: int) -> Call:
        return Call("core_enrol_get_enrolled_users", {"courseid": course_id})

    @staticmethod
    def completion_call(course_id: int, user_id: int) -> Call:
        return Call(
            "core_completion_get_course_completion_status",
            {"courseid": course_id, "userid": user_id},
        )

    @staticmethod
    def activity_status_call(course_id: int, user_id: int) -> Call:
        return Call(ACTIVITY_STATUS, {"courseid": course_id, "userid": user_id})

    @staticmethod
    def contents_call(course_id: int) -> Call:
        """A course's sections and activities, without their files (`excludecontents`)."""
        return Call(
            CONTENTS,
            {"courseid": course_id, "options": [{"name": "excludecontents", "value": "1"}]},
        )

    @staticmethod
    def own_submission_call(assignment_id: int) -> Call:
        return Call(STATUS, {"assignid": assignment_id})

    async def users_courses(self, user_ids: Sequence[int]) -> list[list[Course] | UpstreamError]:
        """The courses each user is enrolled in (no array form: one multi-call)."""
        return await self._many([self.users_courses_call(u) for u in user_ids], _courses)

    async def enrolled_users(self, course_ids: Sequence[int]) -> list[list[User] | UpstreamError]:
        """The participants of each course, with their roles (no array form: one multi-call)."""
        return await self._many(
            [self.enrolled_users_call(c) for c in course_ids],
            lambda body: [_user(u) for u in _typed(body, list[a.User], "participants")],
        )

    async def completions(
        self,
        keys: Sequence[tuple[int, int]],
        *,
        caller: Callable[[], Awaitable[int]] | None = None,
    ) -> list[CourseCompletion | UpstreamError]:
        """Course completion of each (course, user) (no array form: one multi-call).

        Moodle stops a multi-call at the first refusal. A refusal that holds for the whole
        course (`COURSE_REFUSALS`) answers every other learner of that course too, instead of
        one more multi-call per learner. `cannotviewreport` (completion switched off, or a
        classmate's report) spares the caller's own completion: `caller` says who that is,
        and is asked only then; without it, that refusal stays with its learner.
        """
        return await self._per_learner(
            keys,
            self.completion_call,
            lambda body, course, user: _completion(body),
            COURSE_REFUSALS,
            "cannotviewreport",
            caller,
        )

    async def activity_completions(
        self,
        keys: Sequence[tuple[int, int]],
        *,
        caller: Callable[[], Awaitable[int]] | None = None,
    ) -> list[list[ActivityCompletion] | UpstreamError]:
        """Each (course, user)'s completion of every activity the caller sees in the course
        (no array form: one multi-call), as `completions` batches them: a refusal of the whole
        course answers every learner of it, a classmate's (`nopermissions`, "View activity
        completion reports") every learner but the caller."""
        return await self._per_learner(
            keys,
            self.activity_status_call,
            _activity_completions,
            ACTIVITY_COURSE_REFUSALS,
            "nopermissions",
            caller,
        )

    async def _per_learner(
        self,
        keys: Sequence[tuple[int, int]],
        call_of: Callable[[int, int], Call],
        parse: Callable[[Any, int, int], T],
        course_refusals: frozenset[str],
        classmates_refusal: str,
        caller: Callable[[], Awaitable[int]] | None,
    ) -> list[T | UpstreamError]:
        """One function per (course, user), in as few multi-calls as Moodle's refusals allow.

        Moodle stops a multi-call at the first refusal. A refusal that holds for the whole
        course (`course_refusals`) answers every other learner of that course too, instead of
        one more multi-call per learner. `classmates_refusal` spares the caller's own: `caller`
        says who that is, and is asked only then; without it, that refusal stays with its
        learner.
        """
        results: list[T | UpstreamError | None] = [None] * len(keys)
        pending = list(range(len(keys)))
        while pending:
            answers = await self.call_until_refusal([call_of(*keys[i]) for i in pending])
            for i, answer in zip(pending, answers, strict=False):
                results[i] = (
                    answer
                    if isinstance(answer, UpstreamError)
                    else _parsed(parse, answer, *keys[i])
                )
            last, refused = pending[len(answers) - 1], answers[-1]
            pending = pending[len(answers) :]
            if not pending or not isinstance(refused, UpstreamError):
                continue
            code = refused.upstream_code
            classmates = code == classmates_refusal
            if code in course_refusals or (classmates and caller is not None):
                spared = await caller() if classmates and caller else None
                course = keys[last][0]
                for i in pending:
                    if keys[i][0] == course and keys[i][1] != spared:
                        results[i] = refused
                pending = [i for i in pending if results[i] is None]
        return [r if r is not None else _no_answer() for r in results]

    async def own_statuses(self, assignment_ids: Sequence[int]) -> list[OwnStatus | UpstreamError]:
        """The caller's own submission and grade in each assignment: what a student may read
        (no array form: one multi-call).

        Moodle writes while answering: it adds a `new` submission for the caller where they have
        none. Ask it only for the caller's own status, and only where no other read answers.
        """
        answers = await self.call_many([self.own_submission_call(i) for i in assignment_ids])
        # Moodle 4.5 reads the submission before it adds the `new` row, so its first answer
        # has an attempt without a submission; asked again (which adds nothing), it names the
        # row. One read of the graph gives the row it made, never `[]` then `new`.
        made = [i for i, answer in zip(assignment_ids, answers, strict=True) if _made_row(answer)]
        if made:
            again = dict(
                zip(
                    made,
                    await self.call_many([self.own_submission_call(i) for i in made]),
                    strict=True,
                )
            )
            answers = [
                again.get(i, answer) for i, answer in zip(assignment_ids, answers, strict=True)
            ]
        return [
            answer if isinstance(answer, UpstreamError) else _parsed(_own_status, answer, i)
            for i, answer in zip(assignment_ids, answers, strict=True)
        ]

    async def activities(self, course_ids: Sequence[int]) -> list[list[Activity] | UpstreamError]:
        """The activities of each course the caller may see, in course order (no array form:
        one multi-call). Teachers get hidden ones too (`visible` false); learners do not."""
        answers = await self.call_many([self.contents_call(c) for c in course_ids])
        return [
            answer if isinstance(answer, UpstreamError) else _parsed(_activities, answer, course)
            for course, answer in zip(course_ids, answers, strict=True)
        ]

    async def user_flags(
        self, assignment_ids: Sequence[int]
    ) -> tuple[dict[int, list[UserFlags]], set[int]]:
        """Learners' flags (extension, marking workflow) in many assignments in one call, and
        the ids the caller may not grade (warning "1": flags need `mod/assign:grade`).

        Moodle lists a learner only once they have a row (a submission, a grade, an
        extension): no row is no extension. Warning "3", "No user flags found", is also its
        answer for unknown ids: an empty list.
        """
        body = await self.call(USER_FLAGS, {"assignmentids": sorted(assignment_ids)})
        listed = _typed(body, a.UserFlags, "user flags")
        found = {
            item.assignmentid: [_flags(item.assignmentid, f) for f in item.userflags]
            for item in listed.assignments
        }
        return found, _warned(listed.warnings, "assignment", ACCESS_DENIED) - set(found)

    async def send_messages(
        self, user_ids: Sequence[int], text: str
    ) -> list[MessageSent | UpstreamError]:
        """Send `text` to each user as the caller: one slot per user, the message sent or why
        Moodle did not send it. Nothing is sent twice.

        One message a call, inside one multi-call: Moodle 4.5.6 answers a call of several
        messages where one is refused with `formatnotsupported` after sending the others, and
        so says nothing of which went (recorded). A refusal inside the multi-call stops it;
        the calls after it did not run, and go in the next multi-call, unless the refusal
        holds for every message (`SENDING_REFUSALS`: messaging switched off…). A request whose
        answer is lost is not sent again: its messages answer the error.
        """
        if len(text.encode()) > MESSAGE_MAX_BYTES:
            refused = BadRequest(
                SOURCE,
                f"Moodle takes messages of at most {MESSAGE_MAX_BYTES} bytes",
                upstream_code="errormessagetoolong",
            )
            return [refused for _ in user_ids]
        calls = [
            Call(SEND, {"messages": [{"touserid": u, "text": text, "textformat": PLAIN_TEXT}]})
            for u in user_ids
        ]
        results: list[MessageSent | UpstreamError | None] = [None] * len(calls)
        pending = list(range(len(calls)))
        while pending:
            try:
                answers = await self.call_until_refusal([calls[i] for i in pending])
            except UpstreamError as error:
                answers = [error] * len(pending)
            for i, answer in zip(pending, answers, strict=False):
                results[i] = (
                    answer
                    if isinstance(answer, UpstreamError)
                    else _parsed(_sent, answer, user_ids[i])
                )
            refused = answers[-1]
            pending = pending[len(answers) :]
            if isinstance(refused, UpstreamError) and refused.upstream_code in SENDING_REFUSALS:
                for i in pending:
                    results[i] = refused
                pending = []
        return [r if r is not None else _no_answer() for r in results]

    async def users(self, ids: Sequence[int]) -> list[User]:
        """Users by id in one call; ids the caller may not see are left out, as Moodle does."""
        if not ids:
            return []
        body = await self.call(
            "core_user_get_users_by_field", {"field": "id", "values": [str(i) for i in sorted(ids)]}
        )
        return [_user(u) for u in _typed(body, list[a.User], "users")]

    async def users_by_email(self, emails: Sequence[str]) -> list[User]:
        """Users by e-mail in one call; users the caller may not see are left out."""
        if not emails:
            return []
        body = await self.call(
            "core_user_get_users_by_field", {"field": "email", "values": list(emails)}
        )
        return [_user(u) for u in _typed(body, list[a.User], "users")]

    async def assignments(self, course_ids: Sequence[int]) -> dict[int, list[Assignment]]:
        """Assignments of many courses in one call (the caller's courses when `course_ids` is
        empty); courses the caller cannot see are absent.

        Courses Moodle answers "not enrolled" are asked once more with
        `includenotenrolledcourses`, which is how a site administrator, enrolled nowhere,
        reads them; for anyone else the second answer is a warning again.
        """
        body = await self.call("mod_assign_get_assignments", {"courseids": sorted(course_ids)})
        listed = _typed(body, a.Assignments, "assignments")
        found = _assignments_by_course(listed)
        again = sorted(_warned(listed.warnings, "course", NOT_ENROLLED) - set(found))
        if again:
            body = await self.call(
                "mod_assign_get_assignments", {"courseids": again, "includenotenrolledcourses": 1}
            )
            found.update(_assignments_by_course(_typed(body, a.Assignments, "assignments")))
        return found

    async def submissions(
        self, assignment_ids: Sequence[int]
    ) -> tuple[dict[int, list[Submission]], set[int]]:
        """Submissions of many assignments in one call, and the ids the caller may not grade.

        An assignment with nothing to list comes with an empty list (and a warning "3"); an
        unknown id comes with nothing at all.
        """
        body = await self.call(
            "mod_assign_get_submissions", {"assignmentids": sorted(assignment_ids)}
        )
        listed = _typed(body, a.Submissions, "submissions")
        found = {
            item.assignmentid: [_submission(item.assignmentid, s) for s in item.submissions]
            for item in listed.assignments
        }
        return found, _warned(listed.warnings, "assignment", ACCESS_DENIED) - set(found)

    async def grades(
        self, assignment_ids: Sequence[int]
    ) -> tuple[dict[int, list[Grade]], set[int]]:
        """Grades of many assignments in one call, and the ids the caller may not grade
        (warning "1"; a student reads their own grade with `own_statuses`). Warning "3", "No
        grades found" (also Moodle's answer for unknown ids), leaves an id out of both."""
        body = await self.call("mod_assign_get_grades", {"assignmentids": sorted(assignment_ids)})
        listed = _typed(body, a.Grades, "grades")
        found = {
            item.assignmentid: [_grade_of(item.assignmentid, g) for g in item.grades]
            for item in listed.assignments
        }
        return found, _warned(listed.warnings, "assignment", ACCESS_DENIED) - set(found)

    async def _many(self, calls: list[Call], parse: Callable[[Any], T]) -> list[T | UpstreamError]:
        results: list[T | UpstreamError] = []
        for answer in await self.call_many(calls):
            results.append(answer if isinstance(answer, UpstreamError) else _parsed(parse, answer))
        return results


def _requests(arguments: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    """The calls inside a multi-call's arguments (none for any other function)."""
    requests = (arguments or {}).get("requests")
    return [r for r in requests if isinstance(r, Mapping)] if isinstance(requests, list) else []


def _no_answer() -> UpstreamError:
    return ProtocolError(SOURCE, "Moodle's multi-call answer left a call unanswered")


def _parsed(parse: Callable[..., T], *args: Any) -> T | UpstreamError:
    """`parse(*args)`, or a protocol error where the answer lacks what the parser reads."""
    try:
        return parse(*args)
    except UpstreamError as error:
        return error


def _response(response: a.MultiCallResponse) -> Any:
    """One entry of a multi-call answer: the decoded data, or the call's own error."""
    try:
        if response.error:
            exception = json.loads(response.exception or "{}")
            return error_from(exception if isinstance(exception, dict) else {})
        return json.loads(response.data or "")
    except ValueError:
        return ProtocolError(SOURCE, "Moodle's multi-call answer has a malformed response")


def _course(c: a.Course) -> Course:
    return Course(
        id=c.id,
        short_name=c.shortname,
        full_name=c.fullname,
        summary=c.summary or None,
        category=c.categoryname,
        category_id=c.categoryid if c.categoryid is not None else c.category,
        start_date=_time(c.startdate),
        end_date=_time(c.enddate),
        # Callers who are not enrolled get no `visible` (nor dates): unknown, not invented.
        visible=bool(c.visible) if c.visible is not None else None,
    )


def _courses_of(body: Any) -> list[Course | UpstreamError]:
    courses = _typed(body, a.Courses, "courses").courses
    return [_front_page(c.id) if _is_site(c) else _course(c) for c in courses]


def _front_page(course_id: int) -> UpstreamError:
    return NotFound(SOURCE, f"Moodle's course {course_id} is the site's front page, not a course")


def _is_site(c: a.Course) -> bool:
    return c.format == "site" or c.categoryid == 0


def _no_course(course_id: int, *, hidden: bool = False) -> UpstreamError:
    if hidden:
        return Forbidden(SOURCE, f"Moodle allows no access to course {course_id}")
    return NotFound(SOURCE, f"Moodle shows no course {course_id}")


def _only_course(
    course_id: int, answer: list[Course | UpstreamError] | UpstreamError
) -> Course | UpstreamError:
    """A `field=id` answer: the course, or why there is none."""
    if isinstance(answer, UpstreamError):
        return answer
    return answer[0] if answer else _no_course(course_id)


def _courses(body: Any) -> list[Course]:
    return [_course(c) for c in _typed(body, list[a.Course], "courses")]


def _user(u: a.User) -> User:
    return User(
        id=u.id,
        username=u.username,
        first_name=u.firstname,
        last_name=u.lastname,
        full_name=u.fullname,
        email=u.email,
        last_access=_time(u.lastaccess),
        roles=tuple(r.shortname for r in u.roles),
    )


def _assignment(x: a.Assignment) -> Assignment:
    return Assignment(
        id=x.id,
        course_id=x.course,
        name=x.name,
        intro=x.intro or None,
        due_date=_time(x.duedate),
        cutoff_date=_time(x.cutoffdate),
        max_grade=x.grade if x.grade >= 0 else None,
    )


def _assignments_by_course(listed: a.Assignments) -> dict[int, list[Assignment]]:
    return {course.id: [_assignment(x) for x in course.assignments] for course in listed.courses}


def _submission(assignment_id: int, s: a.SubmissionItem) -> Submission:
    return Submission(
        id=s.id,
        assignment_id=assignment_id,
        user_id=s.userid,
        status=s.status,
        time_modified=_time(s.timemodified),
    )


def _grade_of(assignment_id: int, g: a.GradeItem) -> Grade:
    """A grade item. `mod_assign_get_grades` puts the assignment on the parent only."""
    return Grade(
        id=g.id,
        assignment_id=assignment_id,
        user_id=g.userid,
        grade=_grade(g.grade),
        grader_id=g.grader if g.grader is not None and g.grader > 0 else None,
        graded_at=_time(g.timemodified),
    )


def _own_status(body: Any, assignment_id: int) -> OwnStatus:
    status = _typed(body, a.Status, "a submission status")
    grade = status.feedback.grade if status.feedback else None
    submission = status.lastattempt.submission if status.lastattempt else None
    return OwnStatus(
        submission=_submission(assignment_id, submission) if submission else None,
        grade=_grade_of(assignment_id, grade) if grade else None,
        extension_due_date=_time(status.lastattempt.extensionduedate)
        if status.lastattempt
        else None,
    )


def _made_row(answer: Any) -> bool:
    """Whether a status answer has an attempt but no submission: Moodle has just added it."""
    if isinstance(answer, UpstreamError) or not isinstance(answer, dict):
        return False
    attempt = answer.get("lastattempt")
    return isinstance(attempt, dict) and not attempt.get("submission")


def _activities(body: Any, course_id: int) -> list[Activity]:
    sections = _typed(body, list[a.Section], "a course's contents")
    return [
        Activity(
            id=m.id,
            course_id=course_id,
            name=m.name,
            kind=m.modname,
            instance=m.instance,
            section=s.name,
            visible=bool(m.visible) and bool(s.visible),
            tracking=m.completion,
            url=m.url,
        )
        for s in sections
        for m in s.modules
    ]


def _activity_completions(body: Any, course_id: int, user_id: int) -> list[ActivityCompletion]:
    listed = _typed(body, a.ActivityStatuses, "activity completion")
    return [
        ActivityCompletion(
            course_id=course_id,
            user_id=user_id,
            activity_id=x.cmid,
            kind=x.modname,
            instance=x.instance,
            state=x.state,
            time_completed=_time(x.timecompleted),
            tracking=x.tracking,
            tracked=x.istrackeduser,
        )
        for x in listed.statuses
    ]


def _flags(assignment_id: int, f: a.UserFlag) -> UserFlags:
    return UserFlags(
        assignment_id=assignment_id,
        user_id=f.userid,
        extension_due_date=_time(f.extensionduedate),
        workflow_state=f.workflowstate or None,
        allocated_marker_id=f.allocatedmarker or None,
        locked=bool(f.locked),
    )


def _sent(body: Any, user_id: int) -> MessageSent:
    """One message's answer: sent, or Moodle's refusal as an error."""
    answers = _typed(body, list[a.SentMessage], "a sent message")
    if len(answers) != 1:
        raise ProtocolError(SOURCE, "Moodle answered one message with other than one result")
    answer = answers[0]
    if answer.msgid > 0:
        return MessageSent(
            user_id=user_id,
            message_id=answer.msgid,
            conversation_id=answer.conversationid,
            time_sent=_time(answer.timecreated),
        )
    words = answer.errormessage or "Moodle did not send the message"
    for part, kind, code in MESSAGE_REFUSALS:
        if part in words:
            raise kind(SOURCE, words, upstream_code=code)
    raise Forbidden(SOURCE, words, upstream_code="messageundelivered")


def _completion(body: Any) -> CourseCompletion:
    status = _typed(body, a.Completion, "a course completion").completionstatus
    criteria = tuple(
        CompletionCriterion(
            title=c.title,
            status=c.status,
            complete=c.complete,
            time_completed=_time(c.timecompleted),
        )
        for c in status.completions
    )
    times = [c.time_completed for c in criteria if c.time_completed]
    return CourseCompletion(
        completed=status.completed,
        time_completed=max(times) if status.completed and times else None,
        criteria=criteria,
    )
