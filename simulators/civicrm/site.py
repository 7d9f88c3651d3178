"""What the site's handlers share: the store, the options `create_app` was given, the logins,
and the record of calls; and the user a call is made as."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from ..counting import RequestCounter
from .store import CivicrmStore

__all__ = ["Site", "User"]


@dataclass
class Site:
    store: CivicrmStore
    force_xml: bool = False
    era: str = "5"
    refuse: Collection[str] = ()
    honours_chains: bool = True
    calls: RequestCounter = field(default_factory=RequestCounter)
    """API calls made, as `Entity.action`."""
    sessions: dict[str, int] = field(default_factory=dict)
    """PHPSESSID → contact id, for `q=civicrm/login`."""
    log: list[tuple[str, str, str]] = field(default_factory=list)
    """Every API call in order: (api_key, "Entity.action", record id)."""


@dataclass(frozen=True)
class User:
    contact_id: int
    view_all: bool
    edit_all: bool
    custom_data: bool = False
    """"administer CiviCRM" and "access all custom data": the staff but the fifth person, who
    plays the real site's restricted user (issue27.jsonl: no custom fields, writes of them
    ignored)."""
