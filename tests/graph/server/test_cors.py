"""Browser apps on other origins: preflights, cross-origin requests, and what a refusal says.

The last tests drive Debian's Chromium against a page served from another loopback port."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from graph.config import CORS_HEADERS, ConfigError, CorsSettings, Settings, load_settings
from graph.schema.tracing import TRACE_HEADER
from graph.server.app import create_app
from graph.sources import SOURCES
from graph.sources.flarum.settings import FlarumSettings
from graph.sources.sections import SourcesSettings
from simulators.serve import serve_in_thread
from tests.browsers import chromium
from tests.conftest import Simulator, login

APP = "https://app.school.example"
OTHER = "https://evil.example"
QUERY = {"query": "{ discussions(first: 3) { nodes { title } } }"}
PREFLIGHT_VARY = (
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, "
    "Access-Control-Request-Private-Network"
)
EXPOSED = "etag, idempotent-replayed, retry-after"
DEFAULT_ALLOWED = (
    "Accept, Accept-Language, Content-Language, Content-Type, authorization, idempotency-key, "
    "x-civicrm-api-key, x-elgg-token, x-eqsash-token, x-flarum-token, x-legacygraph-trace, "
    "x-moodle-token"
)


@contextmanager
def gateway_with(flarum_url: str, cors: CorsSettings, **settings: Any) -> Iterator[str]:
    """The gateway over Flarum with these CORS settings; yields its base URL."""
    sources = SourcesSettings(flarum=FlarumSettings(url=flarum_url))
    with serve_in_thread(create_app(Settings(sources=sources, cors=cors, **settings))) as url:
        yield url


@pytest.fixture(scope="module")
def gateway_url(flarum: Simulator) -> Iterator[str]:
    with gateway_with(flarum.url, CorsSettings(allow_origins=(APP,))) as url:
        yield url


def preflight(url: str, origin: str, method: str = "POST", headers: str = "") -> httpx.Response:
    asked = {"origin": origin, "access-control-request-method": method}
    if headers:
        asked["access-control-request-headers"] = headers
    return httpx.options(f"{url}/graphql", headers=asked)


def granted(response: httpx.Response) -> dict[str, str]:
    """The CORS headers of an answer."""
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


def test_a_preflight_from_an_allowed_origin_is_204_with_exactly_what_is_allowed(
    gateway_url: str,
) -> None:
    response = preflight(gateway_url, APP, headers="content-type,x-flarum-token")
    assert response.status_code == 204
    assert response.content == b""
    assert granted(response) == {
        "access-control-allow-origin": APP,
        "access-control-allow-methods": "GET, POST",
        "access-control-allow-headers": DEFAULT_ALLOWED,
        "access-control-max-age": "600",
    }
    assert response.headers["vary"] == PREFLIGHT_VARY


def test_the_default_headers_are_every_source_header_and_the_gateways_own() -> None:
    assert set(CORS_HEADERS) == {
        "content-type",
        "authorization",
        *(spec.header.lower() for spec in SOURCES.values()),
        TRACE_HEADER.lower(),
        "idempotency-key",
    }
    assert "x-moodle-token" in CORS_HEADERS


def test_a_preflight_from_another_origin_is_refused_with_no_permission_at_all(
    gateway_url: str,
) -> None:
    response = preflight(gateway_url, OTHER, headers="content-type")
    assert response.status_code == 400
    assert response.text == "Disallowed CORS origin"
    assert granted(response) == {}
    assert response.headers["vary"] == PREFLIGHT_VARY


@pytest.mark.parametrize(
    ("method", "headers", "reason"),
    [("PUT", "", "method"), ("POST", "content-type,x-api-secret", "headers")],
)
def test_a_preflight_for_a_method_or_header_not_allowed_is_refused(
    gateway_url: str, method: str, headers: str, reason: str
) -> None:
    response = preflight(gateway_url, APP, method, headers)
    assert response.status_code == 400
    assert response.text == f"Disallowed CORS {reason}"
    assert granted(response) == {}


def test_a_cross_origin_post_from_an_allowed_origin_may_be_read(gateway_url: str) -> None:
    response = httpx.post(f"{gateway_url}/graphql", json=QUERY, headers={"origin": APP})
    assert response.status_code == 200
    assert len(response.json()["data"]["discussions"]["nodes"]) == 3
    assert granted(response) == {
        "access-control-allow-origin": APP,
        "access-control-expose-headers": EXPOSED,
    }
    assert "Origin" in response.headers["vary"]


def test_an_answer_to_another_origin_grants_nothing(gateway_url: str) -> None:
    """The gateway still answers (CORS is the browser's to enforce), but no browser lets the
    other origin's script read it."""
    response = httpx.post(f"{gateway_url}/graphql", json=QUERY, headers={"origin": OTHER})
    assert response.status_code == 200
    assert granted(response) == {}
    assert "Origin" in response.headers["vary"]


def test_a_same_origin_request_says_that_the_answer_varies_by_origin(gateway_url: str) -> None:
    response = httpx.post(f"{gateway_url}/graphql", json=QUERY)
    assert granted(response) == {}
    assert "Origin" in response.headers["vary"]


def test_with_credentials_only_the_allowed_origin_is_told_so(flarum: Simulator) -> None:
    cors = CorsSettings(allow_origins=(APP,), allow_credentials=True, max_age=60)
    with gateway_with(flarum.url, cors) as url:
        allowed = preflight(url, APP)
        refused = preflight(url, OTHER)
        answer = httpx.post(f"{url}/graphql", json=QUERY, headers={"origin": APP})
        elsewhere = httpx.post(f"{url}/graphql", json=QUERY, headers={"origin": OTHER})
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert allowed.headers["access-control-max-age"] == "60"
    assert granted(refused) == {}
    assert granted(answer) == {
        "access-control-allow-origin": APP,
        "access-control-allow-credentials": "true",
        "access-control-expose-headers": EXPOSED,
    }
    assert granted(elsewhere) == {}  # Starlette's own middleware would grant credentials here


def test_any_origin_without_credentials(flarum: Simulator) -> None:
    with gateway_with(flarum.url, CorsSettings(allow_origins=("*",))) as url:
        allowed = preflight(url, OTHER)
        answer = httpx.post(f"{url}/graphql", json=QUERY, headers={"origin": OTHER})
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in allowed.headers
    assert answer.headers["access-control-allow-origin"] == "*"


def test_origins_matching_the_regex_whole(flarum: Simulator) -> None:
    cors = CorsSettings(allow_origin_regex=r"https://[a-z0-9-]+\.school\.example")
    with gateway_with(flarum.url, cors) as url:
        answers = {
            origin: preflight(url, origin)
            for origin in (
                "https://app.school.example",
                "https://parents.school.example",
                "https://app.school.example.evil.example",  # matches only at the start
                "http://app.school.example",
            )
        }
    assert {origin: a.status_code for origin, a in answers.items()} == {
        "https://app.school.example": 204,
        "https://parents.school.example": 204,
        "https://app.school.example.evil.example": 400,
        "http://app.school.example": 400,
    }
    allowed = answers["https://parents.school.example"]
    assert allowed.headers["access-control-allow-origin"] == "https://parents.school.example"


def test_off_by_default_same_origin_only(flarum: Simulator) -> None:
    with gateway_with(flarum.url, CorsSettings()) as url:
        asked = preflight(url, APP)
        answer = httpx.post(f"{url}/graphql", json=QUERY, headers={"origin": APP})
    assert asked.status_code == 405
    assert granted(asked) == {}
    assert answer.status_code == 200
    assert granted(answer) == {}


def test_the_playground_keeps_its_content_security_policy(gateway_url: str) -> None:
    page = httpx.get(f"{gateway_url}/playground/", headers={"origin": APP})
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert "connect-src 'self'" in page.headers["content-security-policy"]


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(f'[sources.flarum]\nurl = "http://127.0.0.1:9104"\n\n[cors]\n{text}\n')
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'allow_origins = ["*"]\nallow_credentials = true',
            "cors.allow_origins: `*` cannot go with allow_credentials = true",
        ),
        ('allow_origins = ["https://app.school.example/"]', "is not an origin"),
        ('allow_origins = ["https://App.school.example"]', "is not an origin"),
        ('allow_origins = ["https://app.school.example:443"]', "is not an origin"),
        ('allow_origins = ["null"]', "'null' is not an origin"),
        ('allow_origins = ["app.school.example"]', "is not an origin"),
        ('allow_origin_regex = "https://(app"', "cors.allow_origin_regex: not a regular"),
        ("max_age = -1", "cors.max_age: must not be negative"),
        ('allow_origins = "https://app.school.example"', "must be a list of strings"),
    ],
)
def test_config_mistakes_stop_the_gateway_with_one_line(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_config_file_and_the_environment(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        'allow_origins = ["https://app.school.example", "http://127.0.0.1:5173"]\n'
        'allow_headers = ["content-type", "x-flarum-token"]\nmax_age = 3600',
    )
    cors = load_settings(path).cors
    assert cors.allow_origins == ("https://app.school.example", "http://127.0.0.1:5173")
    assert cors.allow_headers == ("content-type", "x-flarum-token")
    assert cors.max_age == 3600
    assert cors.enabled
    environ = {"LEGACYGRAPH_CORS__ALLOW_ORIGINS": "https://a.example, https://b.example"}
    assert load_settings(path, environ).cors.allow_origins == (
        "https://a.example",
        "https://b.example",
    )
    environ = {"LEGACYGRAPH_CORS__ALLOW_ORIGINS": "*", "LEGACYGRAPH_CORS__ALLOW_CREDENTIALS": "1"}
    with pytest.raises(ConfigError, match=r"^environment variable LEGACYGRAPH_CORS__ALLOW_"):
        load_settings(path, environ)
    assert not Settings().cors.enabled


# In a real browser: a page on another loopback port calls the gateway with `fetch`.

PAGE = "<!doctype html><title>An app on another origin</title><p>app</p>"
ASK = """async ([gateway, token]) => {
    try {
        const response = await fetch(gateway + "/graphql", {
            method: "POST",
            headers: {"content-type": "application/json", "x-flarum-token": token},
            body: JSON.stringify({query: "{ viewer { flarum { username } } discussions(first: 50) { nodes { title } } }"}),
        });
        return {status: response.status, body: await response.json()};
    } catch (error) {
        return {blocked: String(error)};
    }
}"""
TAG = """async ([gateway, token]) => {
    const query = encodeURIComponent("{ discussions(first: 2) { nodes { title } } }");
    const response = await fetch(gateway + "/graphql?query=" + query, {headers: {"x-flarum-token": token}});
    return {etag: response.headers.get("etag"), cacheControl: response.headers.get("cache-control")};
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@contextmanager
def static_site() -> Iterator[str]:
    """A tiny app of its own on a free loopback port: another origin than the gateway's."""

    async def index(request: Any) -> HTMLResponse:
        return HTMLResponse(PAGE)

    with serve_in_thread(Starlette(routes=[Route("/", index)])) as url:
        yield url


def test_a_browser_app_on_an_allowed_origin_reads_the_answer_and_another_is_blocked(
    browser: Browser, flarum: Simulator
) -> None:
    token = login(flarum.url, "bea.abebe")
    with (
        static_site() as app_url,
        static_site() as other_url,
        gateway_with(flarum.url, CorsSettings(allow_origins=(app_url,))) as gateway_url,
    ):
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(f"{app_url}/")
            flarum.counter.reset()
            allowed = page.evaluate(ASK, [gateway_url, token])
            asked_upstream = flarum.counter.total
            tagged = page.evaluate(TAG, [gateway_url, token])
            page.goto(f"{other_url}/")
            flarum.counter.reset()
            refused = page.evaluate(ASK, [gateway_url, token])
            refused_upstream = flarum.counter.total
        finally:
            context.close()
    assert allowed["status"] == 200
    assert allowed["body"]["data"]["viewer"]["flarum"]["username"] == "bea.abebe"
    assert len(allowed["body"]["data"]["discussions"]["nodes"]) == 50
    assert asked_upstream >= 1
    assert tagged["etag"].startswith(('"', 'W/"'))  # exposed: the app can send it back
    assert tagged["cacheControl"].startswith("private")  # safelisted: always readable
    assert "Failed to fetch" in refused["blocked"]
    assert refused_upstream == 0  # the preflight was refused, so the query was never sent


def test_the_documented_cors_sample_is_valid(tmp_path: Path) -> None:
    page = (Path(__file__).parents[3] / "docs/guide/apps.md").read_text()
    sample = page.split("```toml\n[cors]\n", 1)[1].split("```", 1)[0]
    cors = load_settings(write_config(tmp_path, sample)).cors
    assert cors.allow_origins == ("https://app.school.example", "http://127.0.0.1:5173")
    assert cors.allow_headers == CORS_HEADERS  # the page shows the default
    assert cors == CorsSettings(allow_origins=cors.allow_origins)
    example = re.search(r'allow_origin_regex = "".*e\.g\. (".*")', sample)
    assert example is not None
    regex = tomllib.loads(f"regex = {example[1]}")["regex"]  # as TOML reads it
    assert re.fullmatch(regex, "https://parents.school.example")
    assert not re.fullmatch(regex, "https://parents.school.example.evil.example")
