"""List calls never take a source's default page: each says how many it wants, or pages to the
end (within the caller's `first` and the gateway's caps). One test per list call whose source has
a default page, with more items than that page."""

from __future__ import annotations

from simulators.civicrm import api_key_of
from simulators.elgg.app import user_guid
from simulators.world import World
from tests.conftest import Simulator, running_civicrm, running_elgg, running_gateway


def test_a_member_of_more_groups_than_elggs_page_sees_them_all(
    world: World, flarum: Simulator
) -> None:
    """Elgg's `user.get_groups` answers 10 without a `limit`."""
    person = world.people[13]
    with running_elgg(world) as elgg, running_gateway(flarum.url, elgg_url=elgg.url) as gateway:
        with elgg.app.state.store.transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO members VALUES (?,?)",
                [(g.guid, user_guid(person.id)) for g in world.social_groups[:16]],
            )
        token = gateway.query(
            'mutation($u: String!) { login(source: ELGG, username: $u, password: "demo-password") { token } }',
            {"u": person.username},
        )["data"]["login"]["token"]
        body = gateway.query("{ viewer { elgg { groups { name } } } }", **{"X-Elgg-Token": token})
    names = {g["name"] for g in body["data"]["viewer"]["elgg"]["groups"]}
    assert len(names) >= 16
    assert {g.name for g in world.social_groups[:16]} <= names


def test_more_groups_than_civicrms_default_page_in_the_q_style(
    world: World, flarum: Simulator
) -> None:
    """API v3 answers 25 rows without a limit, also through `q=`."""
    with running_civicrm(world) as civicrm:
        for number in range(30):
            civicrm.app.state.store.create_group(f"Committee {number}", "")
        total = len(civicrm.app.state.store.all("SELECT id FROM groups"))
        with running_gateway(
            flarum.url, civicrm_url=civicrm.url, civicrm_options={"api_style": "q"}
        ) as gateway:
            body = gateway.query(
                "{ groups(source: CIVICRM, first: 100) { totalCount } }",
                **{"X-Civicrm-Api-Key": api_key_of("bea.abebe")},
            )
    assert total > 25
    assert body["data"]["groups"]["totalCount"] == total
