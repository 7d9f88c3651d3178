"""`legacygraph doctor` against the simulators: configured right, and with one fault per source
(a Moodle without the multi-call, a wrong CiviCRM site key, a wrong Elgg secret, a missing
plugin method, a Flarum that is down)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl

import httpx
import pytest

from graph.cli import main
from graph.config import Settings
from graph.doctor.report import Check, Report
from graph.doctor.run import doctor
from graph.sources import SOURCES
from graph.sources.civicrm.settings import CivicrmSettings
from graph.sources.elgg.settings import ElggSettings
from graph.sources.flarum.settings import FlarumSettings
from graph.sources.moodle.settings import MoodleSettings
from graph.sources.sections import SourcesSettings
from simulators.civicrm import SITE_KEY, api_key_of
from simulators.elgg import API_KEY, SECRET
from simulators.world import World
from tests.conftest import Simulator, login, moodle_login, running_moodle
from tests.realworld import RecordedMoodle, exchanges, response_of

STATUS_FUNCTION = "mod_assign_get_submission_status"


def run(settings: Settings, callers: Mapping[str, Sequence[str]] | None = None) -> Report:
    return asyncio.run(doctor(settings, callers or {}))


def checks(report: Report, source: str) -> dict[str, Check]:
    (found,) = [s for s in report.sources if s.source == source]
    return {check.name: check for check in found.checks}


def closed_port() -> str:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def everything_right(
    flarum: Simulator, moodle: Simulator, civicrm: Simulator, elgg: Simulator
) -> Settings:
    return Settings(
        sources=SourcesSettings(
            flarum=FlarumSettings(url=flarum.url),
            moodle=MoodleSettings(url=moodle.url),
            civicrm=CivicrmSettings(url=civicrm.url, site_key=SITE_KEY),
            elgg=ElggSettings(url=elgg.url, api_key=API_KEY, secret=SECRET),
        )
    )


def test_every_source_configured_right_works(
    everything_right: Settings, moodle: Simulator, flarum: Simulator
) -> None:
    callers = {
        "moodle": [moodle_login(moodle.url, "ada.costa"), moodle_login(moodle.url, "emil.zhou")],
        "flarum": [login(flarum.url, "emil.zhou")],
        "civicrm": [api_key_of("ada.costa")],
    }
    report = run(everything_right, callers)
    assert report.ok, "\n".join(report.lines())
    found = checks(report, "moodle")
    assert found["version"].detail.startswith("Moodle 4.5.6")
    assert "a site administrator" in found["identity (caller 1)"].detail
    assert "a site administrator" not in found["identity (caller 2)"].detail
    assert found["multi-call (caller 1)"].status == "ok"
    # The administrator has every capability; a student's are the site's to say, per course.
    assert found["Course.participants (caller 1)"].status == "ok"
    assert found["Course.participants (caller 2)"].status == "unknown"
    assert "moodle/user:viewdetails" in found["Course.participants (caller 2)"].detail
    forum = checks(report, "flarum")
    assert forum["identity (caller 1)"].detail.startswith("emil.zhou")
    assert forum["Mutation.startDiscussion (caller 1)"].status == "ok"
    assert forum["Mutation.startDiscussion (guest)"].status == "failed"
    assert not forum["Mutation.startDiscussion (guest)"].blocking  # a guest's, no fault
    crm = checks(report, "civicrm")
    assert crm["identity (caller 1)"].detail == "contact 2 (Ada Costa)"
    assert crm["Query.groups (caller 1)"].status == "ok"
    assert crm["Mutation.createContact (caller 1)"].status == "unknown"  # never tried
    social = checks(report, "elgg")
    assert social["signed call (api key and secret)"].detail == "group.get_groups accepted"
    assert "VERB:name" in social["version"].detail
    assert social["ElggGroup.members (application key)"].status == "ok"


class Recording(httpx.AsyncBaseTransport):
    """The loopback network, keeping every request sent through it."""

    def __init__(self) -> None:
        self.network = httpx.AsyncHTTPTransport()
        self.sent: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return await self.network.handle_async_request(request)

    async def aclose(self) -> None:
        await self.network.aclose()


def test_the_checks_never_call_the_status_function_which_writes(moodle: Simulator) -> None:
    token = moodle_login(moodle.url, "emil.zhou")
    recording = Recording()
    settings = Settings(sources=SourcesSettings(moodle=MoodleSettings(url=moodle.url)))
    report = asyncio.run(doctor(settings, {"moodle": [token]}, transports={"moodle": recording}))
    sent = recording.sent
    assert report.ok
    assert [parse_qs(r.content.decode()).get("wsfunction") for r in sent] == [
        ["core_webservice_get_site_info"],
        ["core_webservice_get_site_info"],
    ]  # the readiness probe (no token), then as the caller
    assert not [r for r in sent if STATUS_FUNCTION.encode() in r.content]


def test_a_moodle_without_the_multicall_is_reported_and_still_works(world: World) -> None:
    with running_moodle(world, multicall=False) as old:
        settings = Settings(sources=SourcesSettings(moodle=MoodleSettings(url=old.url)))
        report = run(settings, {"moodle": [moodle_login(old.url, "ada.costa")]})
    found = checks(report, "moodle")
    multicall = found["multi-call (caller 1)"]
    assert multicall.status == "failed" and not multicall.blocking
    assert "missing function tool_mobile_call_external_functions" in multicall.detail
    assert found["Query.courses (caller 1)"].status == "ok"
    assert report.ok  # slower, not broken


def test_a_wrong_civicrm_site_key_fails(civicrm: Simulator) -> None:
    settings = Settings(
        sources=SourcesSettings(civicrm=CivicrmSettings(url=civicrm.url, site_key="wrong"))
    )
    report = run(settings, {"civicrm": [api_key_of("ada.costa")]})
    found = checks(report, "civicrm")
    assert found["reachable"].status == "failed"
    assert "site key" in found["reachable"].detail
    assert found["identity (caller 1)"].status == "failed"
    assert not report.ok


def test_a_wrong_elgg_secret_fails_and_no_field_is_said_to_work(elgg: Simulator) -> None:
    settings = Settings(
        sources=SourcesSettings(elgg=ElggSettings(url=elgg.url, api_key=API_KEY, secret="x" * 40))
    )
    report = run(settings)
    found = checks(report, "elgg")
    signed = found["signed call (api key and secret)"]
    assert signed.status == "failed"
    assert "the secret" in signed.detail
    assert found["Query.groups (application key)"].status == "unknown"
    assert not report.ok


def test_a_missing_plugin_method_names_the_method_and_the_field(elgg: Simulator) -> None:
    elgg_settings = ElggSettings(
        url=elgg.url, api_key=API_KEY, secret=SECRET, overrides=("members=mygroups.members",)
    )
    report = run(Settings(sources=SourcesSettings(elgg=elgg_settings)))
    found = checks(report, "elgg")
    members = found["ElggGroup.members (application key)"]
    assert (members.status, members.detail) == ("failed", "missing function mygroups.members")
    assert found["Query.groups (application key)"].status == "ok"
    assert not report.ok


def test_a_flarum_that_is_down_fails_without_further_calls() -> None:
    settings = Settings(sources=SourcesSettings(flarum=FlarumSettings(url=closed_port())))
    report = run(settings)
    found = checks(report, "flarum")
    assert found["reachable"].status == "failed"
    assert found["reachable"].detail.startswith("unavailable")
    assert found["the other checks"].status == "unknown"
    assert not report.ok


def test_an_unknown_flarum_token_is_said_so(flarum: Simulator) -> None:
    settings = Settings(sources=SourcesSettings(flarum=FlarumSettings(url=flarum.url)))
    report = run(settings, {"flarum": ["0" * 40]})
    identity = checks(report, "flarum")["identity (caller 1)"]
    assert identity.status == "failed"
    assert "does not know" in identity.detail


def test_every_field_need_names_a_field_of_the_schema() -> None:
    from graph.internals import graphql_schema
    from graph.schema.root import schema

    types = graphql_schema(schema).type_map
    for spec in SOURCES.values():
        assert spec.needs or spec.diagnose is None, f"{spec.name} declares no needs"
        for need in spec.needs:
            type_name, _, field = need.field.partition(".")
            assert field.split("(")[0] in types[type_name].fields, need.field  # type: ignore[attr-defined]


def test_the_command_prints_one_line_per_check_and_json_for_ci(
    tmp_path: Path, moodle: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    token = moodle_login(moodle.url, "ada.costa")
    config = tmp_path / "gateway.toml"
    config.write_text(f'[sources.moodle]\nurl = "{moodle.url}"\n')
    assert main(["doctor", "--config", str(config), "--as", f"moodle={token}"]) == 0
    out = capsys.readouterr().out
    assert "  ✓ multi-call (caller 1)" in out
    assert token not in out
    assert main(["doctor", "--config", str(config), "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["ok"] is True
    assert body["sources"][0]["checks"][0]["name"] == "reachable"
    config.write_text(f'[sources.flarum]\nurl = "{closed_port()}"\n')
    assert main(["doctor", "--config", str(config)]) == 1
    assert "✗ reachable" in capsys.readouterr().out


def test_a_real_moodle_with_the_mobile_service_off_names_the_likely_causes() -> None:
    """Recorded on a copy of the real 4.5.6 with the mobile service turned off the way the
    administration page does it: a mobile token's site info is an access control exception."""
    site = RecordedMoodle("issue30.jsonl")
    settings = Settings(sources=SourcesSettings(moodle=MoodleSettings(url="http://site.invalid")))
    report = asyncio.run(
        doctor(settings, {"moodle": ["teacher1"]}, transports={"moodle": httpx.MockTransport(site)})
    )
    assert site.missing == []
    found = checks(report, "moodle")
    assert found["reachable"].status == "ok"  # the web services answer
    refused = found["site info (caller 1)"]
    assert refused.status == "failed" and refused.blocking
    assert refused.detail.startswith("forbidden: Access control exception; ")
    assert "the mobile service off" in refused.detail
    assert not report.ok


def civicrm_member_site(request: httpx.Request) -> httpx.Response:
    """The real CiviCRM 5.77's answers to a key whose user lacks 'access CiviCRM'."""
    form = dict(parse_qsl(request.content.decode()))
    for exchange in [*exchanges("civicrm-5.77"), *exchanges("civicrm-5.77", "issue30.jsonl")]:
        body = exchange["body"] or {}
        asked = (body.get("entity"), body.get("action")) == (form["entity"], form["action"])
        if asked and exchange["as"] == "subscriber" and exchange["endpoint"] == "wpjson":
            return response_of(exchange)
    return httpx.Response(599, text="not recorded")


def test_a_civicrm_key_without_access_civicrm_is_told_which_permission_each_field_needs() -> None:
    settings = Settings(
        sources=SourcesSettings(
            civicrm=CivicrmSettings(
                url="http://site.invalid", site_key="k", rest_path="/wp-json/civicrm/v3/rest"
            )
        )
    )
    report = asyncio.run(
        doctor(
            settings,
            {"civicrm": ["member-key"]},
            transports={"civicrm": httpx.MockTransport(civicrm_member_site)},
        )
    )
    found = checks(report, "civicrm")
    assert found["version"].status == "unknown"
    assert "require administer CiviCRM" in found["version"].detail
    assert "no contact of its own" in found["identity (caller 1)"].detail
    groups = found["Query.groups (caller 1)"]
    assert (groups.status, groups.detail) == (
        "failed",
        "needs permission access CiviCRM (for Group.get)",
    )
    assert not groups.blocking  # the caller's, not the site's
    assert found["Person.contact (caller 1)"].status == "ok"
