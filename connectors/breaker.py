"""A source's circuit breaker: circuitbreaker's, reading time from a clock that can be given."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Literal

from circuitbreaker import CircuitBreaker

__all__ = ["Breaker"]


class Breaker(CircuitBreaker):
    """circuitbreaker's `CircuitBreaker`, whose time open is measured on `clock` (tests move a
    clock of their own instead of sleeping through `reset_s`). It opens after `failures` failures
    in a row and lets a call through again `reset_s` seconds after its last failure, as
    circuitbreaker's does. It leans on circuitbreaker 2.1 reading `open_remaining` for `state`,
    `opened` and `open_until`, and counting a failure in `__exit__`; the breaker's test in
    tests/connectors/test_resilience.py moves the clock and fails if either changes."""

    def __init__(
        self,
        *,
        failures: int,
        reset_s: float,
        expected: Any,
        name: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self.failures = failures
        self.reset_s = reset_s
        self.opened_at = clock()
        super().__init__(
            failure_threshold=failures,
            recovery_timeout=reset_s,
            expected_exception=expected,
            name=name,
        )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> Literal[False]:
        failed_before = self.failure_count
        super().__exit__(exc_type, exc_value, traceback)
        if self.failure_count > failed_before and self.failure_count >= self.failures:
            self.opened_at = self.clock()  # opened, or opened again from half-open
        return False

    @property
    def open_remaining(self) -> int:
        """Whole seconds left open (rounded as circuitbreaker rounds them): at most 0 once a
        call may go through again."""
        remain = self.opened_at + self.reset_s - self.clock()
        return math.ceil(remain) if remain > 0 else math.floor(remain)
