"""The `[sources.civicrm]` settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from connectors.civicrm import ApiStyle, Civicrm
from connectors.http import Upstream
from graph.sources.settings import SourceSettings

__all__ = ["CivicrmSettings", "site"]


@dataclass(frozen=True)
class CivicrmSettings(SourceSettings):
    site_key: str = field(default="", repr=False)
    """The site's CIVICRM_SITE_KEY: a deployment secret the gateway holds, sent on every call."""
    api_key: str = field(default="", repr=False)
    """Service api_key, used only for callers who send none and only with fallback allowed."""
    rest_path: str = "/sites/all/modules/civicrm/extern/rest.php"
    api_style: str = "entity"
    """`entity` (API v3, batches with IN filters) or `q` (the 3.2-era `q=civicrm/...` form)."""

    def check(self, where: str) -> None:
        super().check(where)
        if not self.site_key:
            raise ValueError(f"{where}.site_key: CiviCRM needs its site key")
        if self.api_style not in ("entity", "q"):
            raise ValueError(f"{where}.api_style: must be 'entity' or 'q', got {self.api_style!r}")
        if not self.rest_path.startswith("/"):
            raise ValueError(f"{where}.rest_path: must start with /, got {self.rest_path!r}")
        if self.allow_service_fallback and not self.api_key:
            raise ValueError(f"{where}: allow_service_fallback needs api_key")


def site(upstream: Upstream, settings: CivicrmSettings) -> Civicrm:
    style: ApiStyle = "q" if settings.api_style == "q" else "entity"
    return Civicrm(upstream, rest_path=settings.rest_path, style=style)
