"""What one gateway request cost upstream: every call, by source, with the cache's hits."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Call", "CallStats"]


@dataclass(frozen=True)
class Call:
    """One upstream request: which source, which call, how it ended, how long it took."""

    source: str
    name: str
    status: str
    """The HTTP status, or how it failed before one: `timeout`, `unavailable`, `too_large`."""
    seconds: float


@dataclass
class CallStats:
    """Upstream requests made on behalf of one gateway request."""

    calls: list[Call] = field(default_factory=list)
    """Every call, including those the circuit breaker refused without a request."""
    requests: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    """Reads answered from the cache (or shared with an identical read in flight)."""
    misses: dict[str, int] = field(default_factory=dict)
    """Reads the cache could not answer, so they went to the source."""
    cached_calls: set[tuple[str, str]] = field(default_factory=set)
    """(source, call) of every read that went through a cache, hit or miss: how long the
    answer may be kept follows from them (`graph/server/caching.py`)."""

    def cache_read(self, source: str, *, hit: bool, call: str = "") -> None:
        counts = self.hits if hit else self.misses
        counts[source] = counts.get(source, 0) + 1
        self.cached_calls.add((source, call))

    def record(self, call: Call) -> None:
        self.calls.append(call)
        if call.status == "circuit_open":  # refused by the breaker: no request went out
            return
        self.requests[call.source] = self.requests.get(call.source, 0) + 1
        self.seconds[call.source] = self.seconds.get(call.source, 0.0) + call.seconds

    @property
    def total(self) -> int:
        return sum(self.requests.values())
