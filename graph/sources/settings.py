"""What every source's settings have: where it is, how it is reached and how hard the gateway
may lean on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from connectors.http import new_client
from connectors.transport import TLS, check_proxy

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
    public_max_age_s: float = 0.0
    """How long shared caches (a CDN, a proxy) may keep an answer this source gave a guest (a
    caller who sent no credential): `Cache-Control: public` where every source in the answer
    allows it. 0, the default, never calls an answer public."""
    verify: bool = True
    """Check the source's TLS certificate and host name; false only for a test system."""
    ca_file: str = ""
    """A PEM bundle trusted for this source *instead of* the system's CAs (a private CA)."""
    client_cert: str = ""
    """A PEM client certificate shown to the source (its key in the same file, or client_key)."""
    client_key: str = ""
    """The PEM private key of client_cert, when it is a file of its own."""
    client_key_password: str = field(default="", repr=False)
    """The password of an encrypted client key."""
    proxy: str = field(default="", repr=False)
    """An http:// or https:// proxy every request to the source goes through (a CONNECT
    tunnel for an https source); user:password@ in it is sent as Proxy-Authorization."""

    def tls(self) -> TLS:
        return TLS(
            verify=self.verify,
            ca_file=self.ca_file,
            client_cert=self.client_cert,
            client_key=self.client_key,
            client_key_password=self.client_key_password,
        )

    def new_client(
        self,
        *,
        max_connections: int | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> httpx.AsyncClient:
        """A client that reaches the source as every request to it must: its timeout, TLS and
        proxy, and at most `max_connections` (by default `max_concurrency`) connections."""
        return new_client(
            timeout_s=self.timeout_s,
            max_connections=max_connections or self.max_concurrency,
            transport=transport,
            tls=self.tls(),
            proxy=self.proxy,
        )

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
        if self.public_max_age_s < 0:
            raise ValueError(f"{where}.public_max_age_s: must not be negative")
        if self.public_max_age_s > 0 and self.allow_service_fallback:
            raise ValueError(
                f"{where}.public_max_age_s: a guest's answers come from the service identity "
                "(allow_service_fallback), which may see more than the public: never public"
            )
        for entry in self.cache_ttl_by_call:
            call, _, seconds = entry.partition("=")
            try:
                if not call.strip() or float(seconds) < 0:
                    raise ValueError
            except ValueError:
                raise ValueError(
                    f"{where}.cache_ttl_by_call: {entry!r} is not call=seconds"
                ) from None
        if (wrong := _url_problem(self.url)) is not None:
            raise ValueError(f"{where}.url: {wrong}, got {self.url!r}")
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
        problem = self.tls().problem()
        if problem is not None:
            key, what = problem
            raise ValueError(f"{where}.{key}: {what}")
        if self.proxy and (wrong := check_proxy(self.proxy)) is not None:
            raise ValueError(f"{where}.proxy: {wrong}")


def _url_problem(url: str) -> str | None:
    """What keeps the gateway from connecting to `url`: http or https, a host, and a port (if
    any) within 1..65535."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http(s) URL"
    try:
        port = parts.port
    except ValueError:  # out of range, or not a number
        port = 0
    if port is not None and not 0 < port < 65536:
        return "the port must be between 1 and 65535"
    return None
