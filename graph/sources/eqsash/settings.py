"""The `[sources.eqsash]` settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from graph.sources.settings import SourceSettings

__all__ = ["EqsashSettings"]


@dataclass(frozen=True)
class EqsashSettings(SourceSettings):
    api_key: str = field(default="", repr=False)
    """The site's `api_key` from its settings.php (it authorises the gateway as a client)."""
    path: str = "/api/"
    session_name: str = "EQSASH_SESSION"
    callable: tuple[str, ...] = ()
    """`module.method` pairs that `Query.eqsashCall` may call; empty: the escape hatch is off."""
    get_methods: tuple[str, ...] = ()
    """`module.method` pairs sent by GET; every other call is a POST (tokens stay out of URLs)."""

    def check(self, where: str) -> None:
        super().check(where)
        if not self.api_key:
            raise ValueError(f"{where}.api_key: Eqsash needs the site's api_key")
        for pair in (*self.callable, *self.get_methods):
            module, _, method = pair.partition(".")
            if not (module and method):
                raise ValueError(f"{where}: {pair!r} is not a module.method pair")
