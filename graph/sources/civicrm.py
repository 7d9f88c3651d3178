"""CiviCRM (contacts): the site key and a user's api key; no guests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from connectors.civicrm import ApiStyle, Civicrm, CivicrmAuth
from connectors.errors import Unauthenticated
from connectors.http import Upstream

from ..config import CivicrmSettings
from ..loaders import CivicrmLoaders
from .spec import PeopleLookup, Reach, SignedIn, SourceSpec

if TYPE_CHECKING:
    from ..context import Context

__all__ = ["CIVICRM"]


def credential(settings: CivicrmSettings | None, api_key: str | None) -> str | None:
    """CiviCRM's REST interface has no guests: no api key, no call."""
    if api_key is None and settings is not None and settings.allow_service_fallback:
        api_key = settings.api_key
    if api_key is None:
        raise Unauthenticated("civicrm", "CiviCRM needs an api key: send X-Civicrm-Api-Key")
    return api_key


def site(upstream: Upstream, settings: CivicrmSettings) -> Civicrm:
    style: ApiStyle = "q" if settings.api_style == "q" else "entity"
    return Civicrm(upstream, rest_path=settings.rest_path, style=style)


def connect(reach: Reach, settings: CivicrmSettings, api_key: str | None) -> Civicrm:
    auth = CivicrmAuth(settings.site_key, api_key)
    return site(reach.upstream(auth, f"api_key:{api_key}"), settings)


async def ping(name: str, settings: CivicrmSettings, client: httpx.AsyncClient) -> str:
    auth = CivicrmAuth(settings.site_key, settings.api_key or None)
    civicrm = site(Upstream(name, client, settings.url, auth), settings)
    try:
        await civicrm.groups(ids=[1])
    except Unauthenticated as error:
        if settings.api_key or "site key" in error.message:
            raise
        # The site key passed (CiviCRM checks it first); only a user's api_key is missing.
        return "reachable, site key ok; no service api_key configured"
    return "reachable, site key and service api_key ok"


async def login(
    civicrm: Civicrm, settings: CivicrmSettings, username: str, password: str
) -> SignedIn:
    return SignedIn(await civicrm.login(username, password))


async def account(civicrm: Civicrm, user_id: str | None) -> Any:
    return await civicrm.me()


def people(context: Context) -> PeopleLookup:
    return PeopleLookup(find=lambda civicrm, emails: civicrm.contacts(emails=emails))


async def viewer(context: Context) -> Any:
    """None where the site speaks only the 3.2-era API (it cannot say whose key it is)."""
    return await context.once("viewer.civicrm", context.site(CIVICRM).me)


def over_simulator(url: str) -> CivicrmSettings:
    from simulators.civicrm import SITE_KEY

    return CivicrmSettings(url=url, site_key=SITE_KEY)


CIVICRM = SourceSpec(
    name="civicrm",
    label="CiviCRM",
    header="X-Civicrm-Api-Key",
    settings=CivicrmSettings,
    credential=credential,
    connect=connect,
    loaders=CivicrmLoaders,
    ping=ping,
    login=login,
    account=account,
    people=people,
    viewer=viewer,
    demo_port=9102,
    over_simulator=over_simulator,
)
