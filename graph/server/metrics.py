"""Prometheus metrics: GraphQL requests by operation and outcome, and every upstream request by
source, call and status, with latencies; and how often the response cache answered. Labels
carry names only, never a credential."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from circuitbreaker import STATE_CLOSED, CircuitBreaker
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric

from connectors.http import CallStats
from graph.schema.plans import PLAN_COUNTS

__all__ = ["Metrics"]

OPERATION = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
MOST_OPERATIONS = 500
"""Operation names are chosen by clients: past this many distinct ones, new ones count as other."""


class Metrics:
    """One set of metrics per app (its own registry, so several apps can live in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._operations: set[str] = set()
        self.requests = Counter(
            "legacygraph_requests",
            "GraphQL requests, by operation name and outcome (ok, partial, failed).",
            ["operation", "outcome"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "legacygraph_request_seconds",
            "Time to answer a GraphQL request.",
            ["operation"],
            registry=self.registry,
        )
        self.upstream_requests = Counter(
            "legacygraph_upstream_requests",
            "Requests to legacy systems, by source, call and HTTP status (or how they failed).",
            ["source", "call", "status"],
            registry=self.registry,
        )
        self.upstream_seconds = Histogram(
            "legacygraph_upstream_seconds",
            "Time a legacy system took to answer one request.",
            ["source", "call"],
            registry=self.registry,
        )

        self.cache_reads = Counter(
            "legacygraph_cache_reads",
            "Reads that could use the per-caller response cache, by source and result (hit, miss).",
            ["source", "result"],
            registry=self.registry,
        )
        self.breaker_open = Gauge(
            "legacygraph_breaker_open",
            "1 while a source's circuit breaker is not closed (open: calls fail fast), else 0.",
            ["source"],
            registry=self.registry,
        )
        self.registry.register(PlanCounts())
        # Each label set's children, found once: prometheus_client's `labels` checks and copies
        # the values and takes a lock at every call. Bounded as the labels are (operation names
        # by MOST_OPERATIONS; sources, calls and statuses by the code).
        self._answered: dict[tuple[str, str], tuple[Any, Any]] = {}
        self._upstream: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    def operation(self, name: str | None) -> str:
        if not name:
            return "anonymous"
        if not OPERATION.fullmatch(name):
            return "other"
        if name not in self._operations and len(self._operations) >= MOST_OPERATIONS:
            return "other"
        self._operations.add(name)
        return name

    def observe(self, name: str | None, outcome: str, seconds: float, stats: CallStats) -> None:
        operation = self.operation(name)
        answered = self._answered.get((operation, outcome))
        if answered is None:
            answered = self._answered[operation, outcome] = (
                self.requests.labels(operation, outcome),
                self.request_seconds.labels(operation),
            )
        answered[0].inc()
        answered[1].observe(seconds)
        for call in stats.calls:
            key = (call.source, call.name, call.status)
            upstream = self._upstream.get(key)
            if upstream is None:
                upstream = self._upstream[key] = (
                    self.upstream_requests.labels(*key),
                    self.upstream_seconds.labels(call.source, call.name),
                )
            upstream[0].inc()
            upstream[1].observe(call.seconds)
        for source, count in stats.hits.items():
            self.cache_reads.labels(source, "hit").inc(count)
        for source, count in stats.misses.items():
            self.cache_reads.labels(source, "miss").inc(count)

    def exposition(self, breakers: Mapping[str, CircuitBreaker] | None = None) -> bytes:
        for source, breaker in (breakers or {}).items():
            self.breaker_open.labels(source).set(0 if breaker.state == STATE_CLOSED else 1)
        return generate_latest(self.registry)


class PlanCounts:
    """`legacygraph_executions_total`: operations executed by their plan (`planned`) and those
    sent to graphql-core's executor, by why (`mutation`, `middleware`, ...); for the process."""

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "legacygraph_executions",
            "GraphQL operations by executor: planned, or sent to graphql-core's and why.",
            labels=["executor"],
        )
        for executor, count in sorted(PLAN_COUNTS.items()):
            family.add_metric([executor], count)
        yield family
