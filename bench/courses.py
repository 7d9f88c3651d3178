"""What a teacher's class overview costs on Moodle, with and without batching.

Runs the Moodle simulator (with a simulated network delay per request) and the gateway as
separate processes, then runs the class query through the gateway against a site that has
`tool_mobile_call_external_functions` and against one that has not. The baseline is what a
client calling the functions one by one would send. Usage: `make bench` or
`python -m bench.courses [--requests N] [--latency-ms MS]`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import httpx

from bench.discussions import describe, free_port, process, timed

CLASS_QUERY = """query Class { courses(first: 10) { nodes {
  fullName
  participants(first: 50) { nodes { fullName email } }
  assignments { name grades { grade user { fullName } } }
} } }"""


def one_by_one(moodle: str, token: str, client: httpx.Client) -> int:
    """How many requests the same data takes when each function is called on its own."""

    def call(function: str, **arguments: str) -> object:
        form = {"wstoken": token, "wsfunction": function, "moodlewsrestformat": "json"}
        return client.post(
            f"{moodle}/webservice/rest/server.php", data={**form, **arguments}
        ).json()

    listed = call("core_course_get_courses_by_field")["courses"]  # type: ignore[index]
    courses = [c for c in listed if c["id"] != 1][:10]  # course 1 is the site's front page
    sent = 1
    for course in courses:
        call("core_enrol_get_enrolled_users", courseid=str(course["id"]))
        found = call(
            "mod_assign_get_assignments",
            **{"courseids[0]": str(course["id"]), "includenotenrolledcourses": "1"},
        )
        sent += 2
        for assignment in [a for c in found["courses"] for a in c["assignments"]]:  # type: ignore[index]
            call("mod_assign_get_grades", **{"assignmentids[0]": str(assignment["id"])})
            sent += 1
    return sent


def run(label: str, multicall: bool, args: argparse.Namespace) -> None:
    moodle_port, gateway_port = free_port(), free_port()
    moodle = f"http://127.0.0.1:{moodle_port}"
    gateway = f"http://127.0.0.1:{gateway_port}"
    simulator = [sys.executable, "-m", "simulators", "moodle", "--port", str(moodle_port)]
    simulator += ["--latency-ms", str(args.latency_ms)] + ([] if multicall else ["--no-multicall"])
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "bench.toml"
        config.write_text(
            f"[server]\nport = {gateway_port}\n"
            f'[sources.moodle]\nurl = "{moodle}"\nmax_concurrency = 8\ncache_ttl_s = 0\n'
        )
        serve = [sys.executable, "-m", "graph.cli", "serve", "--config", str(config)]
        with (
            process(simulator, f"{moodle}/_simulator/requests"),
            process(serve, f"{gateway}/healthz"),
            httpx.Client(timeout=60) as client,
        ):
            form = {
                "username": "ada.costa",  # the site administrator: every course's class
                "password": "demo-password",
                "service": "moodle_mobile_app",
            }
            token = client.post(f"{moodle}/login/token.php", data=form).json()["token"]
            headers = {"X-Moodle-Token": token}

            def query() -> None:
                body = client.post(
                    f"{gateway}/graphql", json={"query": CLASS_QUERY}, headers=headers
                ).json()
                assert "errors" not in body, body["errors"]

            query()  # learns whether the site takes multi-calls
            client.delete(f"{moodle}/_simulator/requests")
            query()
            upstream = sum(client.get(f"{moodle}/_simulator/requests").json().values())
            baseline = one_by_one(moodle, token, client)
            samples = timed(query, args.requests)
    print(f"{label}:")
    print(f"  upstream requests per query: {upstream} (one function at a time: {baseline})")
    print(f"  through the gateway:         {describe(samples)}")
    print(
        f"  vs. {baseline} sequential round trips at {args.latency_ms:.0f} ms: "
        f"{baseline * args.latency_ms:.0f} ms or more; "
        f"median here {statistics.median(samples):.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--latency-ms", type=float, default=20)
    args = parser.parse_args()
    print(
        f"class overview (10 courses, participants, assignments, grades), {args.requests} requests,"
    )
    print(f"simulated Moodle latency {args.latency_ms:.0f} ms per request")
    run("with tool_mobile_call_external_functions", True, args)
    run("without it (single calls, max_concurrency = 8)", False, args)


if __name__ == "__main__":
    main()
