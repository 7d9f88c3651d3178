"""Record issue 27's functions on the rebuilt real Moodle 4.5.6 into `issue27.jsonl`, in the corpus
format (`seq, function, as, user, case, method, params, http_status, content_type, body`; params
without `wstoken`; tokens and keys redacted, their lengths kept; multi-calls with
`decoded_responses`). Python's standard library only.

    MOODLE_URL=http://127.0.0.1:9201 MOODLE_TOKENS=/path/to/tokens python3 record_issue27.py OUT.jsonl

`MOODLE_TOKENS` holds one file per username with its token (`login/token.php`,
service `moodle_mobile_app`). The messaging-disabled case needs `MOODLE_CLI_CFG`, a command that
sets a config value (`php admin/cli/cfg.php`), or it is skipped.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import urllib.parse
import urllib.request
from typing import Any

URL = os.environ.get("MOODLE_URL", "http://127.0.0.1:9201")
TOKENS = os.environ["MOODLE_TOKENS"]
ROLE = {
    "admin": "admin",
    "teacher1": "teacher",
    "teacher2": "noneditingteacher",
    "outsider": "outsider",
}
MULTICALL = "tool_mobile_call_external_functions"
SEQ0 = 1001
out: list[dict[str, Any]] = []


def flatten(value: Any, name: str, pairs: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            flatten(item, f"{name}[{key}]" if name else str(key), pairs)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            flatten(item, f"{name}[{index}]", pairs)
    elif isinstance(value, bool):
        pairs.append((name, "1" if value else "0"))
    elif value is not None:
        pairs.append((name, str(value)))


def redact(body: Any) -> tuple[Any, list[dict[str, Any]]]:
    found: list[dict[str, Any]] = []

    def walk(x: Any) -> Any:
        if isinstance(x, dict):
            done = {}
            for k, v in x.items():
                if (
                    k in ("token", "privatetoken", "userprivateaccesskey")
                    and isinstance(v, str)
                    and v
                ):
                    found.append({"key": k, "length": len(v)})
                    done[k] = "<key>" if k == "userprivateaccesskey" else "<token>"
                else:
                    done[k] = walk(v)
            return done
        if isinstance(x, list):
            return [walk(v) for v in x]
        return x

    return walk(body), found


def call(user: str, case: str, function: str, arguments: dict[str, Any] | None = None) -> Any:
    params: list[tuple[str, str]] = [("wsfunction", function), ("moodlewsrestformat", "json")]
    flatten(arguments or {}, "", params)
    token = open(os.path.join(TOKENS, user)).read().strip()
    data = urllib.parse.urlencode([("wstoken", token), *params]).encode()
    request = urllib.request.Request(f"{URL}/webservice/rest/server.php", data=data)
    with urllib.request.urlopen(request) as response:
        raw, status = response.read(), response.status
        content_type = response.headers.get("content-type")
    body, red = redact(json.loads(raw))
    entry: dict[str, Any] = {
        "seq": SEQ0 + len(out),
        "function": function,
        "as": ROLE.get(user, "student"),
        "user": user,
        "case": case,
        "method": "POST",
        "params": dict(params),
        "http_status": status,
        "content_type": content_type,
        "body": body,
    }
    if red:
        entry["redacted"] = red
    if function == MULTICALL and isinstance(body, dict):
        decoded = []
        for r in body.get("responses", []):
            d = dict(r)
            for k in ("data", "exception"):
                if isinstance(d.get(k), str):
                    try:
                        d[k] = json.loads(d[k])
                    except ValueError:
                        pass
            decoded.append(d)
        entry["decoded_responses"] = decoded
    out.append(entry)
    return body


def many(user: str, case: str, calls: list[tuple[str, dict[str, Any]]]) -> Any:
    """A multi-call with the arguments as the connector encodes them (`json.dumps`)."""
    requests = [{"function": f, "arguments": json.dumps(a)} for f, a in calls]
    return call(user, case, MULTICALL, {"requests": requests})


STATUS = "core_completion_get_activities_completion_status"
CONTENTS = "core_course_get_contents"
FLAGS = "mod_assign_get_user_flags"
SEND = "core_message_send_instant_messages"
NO_CONTENTS = {"options": [{"name": "excludecontents", "value": "1"}]}
MATH, LIT, HID, CODE = 2, 3, 4, 5
S1, S2, S3, S4, S5, S6, T1, T2, OUTSIDER = 5, 6, 7, 8, 9, 10, 3, 4, 11
ALL_ASSIGNMENTS = [1, 2, 3, 4, 5, 6]


def message(to: int, text: str) -> dict[str, Any]:
    return {"touserid": to, "text": text, "textformat": 2}


def record() -> None:
    # The course's activities.
    for user in ("teacher1", "teacher2", "student1", "admin", "outsider"):
        call(
            user,
            "activities of MATH101, contents left out",
            CONTENTS,
            {"courseid": MATH, **NO_CONTENTS},
        )
    call("teacher1", "activities of MATH101 with their contents", CONTENTS, {"courseid": MATH})
    call("student1", "activities of LIT210", CONTENTS, {"courseid": LIT, **NO_CONTENTS})
    call(
        "student1",
        "activities of the hidden course, enrolled",
        CONTENTS,
        {"courseid": HID, **NO_CONTENTS},
    )
    call(
        "student1",
        "activities of CODE301 (completion off)",
        CONTENTS,
        {"courseid": CODE, **NO_CONTENTS},
    )
    call("teacher1", "activities of an unknown course", CONTENTS, {"courseid": 999, **NO_CONTENTS})
    many(
        "teacher1",
        "activities of two courses in one multi-call",
        [
            (CONTENTS, {"courseid": MATH, **NO_CONTENTS}),
            (CONTENTS, {"courseid": LIT, **NO_CONTENTS}),
        ],
    )

    # Activity completion per learner.
    for learner in (S1, S2, S3, S4, S5):
        call(
            "teacher1",
            "activity completion of a learner, as the editing teacher",
            STATUS,
            {"courseid": MATH, "userid": learner},
        )
    for learner in (S1, S2, S3, S4, S5):
        call(
            "teacher2",
            "activity completion of a learner, as the non-editing teacher",
            STATUS,
            {"courseid": MATH, "userid": learner},
        )
    call("student1", "own activity completion", STATUS, {"courseid": MATH, "userid": S1})
    call("student2", "own activity completion", STATUS, {"courseid": MATH, "userid": S2})
    call("student1", "a classmate's activity completion", STATUS, {"courseid": MATH, "userid": S2})
    call(
        "admin",
        "a learner's activity completion, as the administrator",
        STATUS,
        {"courseid": MATH, "userid": S1},
    )
    call(
        "outsider",
        "activity completion in a course the caller is not in",
        STATUS,
        {"courseid": MATH, "userid": S1},
    )
    call(
        "teacher1",
        "activity completion of a teacher (not a learner)",
        STATUS,
        {"courseid": MATH, "userid": T2},
    )
    call(
        "teacher1",
        "activity completion of a user not enrolled",
        STATUS,
        {"courseid": MATH, "userid": OUTSIDER},
    )
    call(
        "teacher1",
        "activity completion of an unknown user",
        STATUS,
        {"courseid": MATH, "userid": 99999},
    )
    call(
        "teacher1",
        "activity completion in an unknown course",
        STATUS,
        {"courseid": 999, "userid": S1},
    )
    call(
        "teacher1",
        "activity completion in LIT210 (no activity tracked)",
        STATUS,
        {"courseid": LIT, "userid": S1},
    )
    call(
        "teacher1",
        "activity completion in CODE301 (completion off) of teacher1 as its student",
        STATUS,
        {"courseid": CODE, "userid": T1},
    )
    call(
        "student1",
        "activity completion in CODE301 (completion off)",
        STATUS,
        {"courseid": CODE, "userid": S1},
    )
    call(
        "student1",
        "activity completion in the hidden course, enrolled",
        STATUS,
        {"courseid": HID, "userid": S1},
    )
    many(
        "teacher1",
        "activity completion of the class in one multi-call",
        [(STATUS, {"courseid": MATH, "userid": u}) for u in (S1, S2, S3, S4, S5)],
    )
    many(
        "teacher2",
        "activity completion of the class in one multi-call",
        [(STATUS, {"courseid": MATH, "userid": u}) for u in (S1, S2, S3, S4, S5)],
    )
    many(
        "student1",
        "own and a classmate's activity completion in one multi-call (stops at the refusal)",
        [(STATUS, {"courseid": MATH, "userid": u}) for u in (S1, S2, S3)],
    )

    # Assignment user flags.
    for user in ("teacher1", "teacher2", "student1", "admin", "outsider"):
        call(user, "user flags of every assignment", FLAGS, {"assignmentids": ALL_ASSIGNMENTS})
    call("teacher1", "user flags of MATH101's assignments", FLAGS, {"assignmentids": [1, 2, 5, 6]})
    for assignment in (1, 6):
        for user in ("teacher1", "teacher2", "student2"):
            call(user, "user flags of one assignment", FLAGS, {"assignmentids": [assignment]})
    call("teacher1", "user flags of an unknown assignment", FLAGS, {"assignmentids": [999]})
    call(
        "student2",
        "own submission status, with the extension on Essay 1",
        "mod_assign_get_submission_status",
        {"assignid": 1},
    )

    # Messaging.
    text = "Please finish Essay 1 this week."
    call(
        "student1",
        "a message to a classmate, one blocking the sender, one taking contacts only, "
        "one sharing no course, an unknown user",
        SEND,
        {"messages": [message(u, text) for u in (S2, S3, S4, OUTSIDER, 99999)]},
    )
    for u in (S2, S3, S4, OUTSIDER, 99999):
        call("student1", "a message to one user", SEND, {"messages": [message(u, text)]})
    many(
        "student1",
        "one message a call, to a classmate, one blocking the sender, one taking contacts "
        "only, one sharing no course, an unknown user, in one multi-call",
        [(SEND, {"messages": [message(u, text)]}) for u in (S2, S3, S4, OUTSIDER, 99999)],
    )
    call(
        "teacher1",
        "a message to learners, one blocking a classmate and one taking contacts only",
        SEND,
        {"messages": [message(u, text) for u in (S3, S4, S5)]},
    )
    call(
        "teacher2",
        "a message from the non-editing teacher to a learner taking contacts only",
        SEND,
        {"messages": [message(S4, text)]},
    )
    call("admin", "a message from the administrator", SEND, {"messages": [message(S5, text)]})
    call("student1", "a message to oneself", SEND, {"messages": [message(S1, text)]})
    call("student1", "a message too long", SEND, {"messages": [message(S2, "x" * 4097)]})
    call("student1", "no messages", SEND, {"messages": []})
    call(
        "teacher1",
        "a message with a client id",
        SEND,
        {"messages": [{**message(S5, text), "clientmsgid": "lg-1"}]},
    )
    cfg = os.environ.get("MOODLE_CLI_CFG")
    if cfg:
        subprocess.run([*shlex.split(cfg), "--name=messaging", "--set=0"], check=True)
        try:
            call(
                "teacher1",
                "messaging disabled on the site",
                SEND,
                {"messages": [message(u, text) for u in (S3, S5)]},
            )
            many(
                "teacher1",
                "messaging disabled, one message a call in one multi-call",
                [(SEND, {"messages": [message(u, text)]}) for u in (S3, S5)],
            )
        finally:
            subprocess.run([*shlex.split(cfg), "--name=messaging", "--set=1"], check=True)


if __name__ == "__main__":
    record()
    with open(sys.argv[1], "w", encoding="utf-8") as lines:
        for entry in out:
            lines.write(json.dumps(entry) + "\n")
    print(f"{len(out)} exchanges", file=sys.stderr)
