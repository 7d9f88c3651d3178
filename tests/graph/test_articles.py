"""Eqsash articles through the gateway, and the allow-listed escape hatch."""

from __future__ import annotations

from graph.schema.ids import GlobalId
from simulators.world import World
from tests.conftest import Gateway, Simulator, errors_by_path, running_gateway

ARTICLES = """{ articles(first: 30) { totalCount pageInfo { hasNextPage }
  nodes { title publishedAt author { login displayName } section { name } } } }"""


def eqsash_login(gateway: Gateway, username: str) -> dict[str, str]:
    body = gateway.query(
        'mutation($u: String!) { login(source: EQSASH, username: $u, password: "demo-password") { token expiresAt account { username } } }',
        {"u": username},
    )
    payload = body["data"]["login"]
    assert payload["account"] == {"username": username} and payload["expiresAt"]
    return {"X-Eqsash-Token": payload["token"]}


def test_thirty_articles_with_authors_and_sections_cost_three_calls(
    everything: Gateway, eqsash: Simulator, world: World
) -> None:
    eqsash.counter.reset()
    eqsash.app.state.calls.reset()
    body = everything.query(ARTICLES)
    assert "errors" not in body, body["errors"]
    articles = body["data"]["articles"]
    assert (
        articles["totalCount"] == len(world.articles)
        and articles["pageInfo"]["hasNextPage"] is True
    )
    newest = sorted(world.articles, key=lambda a: a.published_at, reverse=True)[:30]
    people = {p.id: p for p in world.people}
    sections = {s.id: s.name for s in world.sections}
    assert [
        (n["title"], n["author"]["login"], n["section"]["name"]) for n in articles["nodes"]
    ] == [(a.title, people[a.author_id].username, sections[a.section_id]) for a in newest]
    assert eqsash.counter.total == 3
    assert eqsash.app.state.calls.snapshot() == {
        "articles.list": 1,
        "users.get_many": 1,
        "sections.list": 1,
    }


def test_role_restricted_calls_through_the_escape_hatch(
    everything: Gateway, eqsash: Simulator, world: World
) -> None:
    query = '{ eqsashCall(module: "stats", method: "get_counters") }'
    editor = everything.query(query, **eqsash_login(everything, world.people[1].username))
    users = sum(p.has_account("eqsash") for p in world.people)
    assert editor["data"]["eqsashCall"] == {
        "users": users,
        "articles": len(world.articles),
        "sections": len(world.sections),
    }
    member = everything.query(query, **eqsash_login(everything, world.people[20].username))
    assert errors_by_path(member)["eqsashCall"]["extensions"] == {
        "code": "FORBIDDEN",
        "source": "EQSASH",
        "upstreamCode": "access_denied",
    }
    anonymous = everything.query(query)
    assert errors_by_path(anonymous)["eqsashCall"]["extensions"]["code"] == "UNAUTHENTICATED"


def test_the_escape_hatch_refuses_pairs_off_the_list_before_calling(
    everything: Gateway, eqsash: Simulator
) -> None:
    eqsash.counter.reset()
    for module, method in (("stats", "rebuild"), ("users", "get_user_id"), ("articles", "list")):
        body = everything.query(
            "query($m: String!, $f: String!) { eqsashCall(module: $m, method: $f) }",
            {"m": module, "f": method},
        )
        assert errors_by_path(body)["eqsashCall"]["extensions"] == {
            "code": "BAD_USER_INPUT",
            "field": "method",
        }
    assert eqsash.counter.total == 0


def test_an_internal_method_is_refused_by_the_site(flarum: Simulator, eqsash: Simulator) -> None:
    options = {"callable": ("stats.rebuild",)}
    with running_gateway(flarum.url, eqsash_url=eqsash.url, eqsash_options=options) as gateway:
        body = gateway.query('{ eqsashCall(module: "stats", method: "rebuild") }')
    assert errors_by_path(body)["eqsashCall"]["extensions"] == {
        "code": "FORBIDDEN",
        "source": "EQSASH",
        "upstreamCode": "internal_method",
    }


def test_a_wrong_site_key_fails_eqsash_only(flarum: Simulator, eqsash: Simulator) -> None:
    with running_gateway(
        flarum.url, eqsash_url=eqsash.url, eqsash_options={"api_key": "54321"}
    ) as gateway:
        body = gateway.query(
            "{ articles(first: 1) { nodes { title } } discussions(first: 1) { nodes { title } } }"
        )
    assert errors_by_path(body)["articles"]["extensions"] == {
        "code": "UNAUTHENTICATED",
        "source": "EQSASH",
        "upstreamCode": "invalid_key",
    }
    assert body["data"]["discussions"]["nodes"]


def test_viewer_sections_and_nodes(everything: Gateway, world: World) -> None:
    person = world.people[0]
    headers = eqsash_login(everything, person.username)
    body = everything.query("{ viewer { eqsash { login roles email } } }", **headers)
    assert body["data"]["viewer"]["eqsash"] == {
        "login": person.username,
        "roles": ["administrator"],
        "email": person.email,
    }
    news = next(s for s in world.sections if s.name == "News")
    section = everything.query(
        "query($id: ID!) { node(id: $id) { ... on Section { name articles(first: 100) { totalCount } } } }",
        {"id": GlobalId("eqsash", "Section", str(news.id)).encode()},
    )["data"]["node"]
    assert section == {
        "name": "News",
        "articles": {"totalCount": sum(a.section_id == news.id for a in world.articles)},
    }
