"""What the forum's handlers share: the store and flood control's memory and setting."""

from __future__ import annotations

from dataclasses import dataclass, field

from .store import FlarumStore

__all__ = ["Site"]


@dataclass
class Site:
    store: FlarumStore
    flood_seconds: float = 10.0
    """Fact 28: one post per this many seconds, unless the user may post without throttle."""
    last_post_at: dict[int, float] = field(default_factory=dict)
    """When each user last posted, on the monotonic clock."""
