"""Issue 27's operations through the gateway, against the real Moodle 4.5.6 behind the recording
proxy (the gateway's upstream calls go to `issue27.jsonl`'s format by the proxy; this script
names each case and keeps the gateway's answer and upstream cost in `graph27.jsonl`).

    GATEWAY=http://127.0.0.1:9233 PROXY=http://127.0.0.1:9232 MOODLE_TOKENS=/path/to/tokens \\
        python3 record_issue27_graph.py graph27.jsonl

Python's standard library only. The gateway runs with `cache_ttl_s = 0` and `read_retries = 0`.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import urllib.request
from pathlib import Path
from typing import Any

GATEWAY = os.environ.get("GATEWAY", "http://127.0.0.1:9233")
PROXY = os.environ.get("PROXY", "http://127.0.0.1:9232")
TOKENS = os.environ["MOODLE_TOKENS"]
EXAMPLES = Path(__file__).resolve().parents[4] / "playground" / "examples"


def gid(type_name: str, upstream_id: str) -> str:
    return (
        base64.urlsafe_b64encode(f"moodle:{type_name}:{upstream_id}".encode()).decode().rstrip("=")
    )


def post(url: str, data: bytes, headers: dict[str, str]) -> Any:
    with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers)) as answer:
        return (
            json.loads(answer.read()) if "json" in answer.headers.get("content-type", "") else None
        )


def run(
    user: str, case: str, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    post(f"{PROXY}/_case", case.encode(), {})
    token = open(os.path.join(TOKENS, user)).read().strip()
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    headers = {
        "content-type": "application/json",
        "X-Moodle-Token": token,
        "X-Legacygraph-Trace": "1",
    }
    answer = post(f"{GATEWAY}/graphql", body, headers)
    upstream = answer.pop("extensions", {}).get("upstream", {}).get("moodle", {})
    return {
        "case": case,
        "user": user,
        "query": query,
        "variables": variables or {},
        "answer": answer,
        "requests": upstream.get("requests", 0),
        "calls": [c["call"] for c in upstream.get("calls", [])],
    }


MATH = gid("Course", "2")
ESSAY = gid("Activity", "2:1")
S = {n: gid("MoodleUser", str(n)) for n in (4, 5, 6, 7, 8, 9, 11, 99999)}


def record() -> list[dict[str, Any]]:
    behind = (EXAMPLES / "learners-behind.graphql").read_text()
    message = (EXAMPLES / "message-learners.graphql").read_text()
    done = []
    for user in ("teacher1", "teacher2", "admin", "student1"):
        done.append(
            run(
                user,
                f"learners behind on Essay 1, as {user}",
                behind,
                {"course": MATH, "activity": ESSAY},
            )
        )
    done.append(
        run(
            "teacher1",
            "a learner's activity completion, named",
            f"""{{
        course(id: "{MATH}") {{ activityCompletions(userId: "{S[6]}") {{
          state completed tracking timeCompleted activity {{ name kind visible }} }} }} }}""",
        )
    )
    done.append(
        run(
            "student1",
            "own and a classmate's activity completion",
            f"""{{
        course(id: "{MATH}") {{ mine: activityCompletions(userId: "{S[5]}") {{ state activity {{ name }} }}
          theirs: activityCompletions(userId: "{S[6]}") {{ state }} }} }}""",
        )
    )
    done.append(
        run(
            "teacher1",
            "the class's course and activity completion",
            f"""{{
        course(id: "{MATH}") {{ completions {{ learner {{ fullName }} completion {{ completed }}
          activities {{ state activity {{ name }} }} }} }} }}""",
        )
    )
    done.append(
        run(
            "teacher2",
            "the course's activities",
            f"""{{
        course(id: "{MATH}") {{ activities {{ id name kind section visible completionTracking }} }} }}""",
        )
    )
    done.append(
        run(
            "teacher1",
            "user flags of Group Project",
            f"""{{
        course(id: "{MATH}") {{ activity(id: "{gid("Activity", "2:8")}") {{ assignment {{ name
          userFlags {{ user {{ fullName }} extensionDueDate workflowState allocatedMarker {{ fullName }} }} }} }} }} }}""",
        )
    )
    done.append(
        run(
            "student2",
            "own user flags in Essay 1",
            f"""{{
        course(id: "{MATH}") {{ activity(id: "{ESSAY}") {{ assignment {{ name
          userFlags {{ extensionDueDate workflowState }} }} }} }} }}""",
        )
    )
    done.append(
        run(
            "teacher1",
            "message them: the learner behind on Essay 1",
            message,
            {"to": [S[9]], "text": "Please finish Essay 1 this week."},
        )
    )
    done.append(
        run(
            "student1",
            "message five users as a learner",
            message,
            {"to": [S[6], S[7], S[8], S[11], S[99999]], "text": "Please finish Essay 1 this week."},
        )
    )
    done.append(
        run(
            "teacher2",
            "message a learner who takes contacts only, twice in the list",
            message,
            {"to": [S[8], S[8]], "text": "Please finish Essay 1 this week."},
        )
    )
    return done


if __name__ == "__main__":
    results = record()
    with open(sys.argv[1], "w", encoding="utf-8") as lines:
        for entry in results:
            lines.write(json.dumps(entry) + "\n")
    for entry in results:
        print(
            entry["requests"],
            entry["user"],
            entry["case"],
            "errors" in entry["answer"],
            file=sys.stderr,
        )
