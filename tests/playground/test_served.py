"""The gateway serves the built playground and its examples, from its own origin only."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from graph.config import ConfigError, PlaygroundSettings, Settings
from graph.config import load_settings as load
from graph.server.app import create_app
from graph.server.playground import BUILT, SHIPPED_EXAMPLES
from graph.sources.flarum.settings import FlarumSettings
from graph.sources.sections import SourcesSettings
from simulators.serve import serve_in_thread
from tests.conftest import Gateway

BROWSER = {"Accept": "text/html,application/xhtml+xml"}


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value or "" for name, value in attrs if name in ("src", "href")]


def test_every_src_and_href_of_the_built_page_is_relative() -> None:
    links = Links()
    links.feed((BUILT / "index.html").read_text(encoding="utf-8"))
    assert len(links.urls) >= 3  # the icon, the script, the styles
    for url in links.urls:
        assert url.startswith("./") or url.startswith("data:"), url
        assert (url.startswith("data:")) or (BUILT / url).is_file(), url


def test_the_built_assets_load_no_stylesheet_or_font_from_elsewhere() -> None:
    for css in BUILT.glob("assets/*.css"):
        for url in re.findall(r"url\(([^)]*)\)", css.read_text(encoding="utf-8")):
            url = url.strip("'\"")
            assert url.startswith(("data:", "./", "#")), (css.name, url)
        assert "@import" not in css.read_text(encoding="utf-8")


def test_the_playground_is_served_with_a_policy_that_allows_this_origin_only(
    gateway: Gateway,
) -> None:
    page = httpx.get(f"{gateway.url}/playground/")
    assert page.status_code == 200
    assert "<title>legacygraph playground</title>" in page.text
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy
    assert "http" not in policy  # no other host is allowed anything
    assert page.headers["cache-control"] == "no-cache"
    script = re.search(r'src="\./(assets/[^"]+\.js)"', page.text)
    assert script is not None
    asset = httpx.get(f"{gateway.url}/playground/{script.group(1)}")
    assert asset.status_code == 200
    assert asset.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert "immutable" in asset.headers["cache-control"]


def test_a_browser_opening_the_endpoint_is_sent_to_the_playground(gateway: Gateway) -> None:
    for path in ("/graphql", "/playground"):
        response = httpx.get(f"{gateway.url}{path}", headers=BROWSER)
        assert response.status_code == 307
        assert response.headers["location"] == "/playground/"
    # A GraphQL request sent by GET is still one, whatever the client accepts.
    answer = httpx.get(
        f"{gateway.url}/graphql", params={"query": "{ __typename }"}, headers=BROWSER
    )
    assert answer.json() == {"data": {"__typename": "Query"}}


def test_the_examples_are_listed_with_their_text_and_operation(gateway: Gateway) -> None:
    listed = httpx.get(f"{gateway.url}/playground/examples.json").json()
    files = sorted(SHIPPED_EXAMPLES.glob("*.graphql"))
    assert [example["name"] for example in listed] == [path.stem for path in files]
    front = next(example for example in listed if example["name"] == "front-page")
    assert front["query"] == (SHIPPED_EXAMPLES / "front-page.graphql").read_text()
    assert front["operationName"] == "FrontPage"
    assert front["title"] == "Front page"
    assert front["description"].startswith("A forum front page")


def settings_with(playground: PlaygroundSettings) -> Settings:
    flarum = FlarumSettings(url="http://127.0.0.1:9")
    return Settings(sources=SourcesSettings(flarum=flarum), playground=playground)


def test_the_playground_can_be_turned_off() -> None:
    with serve_in_thread(create_app(settings_with(PlaygroundSettings(enabled=False)))) as url:
        assert httpx.get(f"{url}/playground/").status_code == 404
        assert httpx.get(f"{url}/playground/examples.json").status_code == 404
        assert httpx.get(f"{url}/graphql", headers=BROWSER).status_code != 307


def test_an_operator_can_list_examples_of_their_own(tmp_path: Path) -> None:
    (tmp_path / "rota.graphql").write_text(
        "# This week's rota.\nquery Rota { viewer { flarum { username } } }\n"
    )
    settings = settings_with(PlaygroundSettings(examples=str(tmp_path)))
    with serve_in_thread(create_app(settings)) as url:
        (rota,) = httpx.get(f"{url}/playground/examples.json").json()
    assert rota["name"] == "rota" and rota["description"] == "This week's rota."


def test_a_missing_examples_directory_stops_the_gateway(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(f'[playground]\nexamples = "{tmp_path / "nowhere"}"\n')
    with pytest.raises(ConfigError, match=r"playground\.examples: .* is no directory"):
        load(config)
