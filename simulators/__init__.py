"""Local stand-ins for the legacy servers: real HTTP, SQLite state, one seeded world.

Nothing here imports `connectors`: a bug shared by a simulator and a connector would hide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.applications import Starlette

from . import civicrm, elgg, eqsash, flarum, moodle
from .world import World

__all__ = ["SIMULATORS", "Simulator"]


@dataclass(frozen=True)
class Simulator:
    name: str
    port: int
    """The port `make demo` runs it on."""
    create_app: Callable[..., Starlette]

    def app(self, world: World, *, database: str = ":memory:") -> Starlette:
        return self.create_app(world, database=database)


SIMULATORS = {
    "flarum": Simulator("flarum", 9104, flarum.create_app),
    "moodle": Simulator("moodle", 9101, moodle.create_app),
    "civicrm": Simulator("civicrm", 9102, civicrm.create_app),
    "elgg": Simulator("elgg", 9103, elgg.create_app),
    "eqsash": Simulator("eqsash", 9105, eqsash.create_app),
}
