"""CiviCRM's `extern/rest.php`, in both call styles real sites answer.

- API v3: `entity=Contact&action=get` with parameters in `json={...}` (`IN`/`LIKE` filters,
  `options` limit/offset/sort, `return`, `sequential`), answered `{is_error, version, count, values}`.
- API v2 (the 3.2 documentation): `q=civicrm/contact/get` with flat parameters (`return[x]=1`,
  `offset`, `rowCount`, `email[1][email]`), lists answered as bare JSON lists of strings, plus
  `q=civicrm/login` and `q=civicrm/ping`.

Every answer is HTTP 200; XML unless JSON is asked for (or always XML with `force_xml`). The site key
is checked first, then the user's api_key (or the PHPSESSID of a login). Users without "view all
contacts" see themselves and the contacts in groups they may see.

The endpoint is `rest.py`; API v3 in `v3.py`, v2 in `v2.py`, each dispatching to one module per
entity (`contacts.py`, `groups.py`, `group_contacts.py`, `locations.py` for Email and Phone,
`relationships.py`, `custom_fields.py`, `option_values.py`); who may see what in `access.py`,
error answers in `errors.py`, JSON and XML in `formats.py`, the tables in `store.py`.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import partial

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from ..counting import CountRequests, RequestCounter
from ..world import World, build_world
from .rest import SITE_KEY, rest
from .site import Site
from .store import CivicrmStore

__all__ = ["REST_PATH", "SITE_KEY", "create_app"]

REST_PATH = "/sites/all/modules/civicrm/extern/rest.php"


def create_app(
    world: World | None = None,
    *,
    database: str = ":memory:",
    force_xml: bool = False,
    era: str = "5",
    refuse: Collection[str] = (),
    honours_chains: bool = True,
) -> Starlette:
    """The simulator app. `force_xml` plays a site that answers XML whatever is asked. `era`
    "5" is CiviCRM 5.x (API v3; `q=` paths are v3 with flat fields, no login, no `add`); "3.2"
    plays a 3.2-era site, whose `q=` paths are API v2 with `q=civicrm/login`. `refuse` names
    calls (`"Phone.create"`) the site refuses as invalid, to play a write that fails part way.
    `honours_chains=False` plays a 3.x/4.x site whose API v3 ignores chained calls
    (`api.Phone.create`) and `return: group`: no answer for them, and nothing done.
    `app.state.log` lists every API call in order: (api_key, "Entity.action", record id)."""
    site = Site(
        CivicrmStore(world or build_world(), database),
        force_xml=force_xml,
        era=era,
        refuse=refuse,
        honours_chains=honours_chains,
    )
    counter = RequestCounter()
    app = Starlette(
        routes=[Route(REST_PATH, partial(rest, site), methods=["GET", "POST"]), *counter.routes()],
        middleware=[Middleware(CountRequests, counter=counter)],
    )
    app.state.counter = counter
    app.state.calls = site.calls
    app.state.log = site.log
    app.state.store = site.store
    return app
