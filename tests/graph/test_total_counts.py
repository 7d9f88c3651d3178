"""`totalCount` where the system counts: CiviCRM's `getcount` for contacts and people, asked
only when a query selects it; Flarum 1.7 counts none of its lists (no `meta` in any recorded
list answer), so there it stays null."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from simulators.civicrm import api_key_of
from simulators.world import World
from tests.conftest import Gateway, Simulator, running_civicrm, running_gateway

STAFF = {"X-Civicrm-Api-Key": api_key_of("bea.abebe")}  # may view all contacts


@pytest.fixture(scope="module")
def crm(world: World) -> Iterator[Simulator]:
    with running_civicrm(world) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def graph(crm: Simulator, flarum: Simulator) -> Iterator[Gateway]:
    off = {"cache_ttl_s": 0.0}
    with running_gateway(flarum.url, civicrm_url=crm.url, civicrm_options=off, **off) as gateway:
        yield gateway


def calls(crm: Simulator) -> dict[str, int]:
    counted: dict[str, int] = crm.app.state.calls.snapshot()
    return counted


def test_contacts_are_counted_in_one_more_call_only_when_asked(
    graph: Gateway, crm: Simulator, world: World
) -> None:
    crm.app.state.calls.reset()
    body = graph.query("{ contacts(first: 5) { totalCount nodes { id } } }", **STAFF)
    assert "errors" not in body, body
    assert body["data"]["contacts"]["totalCount"] == len(world.contacts)
    assert len(body["data"]["contacts"]["nodes"]) == 5
    assert calls(crm) == {"Contact.get": 1, "Contact.getcount": 1}
    crm.app.state.calls.reset()
    body = graph.query("{ contacts(first: 5) { nodes { id } pageInfo { hasNextPage } } }", **STAFF)
    assert calls(crm) == {"Contact.get": 1}


def test_a_search_is_counted_with_its_own_filters(
    graph: Gateway, crm: Simulator, world: World
) -> None:
    person = next(c for c in world.contacts if c.contact_type == "Individual")
    name = f"{person.first_name} {person.last_name}"
    body = graph.query(
        "query($s: String) { contacts(first: 100, search: $s) { totalCount nodes { id } } }",
        {"s": name},
        **STAFF,
    )
    contacts = body["data"]["contacts"]
    assert 1 <= contacts["totalCount"] == len(contacts["nodes"]) < len(world.contacts)


def test_people_count_the_individuals_with_an_e_mail(
    graph: Gateway, crm: Simulator, world: World
) -> None:
    crm.app.state.calls.reset()
    body = graph.query("{ people(first: 3) { totalCount nodes { email } } }", **STAFF)
    assert "errors" not in body, body
    expected = sum(c.contact_type == "Individual" and bool(c.email) for c in world.contacts)
    assert body["data"]["people"]["totalCount"] == expected
    assert calls(crm) == {"Contact.get": 1, "Contact.getcount": 1}


def test_flarum_lists_say_they_cannot_count(graph: Gateway, flarum: Simulator) -> None:
    flarum.counter.reset()
    body = graph.query("{ discussions(first: 2) { totalCount } }")
    assert body["data"]["discussions"]["totalCount"] is None
    assert flarum.counter.snapshot() == {"GET /api/discussions": 1}


def test_the_q_style_counts_nothing(world: World, flarum: Simulator) -> None:
    with (
        running_civicrm(world) as crm,
        running_gateway(
            flarum.url, civicrm_url=crm.url, civicrm_options={"api_style": "q"}
        ) as gateway,
    ):
        body = gateway.query("{ contacts(first: 2) { totalCount nodes { id } } }", **STAFF)
        assert body["data"]["contacts"]["totalCount"] is None
        assert len(body["data"]["contacts"]["nodes"]) == 2
