"""The playground in a real browser: Debian's Chromium, driven by Playwright, with every request
recorded and anything not bound for the gateway refused."""

from __future__ import annotations

import csv
import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright

from simulators.world import DEMO_PASSWORD
from tests.conftest import Gateway, Simulator, running_gateway

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--proxy-server=http://127.0.0.1:9",  # anything that slipped past the routes goes nowhere
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.access(executable, os.X_OK):
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs Debian's chromium")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def playground(flarum: Simulator) -> Iterator[Gateway]:
    with running_gateway(flarum.url) as gateway:
        yield gateway


class Recorder:
    """Every request the page makes; those for another origin are refused and kept apart."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.seen: list[str] = []
        self.elsewhere: list[str] = []

    def __call__(self, route: Route) -> None:
        url = route.request.url
        self.seen.append(url)
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" == self.origin or parts.scheme in ("data", "blob"):
            route.continue_()
        else:
            self.elsewhere.append(url)
            route.abort()


def open_panel(page: Page, title: str) -> None:
    page.get_by_role("button", name=f"Show {title}").click()


def run_query(page: Page) -> None:
    page.get_by_role("button", name="Execute query").click()


def result_text(page: Page) -> str:
    return page.locator(".graphiql-response").inner_text().replace("\u00a0", " ")


def test_the_playground_runs_an_example_signs_in_and_shows_the_cost(
    browser: Browser, playground: Gateway, flarum: Simulator
) -> None:
    recorder = Recorder(playground.url)
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    context.route("**/*", recorder)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))

    page.goto(f"{playground.url}/graphql")  # a browser opening the endpoint lands on the page
    assert page.url == f"{playground.url}/playground/"

    # A saved example, as a guest: the latest discussions, and what they cost upstream.
    expected = playground.query("{ discussions(first: 20) { nodes { id title } } }")
    first_id = expected["data"]["discussions"]["nodes"][0]["id"]
    first_title = expected["data"]["discussions"]["nodes"][0]["title"]
    open_panel(page, "Examples")
    page.locator("[data-example=front-page]").click()
    expect(page.locator(".graphiql-query-editor")).to_contain_text("query FrontPage")
    flarum.counter.reset()
    run_query(page)
    expect(page.get_by_test_id("cost-flarum-requests")).to_have_text("1")
    assert flarum.counter.total == 1  # the panel tells the truth
    expect(page.get_by_test_id("cost-flarum-hits")).to_have_text("0")
    assert f'"id": "{first_id}"' in result_text(page)  # long strings wrap; an id does not

    # Its first list, exported as CSV: one row per discussion, nested fields flattened.
    with page.expect_download() as download:
        page.get_by_test_id("export-csv").click()
    path = download.value.path()
    rows = list(csv.DictReader(io.StringIO(Path(path).read_text(encoding="utf-8"))))
    assert len(rows) == len(expected["data"]["discussions"]["nodes"])
    assert rows[0]["title"] == first_title
    assert "author.displayName" in rows[0]

    # Sign in through the panel; the token lands in the headers editor, for this tab only.
    open_panel(page, "Sign in")
    page.get_by_label("Username").fill("bea.abebe")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_test_id("sign-in-status")).to_contain_text("X-Flarum-Token is set")
    expect(page.get_by_label("Password")).to_have_value("")
    expect(page.locator(".graphiql-editor-tool")).to_contain_text("X-Flarum-Token")
    page.wait_for_function(  # GraphiQL saves its tabs a moment after an edit
        "() => JSON.stringify(Object.assign({}, sessionStorage)).includes('X-Flarum-Token')"
    )
    token = page.evaluate("JSON.parse(sessionStorage.getItem('graphiql:headers'))")[
        "X-Flarum-Token"
    ]
    assert isinstance(token, str) and len(token) > 10
    kept_for_good = page.evaluate("JSON.stringify(Object.assign({}, window.localStorage))")
    assert "X-Flarum-Token" not in kept_for_good and token not in kept_for_good

    # The Explorer knows the schema (read by introspection through the gateway).
    open_panel(page, "GraphiQL Explorer")
    expect(page.locator(".graphiql-plugin")).to_contain_text("discussions")

    # A query only a signed-in caller can answer: who am I on Flarum.
    open_panel(page, "Examples")
    page.locator("[data-example=who-am-i]").click()
    expect(page.locator(".graphiql-query-editor")).to_contain_text("query WhoAmI")
    run_query(page)
    expect(page.locator(".graphiql-response")).to_contain_text("bea.abebe")
    expect(page.get_by_test_id("cost-flarum-requests")).to_have_text("1")

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "playground.png"))
    context.close()

    assert recorder.elsewhere == []
    assert any(url.endswith("/graphql") for url in recorder.seen)
    assert all(url.startswith(playground.url) for url in recorder.seen)
    secret_in_url = [url for url in recorder.seen if DEMO_PASSWORD in url or token in url]
    assert secret_in_url == []
    assert problems == []
