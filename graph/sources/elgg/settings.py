"""The `[sources.elgg]` settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from connectors import elgg
from connectors.elgg import PROFILES, ElggAuth, parse_override
from graph.sources.settings import SourceSettings

__all__ = ["ElggSettings", "signing"]


@dataclass(frozen=True)
class ElggSettings(SourceSettings):
    api_key: str = ""
    """The public key of the API key pair an Elgg admin created for the gateway."""
    secret: str = field(default="", repr=False)
    """Its secret: signs every request (HMAC), never sent."""
    hmac_algorithm: str = "sha256"
    hmac_variant: str = "standard"
    """`standard` (time, nonce, base64 signature) or `legacy` (Elgg 1.5/1.6: no nonce, hex)."""
    methods: str = "auto"
    """The site's method profile: `legacygraph`, `rest_api` (the elgg_with_rest_api plugin), or
    `auto`: the one whose methods `system.api.list` shows."""
    overrides: tuple[str, ...] = ()
    """`role=method` or `role=method(ours:theirs,...)` for sites with a plugin of their own."""

    def check(self, where: str) -> None:
        super().check(where)
        if not (self.api_key and self.secret):
            raise ValueError(f"{where}: Elgg needs api_key and secret")
        if self.methods != "auto" and self.methods not in PROFILES:
            raise ValueError(
                f"{where}.methods: one of auto, {', '.join(PROFILES)} (not {self.methods!r})"
            )
        for override in self.overrides:
            try:
                parse_override(override)
            except ValueError as exc:
                raise ValueError(f"{where}.overrides: {exc}") from None
        if self.hmac_algorithm not in elgg.ALGORITHMS:
            raise ValueError(
                f"{where}.hmac_algorithm: sha1 or sha256 (Elgg 5 refuses {self.hmac_algorithm!r})"
            )
        if self.hmac_variant not in ("standard", "legacy"):
            raise ValueError(f"{where}.hmac_variant: must be 'standard' or 'legacy'")


def signing(settings: ElggSettings, token: str | None = None) -> ElggAuth:
    return ElggAuth(
        api_key=settings.api_key,
        secret=settings.secret,
        algorithm=settings.hmac_algorithm,
        variant="legacy" if settings.hmac_variant == "legacy" else "standard",
        user_token=token,
    )
