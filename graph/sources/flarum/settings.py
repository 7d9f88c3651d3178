"""The `[sources.flarum]` settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from graph.sources.settings import SourceSettings

__all__ = ["FlarumSettings"]


@dataclass(frozen=True)
class FlarumSettings(SourceSettings):
    api_key: str = field(default="", repr=False)
    """Service API key, used only for callers who send no token and only with fallback allowed."""
    api_user_id: int = 0
    """The user the API key acts as (`Token <key>; userId=<id>`)."""

    def check(self, where: str) -> None:
        super().check(where)
        if self.allow_service_fallback and not (self.api_key and self.api_user_id > 0):
            raise ValueError(f"{where}: allow_service_fallback needs api_key and api_user_id")
