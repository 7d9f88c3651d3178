"""The doctor's report for the caller of a request (`GET /playground/doctor.json`), over the
simulators: what the caller's tokens may do, never a token in the answer, kept a while per
caller, and off with the playground."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from graph.config import PlaygroundSettings, SessionSettings, Settings
from graph.doctor.report import Report, SourceReport
from graph.doctor.served import KeptReports, for_callers
from graph.server.app import create_app
from graph.sources.flarum.settings import FlarumSettings
from graph.sources.moodle.settings import MoodleSettings
from graph.sources.sections import SourcesSettings
from simulators.serve import serve_in_thread
from tests.conftest import Gateway, Simulator, login, moodle_login, running_gateway

SESSION_KEY = Fernet.generate_key().decode()


@pytest.fixture(scope="module")
def school(flarum: Simulator, moodle: Simulator) -> Iterator[Gateway]:
    with running_gateway(
        flarum.url, moodle.url, session=SessionSettings(keys=(SESSION_KEY,), ttl_s=3600)
    ) as gateway:
        yield gateway


def checks_of(body: dict[str, Any], source: str) -> dict[str, dict[str, Any]]:
    (found,) = [s for s in body["sources"] if s["source"] == source]
    return {check["name"]: check for check in found["checks"]}


def test_a_caller_with_tokens_sees_their_identity_and_no_token(
    school: Gateway, flarum: Simulator, moodle: Simulator
) -> None:
    moodle_token = moodle_login(moodle.url, "ada.costa")
    flarum_token = login(flarum.url, "emil.zhou")
    headers = {"X-Moodle-Token": moodle_token, "X-Flarum-Token": flarum_token}
    moodle.counter.reset()
    flarum.counter.reset()
    response = httpx.get(f"{school.url}/playground/doctor.json", headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "private, no-store"
    assert moodle_token not in response.text and flarum_token not in response.text
    body = response.json()
    assert body["ok"] is True
    assert [s["source"] for s in body["sources"]] == ["flarum", "moodle"]
    learning = checks_of(body, "moodle")
    assert learning["reachable"]["status"] == "ok"
    assert learning["identity (caller 1)"]["detail"].startswith("ada.costa, a site administrator")
    assert learning["Query.courses (caller 1)"]["status"] == "ok"
    forum = checks_of(body, "flarum")
    assert forum["identity (caller 1)"]["detail"].startswith("emil.zhou")
    assert forum["Mutation.startDiscussion (caller 1)"]["status"] == "ok"
    # Read-only and small: Moodle's readiness probe and the caller's site info, no more.
    assert moodle.counter.total == 2, moodle.counter.snapshot()
    assert all("url" not in s for s in body["sources"])
    assert moodle.url not in response.text and flarum.url not in response.text


def test_what_only_the_operator_should_read_is_left_out() -> None:
    elgg = SourceReport("elgg", "http://elgg.internal:8080")
    elgg.add("reachable", "ok", "reachable, signature ok")
    elgg.add("signed call (api key and secret)", "ok", "group.get_groups accepted")
    elgg.add("Query.groups (application key)", "ok")
    elgg.add("identity (service key)", "ok", "admin, an administrator")
    elgg.add("identity (guest)", "ok", "a guest")
    elgg.add("identity (caller 1)", "ok", "alice")
    shown = for_callers(Report([elgg]).as_json())
    (source,) = shown["sources"]
    assert "url" not in source
    assert [c["name"] for c in source["checks"]] == [
        "reachable",
        "identity (guest)",
        "identity (caller 1)",
    ]


def test_without_tokens_the_report_is_the_guests(school: Gateway) -> None:
    body = httpx.get(f"{school.url}/playground/doctor.json", timeout=30).json()
    learning = checks_of(body, "moodle")
    assert "identity (caller 1)" not in learning
    assert learning["functions"]["status"] == "unknown"
    forum = checks_of(body, "flarum")
    assert forum["Mutation.startDiscussion (guest)"]["status"] == "failed"


def test_a_gateway_session_is_read_as_graphql_reads_it(school: Gateway, moodle: Simulator) -> None:
    body = school.query(
        'mutation { loginAll(username: "emil.zhou", password: "demo-password") { sessionToken } }'
    )
    session = body["data"]["loginAll"]["sessionToken"]
    assert session
    response = httpx.get(
        f"{school.url}/playground/doctor.json",
        headers={"Authorization": f"Bearer {session}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert session not in response.text
    learning = checks_of(response.json(), "moodle")
    assert learning["identity (caller 1)"]["detail"].startswith("emil.zhou")
    assert checks_of(response.json(), "flarum")["identity (caller 1)"]["detail"].startswith(
        "emil.zhou"
    )


def test_unreadable_credentials_are_refused_with_a_code(school: Gateway) -> None:
    altered = httpx.get(
        f"{school.url}/playground/doctor.json",
        headers={"Authorization": "Bearer not-a-session"},
        timeout=30,
    )
    assert altered.status_code == 401
    assert altered.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    malformed = httpx.get(
        f"{school.url}/playground/doctor.json",
        headers={"X-Moodle-Token": "has spaces; and more"},
        timeout=30,
    )
    assert malformed.status_code == 401
    assert "X-Moodle-Token" in malformed.json()["errors"][0]["message"]
    assert "has spaces" not in malformed.text


def test_off_when_the_playground_is_off(moodle: Simulator) -> None:
    settings = Settings(
        playground=PlaygroundSettings(enabled=False),
        sources=SourcesSettings(
            moodle=MoodleSettings(url=moodle.url), flarum=FlarumSettings(url=moodle.url)
        ),
    )
    with serve_in_thread(create_app(settings)) as url:
        assert httpx.get(f"{url}/playground/doctor.json", timeout=30).status_code == 404


def test_a_callers_report_is_kept_a_while_and_shared_by_who_asks_at_once() -> None:
    now = [0.0]
    runs: list[str] = []
    kept = KeptReports(30, most=2, clock=lambda: now[0])

    async def asked(caller: str) -> dict[str, Any]:
        async def run() -> dict[str, Any]:
            runs.append(caller)
            await asyncio.sleep(0)
            return {"ok": True, "for": caller}

        return await kept.get(caller, run)

    async def scenario() -> None:
        first, second = await asyncio.gather(asked("a"), asked("a"))
        assert first == second == {"ok": True, "for": "a"}
        assert runs == ["a"]  # one run for both
        now[0] = 29.9
        await asked("a")
        assert runs == ["a"]  # still kept
        await asked("b")
        assert runs == ["a", "b"]  # each caller their own
        now[0] = 30.0
        await asked("a")
        assert runs == ["a", "b", "a"]  # run again once it is 30 s old
        await asked("c")
        await asked("b")
        assert runs == ["a", "b", "a", "c", "b"]  # at most two kept: the oldest went

    asyncio.run(scenario())


def test_a_failed_run_is_not_kept() -> None:
    kept = KeptReports(30, clock=lambda: 0.0)
    runs = []

    async def failing() -> dict[str, Any]:
        runs.append(1)
        raise RuntimeError("boom")

    async def scenario() -> None:
        for _ in range(2):
            with pytest.raises(RuntimeError):
                await kept.get("a", failing)

    asyncio.run(scenario())
    assert len(runs) == 2
