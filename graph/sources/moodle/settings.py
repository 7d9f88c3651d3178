"""The `[sources.moodle]` settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from graph.sources.settings import SourceSettings

__all__ = ["MoodleSettings"]


@dataclass(frozen=True)
class MoodleSettings(SourceSettings):
    token: str = field(default="", repr=False)
    """Service token, used only for callers who send none and only with fallback allowed."""
    service: str = "moodle_mobile_app"
    """The external service `login` asks tokens for; the mobile one allows batched calls."""

    def check(self, where: str) -> None:
        super().check(where)
        if self.allow_service_fallback and not self.token:
            raise ValueError(f"{where}: allow_service_fallback needs token")
