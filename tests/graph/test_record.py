"""`legacygraph record`: a corpus recorded from the Moodle simulator, redacted, replays through
the gateway with the same answers; and the replay tests of operators' corpora
(`LEGACYGRAPH_RECORDINGS`, `make test RECORDINGS=DIR`)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from graph.cli import main
from graph.config import Settings
from graph.record.run import record
from graph.sources.moodle.settings import MoodleSettings
from graph.sources.sections import SourcesSettings
from tests.conftest import Simulator, moodle_login
from tests.realworld import RECORDINGS_ENV, corpus, exchanges, operator_corpora
from tests.recorded_site import replay

STATUS_FUNCTION = "mod_assign_get_submission_status"


@pytest.fixture(scope="module")
def recorded(
    moodle: Simulator, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, str]]:
    callers = {
        "teacher": moodle_login(moodle.url, "ada.costa"),
        "student": moodle_login(moodle.url, "emil.zhou"),
    }
    out = tmp_path_factory.mktemp("corpus")
    settings = Settings(sources=SourcesSettings(moodle=MoodleSettings(url=moodle.url)))
    asyncio.run(record(settings, "moodle", callers, out))
    return out, callers


def test_the_corpus_has_the_recordings_format(recorded: tuple[Path, dict[str, str]]) -> None:
    out, _ = recorded
    lines = exchanges(out)
    assert lines, "nothing recorded"
    first = lines[0]
    assert set(first) >= {"seq", "function", "as", "user", "case", "method", "params", "body"}
    assert {line["as"] for line in lines} == {"teacher", "student"}
    assert all("wstoken" not in line["params"] for line in lines)
    assert all(line["redacted"] == [{"key": "wstoken", "length": 32}] for line in lines)
    functions = {line["function"] for line in lines}
    assert "core_webservice_get_site_info" in functions
    assert "tool_mobile_call_external_functions" in functions  # the calls as the gateway makes them
    sent = [json.dumps(line["params"]) for line in lines]  # (site info lists it, by name)
    assert not [params for params in sent if STATUS_FUNCTION in params]  # it writes: never sent


def test_tokens_emails_and_names_are_replaced_consistently_and_ids_kept(
    recorded: tuple[Path, dict[str, str]],
) -> None:
    out, callers = recorded
    text = "".join(p.read_text(encoding="utf-8") for p in out.glob("*.jsonl"))
    for token in callers.values():
        assert token not in text
    for personal in ("ada.costa", "Ada Costa", "emil.zhou", "Emil", "example.org"):
        assert personal not in text, personal
    site_info = next(
        line["body"]
        for line in exchanges(out)
        if line["function"] == "core_webservice_get_site_info" and line["as"] == "teacher"
    )
    assert site_info["userid"] == 2  # ids kept
    assert site_info["username"].startswith("username-")
    operations = (out / "graph.jsonl").read_text(encoding="utf-8").splitlines()
    found = next(json.loads(line) for line in operations if "viewer" in line)
    viewer = found["answer"]["data"]["viewer"]["moodle"]
    assert viewer["username"] == site_info["username"]  # the same input, the same replacement
    assert viewer["email"].endswith("@example.invalid")


def test_the_recorded_operations_replay_through_the_gateway_with_the_same_answers(
    recorded: tuple[Path, dict[str, str]],
) -> None:
    out, _ = recorded
    replayed = asyncio.run(replay(out))
    assert len(replayed) == 6  # three operations, two callers
    for found in replayed:
        assert found.missing == [], (found.case, found.role)
        assert found.answered == found.recorded, (found.case, found.role)
        if found.role == "teacher":  # a site administrator; a student is refused courses
            assert "errors" not in found.answered, found.answered


def test_the_command_writes_the_corpus_and_says_what(
    moodle: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(f'[sources.moodle]\nurl = "{moodle.url}"\n')
    token = moodle_login(moodle.url, "emil.zhou")
    out = tmp_path / "site"
    argv = ["record", "--config", str(config), "--source", "moodle", "--as", f"student={token}"]
    assert main([*argv, "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"wrote {out}: ")
    assert token not in said
    assert sorted(p.name for p in out.iterdir()) == [
        "corpus.json",
        "exchanges.jsonl",
        "graph.jsonl",
    ]
    assert (
        main(
            [
                "record",
                "--config",
                str(config),
                "--source",
                "flarum",
                "--as",
                "a=b",
                "--out",
                str(out),
            ]
        )
        == 2
    )


@pytest.mark.parametrize("path", operator_corpora() or [None], ids=str)
def test_an_operators_corpus_replays(path: Path | None) -> None:
    if path is None:
        pytest.skip(f"no operator corpus: set {RECORDINGS_ENV} (make test RECORDINGS=DIR)")
    for found in asyncio.run(replay(path)):
        assert found.missing == [], (found.case, found.role)
        assert found.answered == found.recorded, (found.case, found.role)


def test_the_corpus_recorded_from_the_real_moodle_replays() -> None:
    """`legacygraph record` run against the real Moodle 4.5.6 as an editing teacher and a
    student (`tests/recordings/moodle-4.5.6/record/`): the gateway answers the same from it."""
    replayed = asyncio.run(replay(corpus("moodle-4.5.6") / "record"))
    assert len(replayed) == 6
    for found in replayed:
        assert found.missing == [], (found.case, found.role)
        assert found.answered == found.recorded, (found.case, found.role)
    teacher = next(f for f in replayed if f.role == "teacher" and "participants" in f.case)
    courses = teacher.answered["data"]["courses"]["nodes"]
    assert [c["id"] for c in courses] == [
        "bW9vZGxlOkNvdXJzZToy", "bW9vZGxlOkNvdXJzZToz", "bW9vZGxlOkNvdXJzZTo1"
    ]  # fmt: skip
