"""Logs: one JSON object a line when asked, and no credential in them either way."""

from __future__ import annotations

import io
import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from graph.config import CacheSettings, Settings, secrets_in
from graph.server.logs import JsonFormatter, Redactor
from graph.sources.flarum.settings import FlarumSettings
from graph.sources.sections import SourcesSettings
from tests.conftest import Simulator, flarum_headers, login, running_gateway


@contextmanager
def json_lines(secrets: list[str]) -> Iterator[io.StringIO]:
    """The gateway's log records, as the `json` log format writes them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(Redactor(secrets))
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("legacygraph")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_a_record_is_one_json_line_with_credentials_taken_out() -> None:
    record = logging.LogRecord(
        "legacygraph.errors",
        logging.ERROR,
        __file__,
        1,
        "call to %s failed with Authorization: Token abcdef1234567890 and site key %s",
        ("http://lms.test/server.php?wstoken=0123456789abcdef&wsfunction=x", "s1te-k3y-value"),
        None,
    )
    try:
        raise ValueError("password=hunter2-secret in the traceback")
    except ValueError:
        record.exc_info = sys.exc_info()
    Redactor(["s1te-k3y-value"]).filter(record)
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["level"] == "error" and entry["logger"] == "legacygraph.errors"
    for secret in ("abcdef1234567890", "0123456789abcdef", "s1te-k3y-value", "hunter2-secret"):
        assert secret not in line
    assert "wsfunction=x" in entry["message"] and "ValueError" in entry["exception"]


def test_every_configured_secret_is_known_to_the_redactor() -> None:
    settings = Settings(
        sources=SourcesSettings(
            flarum=FlarumSettings(url="http://forum.test", api_key="flarum-service-key")
        ),
        cache=CacheSettings(url="redis://:pw@cache.test/0", secret="a-cache-secret-value"),
    )
    assert set(secrets_in(settings)) == {
        "flarum-service-key",
        "redis://:pw@cache.test/0",
        "a-cache-secret-value",
    }


def test_the_access_log_in_json_names_the_request_and_no_token(flarum: Simulator) -> None:
    token = login(flarum.url, "bea.abebe")
    with (
        running_gateway(flarum.url) as gateway,
        json_lines([]) as stream,
    ):
        gateway.query(
            "query Front { discussions(first: 2) { nodes { title } } }", **flarum_headers(token)
        )
        # The access line is written once the response has gone out: wait for it.
        deadline = time.monotonic() + 5
        while "legacygraph.access" not in stream.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    (access,) = [e for e in entries if e["logger"] == "legacygraph.access"]
    assert access["operation"] == "Front" and access["status"] == 200
    # The list, and once whether Flarum knows the caller's token.
    assert access["upstream"] == "flarum:2" and access["path"] == "/graphql"
    assert token not in stream.getvalue()
