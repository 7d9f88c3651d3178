"""CiviCRM (contacts): the site key and a user's api key; no guests."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx
from aiodataloader import DataLoader

from connectors import civicrm
from connectors.civicrm import Civicrm, CivicrmAuth
from connectors.civicrm.client import OnDuplicate
from connectors.civicrm.results import SLASHED_JSON
from connectors.errors import NotFound, ProtocolError, Unauthenticated
from connectors.http import Upstream
from connectors.memory import Recollection
from graph.doctor.report import Need
from graph.loaders import Once, loader
from graph.sources.civicrm.doctor import diagnose
from graph.sources.civicrm.settings import CivicrmSettings, site
from graph.sources.spec import Acting, Connection, PeopleLookup, SignedIn, SourceSpec

__all__ = ["CIVICRM", "CivicrmLoaders"]


def credential(settings: CivicrmSettings | None, api_key: str | None) -> str | None:
    """CiviCRM's REST interface has no guests: no api key, no call."""
    if api_key is None and settings is not None and settings.allow_service_fallback:
        api_key = settings.api_key
    if api_key is None:
        raise Unauthenticated("civicrm", "CiviCRM needs an api key: send X-Civicrm-Api-Key")
    return api_key


def acting(settings: CivicrmSettings, api_key: str | None) -> Acting:
    return Acting(CivicrmAuth(settings.site_key, api_key), f"api_key:{api_key}")


def connect(upstream: Upstream, settings: CivicrmSettings, memory: Recollection | None) -> Civicrm:
    return site(upstream, settings)


async def ping(name: str, settings: CivicrmSettings, client: httpx.AsyncClient) -> str:
    """What callers will need, as far as the gateway can tell without a caller's api key.

    With a service api key: a read that needs the site key and an api key, as every caller's
    does. Without one, the two REST routes say different things (recorded on 5.77):
    `extern/rest.php` checks the site key first, so a refusal of the missing api key means the
    site key passed; WordPress's route checks the api key first, so nothing tells whether the
    site key is right, and the report says so. On WordPress, `extern/rest.php` cannot read the
    JSON the entity style sends: every caller's call would fail, and readiness says so first.
    """
    wordpress_extern = "/wp-content/" in settings.rest_path and settings.rest_path.endswith(
        "extern/rest.php"
    )
    if wordpress_extern and settings.api_style == "entity":
        raise ProtocolError(name, SLASHED_JSON, upstream_code="json")
    auth = CivicrmAuth(settings.site_key, settings.api_key or None)
    civicrm = site(Upstream(name, client, settings.url, auth), settings)
    try:
        await civicrm.groups(ids=[1])
    except Unauthenticated as error:
        if settings.api_key or "site key" in error.message:
            raise
        if error.upstream_code == "civicrm_rest_api_error":  # WordPress's route
            return (
                "reachable; the site key is not checked: this route refuses a call without an "
                "api key before it reads the site key, and no service api_key is configured"
            )
        return "reachable, site key ok; callers' calls not checked (no service api_key)"
    return "reachable, site key and service api_key ok"


async def login(
    civicrm: Civicrm, settings: CivicrmSettings, username: str, password: str
) -> SignedIn:
    return SignedIn(await civicrm.login(username, password))


async def account(civicrm: Civicrm, user_id: str | None) -> Any:
    return await civicrm.me()


def people(loaders: CivicrmLoaders) -> PeopleLookup:
    return PeopleLookup(find=loaders.contacts_by_email)


def over_simulator(url: str) -> CivicrmSettings:
    from simulators.civicrm import SITE_KEY

    return CivicrmSettings(url=url, site_key=SITE_KEY)


class SiteCache:
    """What every caller of a site sees alike (its relationship types), kept `ttl_s` seconds
    per site in this process: the first request asks, the next ones do not. Keyed by the
    site's address only: no caller's key is in it. `clock` is injectable for tests."""

    def __init__(self, ttl_s: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self._held: dict[str, tuple[float, Any]] = {}

    async def get(self, site: str, ask: Callable[[], Awaitable[Any]]) -> Any:
        held = self._held.get(site)
        if held is not None and held[0] > self.clock():
            return held[1]
        value = await ask()
        self._held[site] = (self.clock() + self.ttl_s, value)
        return value

    def clear(self) -> None:
        self._held.clear()


RELATIONSHIP_TYPES = SiteCache()
"""CiviCRM's relationship types with their labels, per site (`RelationshipType.get`)."""


class CivicrmLoaders:
    """CiviCRM: contacts and groups by id, and memberships both ways, one `IN` call per batch
    (API v3; the v2 style has no `IN`, and its connector calls once per id instead); the
    relationships of a page of contacts in one call; the custom fields the caller may see,
    asked once a request, and their values for a page of contacts in one call. What a list or
    a write answers is kept here for later reads by id, and what a membership change makes
    stale is forgotten here: never by a resolver."""

    def __init__(self, connection: Connection[civicrm.Civicrm]) -> None:
        self._civicrm = connection.site
        self.contacts: DataLoader[int, civicrm.Contact] = loader(self._contacts)
        self.groups: DataLoader[int, civicrm.Group] = loader(self._groups)
        self.groups_of_contact: DataLoader[int, list[int]] = loader(self._groups_of_contact)
        self.members_of_group: DataLoader[int, list[int]] = loader(self._members_of_group)
        self.relationships_of_contact: DataLoader[int, list[civicrm.Relationship]] = loader(
            self._relationships
        )
        self.custom_values: DataLoader[int, dict[str, str]] = loader(self._custom_values)
        self._viewer = Once(lambda: self._civicrm().me())
        self._custom_fields = Once(lambda: self._civicrm().custom_fields())
        self._relationship_types = Once(self._ask_relationship_types)

    async def contact_list(
        self,
        *,
        search: str | None,
        group_id: int | None,
        where: civicrm.ContactFilter | None,
        returned: Sequence[str] | None,
        custom: Sequence[civicrm.CustomField],
        limit: int,
        offset: int,
    ) -> list[civicrm.Contact]:
        """A window of contacts (`Civicrm.contacts`). Whole contacts (`returned` None) are
        kept, so later reads of them by id cost nothing, and so are the custom values that
        came along (asked with `custom`)."""
        found = await self._civicrm().contacts(
            search=search,
            group_id=group_id,
            where=where,
            returned=returned,
            custom=custom,
            limit=limit,
            offset=offset,
        )
        if returned is None:
            self._remember_contacts(found)
        if custom:
            self._remember_custom_values(found)
        return found

    async def group_list(self, *, search: str | None) -> list[civicrm.Group]:
        """The groups the caller may see (by title, when searching), each kept by id."""
        found = await self._civicrm().groups(search=search)
        for group in found:
            self.groups.prime(group.id, group)
        return found

    async def create_contact(
        self, fields: civicrm.ContactFields, *, on_duplicate: OnDuplicate
    ) -> civicrm.Contact:
        """Create a contact (the connector reads it back); kept by id."""
        created = await self._civicrm().create_contact(fields, on_duplicate=on_duplicate)
        self._remember_contacts([created])
        return created

    async def update_contact(
        self,
        contact_id: int,
        fields: civicrm.ContactFields,
        custom: Sequence[tuple[civicrm.CustomField, Any]],
    ) -> civicrm.Contact:
        """Change a contact (read back); kept by id, with its custom values where written."""
        updated = await self._civicrm().update_contact(contact_id, fields, custom)
        self._remember_contacts([updated])
        if custom:
            self._remember_custom_values([updated])
        return updated

    async def create_group(
        self,
        title: str,
        description: str,
        *,
        group_types: Sequence[str],
        visibility: str | None,
    ) -> civicrm.Group:
        group = await self._civicrm().create_group(
            title, description, group_types=group_types, visibility=visibility
        )
        self.groups.prime(group.id, group)
        return group

    async def add_to_group(self, group: int, contact: int) -> None:
        await self._civicrm().add_to_group(group, [contact])
        self._membership_changed(group, contact)

    async def remove_from_group(self, group: int, contact: int) -> None:
        await self._civicrm().remove_from_group(group, [contact])
        self._membership_changed(group, contact)

    def _membership_changed(self, group: int, contact: int) -> None:
        """What this request had loaded of the group's members and of the contact's groups is
        forgotten, so `memberCount` and `members` are read again."""
        self.members_of_group.clear(group)
        self.groups_of_contact.clear(contact)

    async def viewer(self) -> civicrm.Contact | None:
        """Whose api key it is, asked once a request; None where the site speaks only the
        3.2-era API (it cannot say whose key it is)."""
        return await self._viewer()

    async def contacts_by_email(self, emails: list[str]) -> list[civicrm.Contact]:
        return await self._civicrm().contacts(emails=emails)

    def _remember_contacts(self, contacts: list[civicrm.Contact]) -> None:
        for contact in contacts:
            self.contacts.prime(contact.id, contact)

    def _remember_custom_values(self, contacts: list[civicrm.Contact]) -> None:
        """The custom values that came along with contacts (asked with `custom`)."""
        for contact in contacts:
            if contact.custom is not None:
                self.custom_values.clear(contact.id)
                self.custom_values.prime(contact.id, dict(contact.custom))

    async def relationship_types(self) -> dict[int, civicrm.RelationshipType]:
        return await self._relationship_types()

    async def _ask_relationship_types(self) -> dict[int, civicrm.RelationshipType]:
        site = self._civicrm()

        async def ask() -> dict[int, civicrm.RelationshipType]:
            return {t.id: t for t in await site.relationship_types()}

        return await RELATIONSHIP_TYPES.get(site.site, ask)

    async def custom_fields(self) -> list[civicrm.CustomField]:
        """The custom fields of contacts the caller may see; none where CiviCRM does not let
        the caller read them. Asked once a request (what a caller may see is theirs)."""
        return await self._custom_fields()

    async def _relationships(
        self, ids: list[int]
    ) -> list[list[civicrm.Relationship] | BaseException]:
        found = await self._civicrm().relationships(ids)
        return [[r for r in found if i in (r.contact_id_a, r.contact_id_b)] for i in ids]

    async def _custom_values(self, ids: list[int]) -> list[dict[str, str] | BaseException]:
        fields = await self.custom_fields()
        found = await self._civicrm().custom_values(ids, fields)
        return [found.get(i, {}) for i in ids]

    async def _contacts(self, ids: list[int]) -> list[civicrm.Contact | BaseException]:
        found = {c.id: c for c in await self._civicrm().contacts(ids=ids)}
        return [found.get(i) or NotFound("civicrm", f"CiviCRM shows no contact {i}") for i in ids]

    async def _groups(self, ids: list[int]) -> list[civicrm.Group | BaseException]:
        found = {g.id: g for g in await self._civicrm().groups(ids=ids)}
        return [found.get(i) or NotFound("civicrm", f"CiviCRM shows no group {i}") for i in ids]

    async def _groups_of_contact(self, ids: list[int]) -> list[list[int] | BaseException]:
        memberships = await self._civicrm().memberships(contact_ids=ids)
        return [[m.group_id for m in memberships if m.contact_id == i] for i in ids]

    async def _members_of_group(self, ids: list[int]) -> list[list[int] | BaseException]:
        memberships = await self._civicrm().memberships(group_ids=ids)
        return [[m.contact_id for m in memberships if m.group_id == i] for i in ids]


NEEDS = (
    Need("Viewer.civicrm", ("Contact.get",)),
    Need("Query.contacts", ("Contact.get",), "view all contacts (else what ACLs show)"),
    Need("Query.contact", ("Contact.get",), "view all contacts (else what ACLs show)"),
    Need("Query.groups", ("Group.get",)),
    Need("CivicrmGroup.members", ("GroupContact.get",)),
    Need("Person.contact", ("Contact.get",)),
    Need("Mutation.createContact", ("Contact.create",), "add contacts"),
    Need("Mutation.updateContact", ("Contact.create",), "edit all contacts"),
    Need("Mutation.addContactToGroup", ("GroupContact.create",), "edit groups"),
)
"""The API calls each field makes, and the CiviCRM permission it needs."""

CIVICRM = SourceSpec(
    name="civicrm",
    label="CiviCRM",
    header="X-Civicrm-Api-Key",
    settings=CivicrmSettings,
    credential=credential,
    acting=acting,
    connect=connect,
    loaders=CivicrmLoaders,
    ping=ping,
    login=login,
    account=account,
    people=people,
    viewer=CivicrmLoaders.viewer,
    demo_port=9102,
    over_simulator=over_simulator,
    needs=NEEDS,
    diagnose=diagnose,
)
