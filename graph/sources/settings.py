"""What every source's settings have: where it is and how hard the gateway may lean on it."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["SourceSettings"]


@dataclass(frozen=True)
class SourceSettings:
    """What every source has: where it is and how hard the gateway may lean on it."""

    url: str = ""
    timeout_s: float = 10.0
    max_concurrency: int = 8
    max_response_bytes: int = 16 * 1024 * 1024
    """A larger answer from the source is refused (`UPSTREAM_PROTOCOL_ERROR`)."""
    read_retries: int = 1
    """Extra attempts for a read that could not connect or got 502/503/504 (with jitter)."""
    breaker_failures: int = 5
    """Failures in a row (unreachable, timeout, 5xx) that open the source's circuit breaker."""
    breaker_reset_s: float = 30.0
    """How long an open breaker fails fast before it lets a call through again."""
    allow_service_fallback: bool = False
    """Act as the configured service identity for callers who send no credential of their own."""
    cache_ttl_s: float = 30.0
    """How long a read's answer is reused for the same caller; 0 turns the cache off."""
    cache_ttl_by_call: tuple[str, ...] = ()
    """Per kind of call, as "call=seconds" (say "core_course_get_contents=300")."""

    def call_ttls(self) -> dict[str, float]:
        """`cache_ttl_by_call` read into call name -> seconds."""
        ttls = {}
        for entry in self.cache_ttl_by_call:
            call, _, seconds = entry.partition("=")
            ttls[call.strip()] = float(seconds)
        return ttls

    def check(self, where: str) -> None:
        if self.cache_ttl_s < 0:
            raise ValueError(f"{where}.cache_ttl_s: must not be negative, got {self.cache_ttl_s}")
        for entry in self.cache_ttl_by_call:
            call, _, seconds = entry.partition("=")
            try:
                if not call.strip() or float(seconds) < 0:
                    raise ValueError
            except ValueError:
                raise ValueError(
                    f"{where}.cache_ttl_by_call: {entry!r} is not call=seconds"
                ) from None
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{where}.url: must be an http(s) URL, got {self.url!r}")
        if self.timeout_s <= 0:
            raise ValueError(f"{where}.timeout_s: must be positive, got {self.timeout_s}")
        if self.max_concurrency < 1:
            raise ValueError(f"{where}.max_concurrency: must be at least 1")
        if self.max_response_bytes < 1024:
            raise ValueError(f"{where}.max_response_bytes: must be at least 1024")
        if self.read_retries < 0 or self.breaker_failures < 1 or self.breaker_reset_s <= 0:
            raise ValueError(
                f"{where}: read_retries >= 0, breaker_failures >= 1, breaker_reset_s > 0"
            )
