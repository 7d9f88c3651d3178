"""The playground in a real browser: Debian's Chromium, driven by Playwright, with every request
recorded and anything not bound for the gateway refused."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from cryptography.fernet import Fernet
from playwright.sync_api import Browser, Page, Route, expect

from graph.config import SessionSettings
from simulators.world import DEMO_PASSWORD
from tests.browsers import chromium
from tests.conftest import Gateway, Simulator, running_gateway

pytestmark = pytest.mark.slow  # a real Chromium

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


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
        self.problems: list[str] = []

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


@contextmanager
def recorded_page(browser: Browser, gateway: Gateway) -> Iterator[tuple[Page, Recorder]]:
    """A fresh browser context whose every request is recorded (and refused if it is not for
    the gateway); page errors and console errors are collected in `recorder.problems`."""
    recorder = Recorder(gateway.url)
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    context.route("**/*", recorder)
    page = context.new_page()
    page.on("pageerror", lambda error: recorder.problems.append(str(error)))
    page.on("console", lambda m: m.type == "error" and recorder.problems.append(m.text))
    try:
        yield page, recorder
    finally:
        context.close()
    assert recorder.elsewhere == []
    assert all(url.startswith(gateway.url) for url in recorder.seen)
    assert recorder.problems == []


def sign_in(page: Page, source: str, username: str) -> None:
    open_panel(page, "Sign in")
    page.locator("select[name=source]").select_option(source)
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()


def choose_example(page: Page, name: str, operation: str) -> None:
    open_panel(page, "Examples")
    page.locator(f"[data-example={name}]").click()
    expect(page.locator(".graphiql-query-editor")).to_contain_text(f"query {operation}")


def test_the_playground_runs_an_example_signs_in_and_shows_the_cost(
    browser: Browser, playground: Gateway, flarum: Simulator
) -> None:
    with recorded_page(browser, playground) as (page, recorder):
        token = run_the_tour(page, playground, flarum)
    assert any(url.endswith("/graphql") for url in recorder.seen)
    secret_in_url = [url for url in recorder.seen if DEMO_PASSWORD in url or token in url]
    assert secret_in_url == []


def run_the_tour(page: Page, playground: Gateway, flarum: Simulator) -> str:
    """An example as a guest, its cost and export, a sign-in, the Explorer, a signed-in query.
    Returns the token the page was given."""
    page.goto(f"{playground.url}/graphql")  # a browser opening the endpoint lands on the page
    assert page.url == f"{playground.url}/playground/"

    # A saved example, as a guest: the latest discussions, and what they cost upstream.
    expected = playground.query("{ discussions(first: 20) { nodes { id title } } }")
    first_id = expected["data"]["discussions"]["nodes"][0]["id"]
    first_title = expected["data"]["discussions"]["nodes"][0]["title"]
    choose_example(page, "front-page", "FrontPage")
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
    sign_in(page, "FLARUM", "bea.abebe")
    expect(page.get_by_test_id("sign-in-status")).to_contain_text("X-Flarum-Token is set")
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    expect(page.locator(".graphiql-editor-tool")).to_contain_text("X-Flarum-Token")
    page.wait_for_function(  # GraphiQL saves its tabs a moment after an edit
        "() => JSON.stringify(Object.assign({}, sessionStorage)).includes('X-Flarum-Token')"
    )
    headers = page.evaluate("JSON.parse(sessionStorage.getItem('graphiql:headers'))")
    token: str = headers["X-Flarum-Token"]
    assert len(token) > 10
    kept_for_good = page.evaluate("JSON.stringify(Object.assign({}, window.localStorage))")
    assert "X-Flarum-Token" not in kept_for_good and token not in kept_for_good

    # The Explorer knows the schema (read by introspection through the gateway).
    open_panel(page, "GraphiQL Explorer")
    expect(page.locator(".graphiql-plugin")).to_contain_text("discussions")

    # A query only a signed-in caller can answer: who am I on Flarum.
    choose_example(page, "who-am-i", "WhoAmI")
    run_query(page)
    expect(page.locator(".graphiql-response")).to_contain_text("bea.abebe")
    expect(page.get_by_test_id("cost-flarum-requests")).to_have_text("1")

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "playground.png"))
    return token


def test_signing_in_everywhere_sends_one_session_for_all_sources(
    browser: Browser,
    flarum: Simulator,
    moodle: Simulator,
    civicrm: Simulator,
    elgg: Simulator,
    eqsash: Simulator,
) -> None:
    sessions = SessionSettings(keys=(Fernet.generate_key().decode(),))
    with (
        running_gateway(
            flarum.url,
            moodle.url,
            civicrm_url=civicrm.url,
            elgg_url=elgg.url,
            eqsash_url=eqsash.url,
            session=sessions,
        ) as gateway,
        recorded_page(browser, gateway) as (page, _),
    ):
        page.goto(f"{gateway.url}/playground/")
        sign_in(page, "ALL", "bea.abebe")
        status = page.get_by_test_id("sign-in-status")
        expect(status).to_contain_text("Signed in to flarum, moodle, elgg, eqsash")
        # CiviCRM 5 exchanges no password for an api key, and the panel says so.
        expect(status).to_contain_text("Not signed in: civicrm: CiviCRM 5 has no login by password")
        expect(status).to_contain_text("Authorization (one session for all) is set")
        expect(page.locator(".graphiql-editor-tool")).to_contain_text("Bearer")
        choose_example(page, "my-courses", "MyCourses")
        moodle.counter.reset()
        run_query(page)
        expect(page.locator(".graphiql-response")).to_contain_text("Bea Abebe")
        expect(page.get_by_test_id("cost-moodle")).to_be_visible()
        assert moodle.counter.total >= 1  # the session's Moodle token reached Moodle
        expect(page.get_by_test_id("cost-moodle-requests")).to_have_text(str(moodle.counter.total))


def test_will_it_work_shows_the_doctor_report_for_the_signed_in_caller(
    browser: Browser, playground: Gateway
) -> None:
    with recorded_page(browser, playground) as (page, recorder):
        page.goto(f"{playground.url}/playground/")
        sign_in(page, "FLARUM", "emil.zhou")
        expect(page.get_by_test_id("sign-in-status")).to_contain_text("X-Flarum-Token is set")
        page.wait_for_function(  # GraphiQL saves its tabs a moment after an edit
            "() => JSON.stringify(Object.assign({}, sessionStorage)).includes('X-Flarum-Token')"
        )
        headers = page.evaluate("JSON.parse(sessionStorage.getItem('graphiql:headers'))")
        token: str = headers["X-Flarum-Token"]
        open_panel(page, "Will it work?")
        page.get_by_test_id("doctor").get_by_role("button", name="Check").click()
        forum = page.get_by_test_id("doctor-flarum")
        expect(forum).to_contain_text("✓ reachable")
        expect(forum).to_contain_text("✓ identity (caller 1): emil.zhou")
        expect(forum).to_contain_text("✓ Mutation.startDiscussion (caller 1)")
        expect(page.get_by_test_id("doctor-verdict")).to_have_text("✓ Every configured part works.")
    assert any(url.endswith("/playground/doctor.json") for url in recorder.seen)
    assert [url for url in recorder.seen if token in url] == []
