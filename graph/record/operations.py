"""The fixed, read-only GraphQL operations `legacygraph record` runs per source, each as every
given caller. They ask what the gateway's pages ask, so the corpus holds the calls the gateway
makes with the parameters it makes them with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["NEVER", "OPERATIONS", "Operation"]


@dataclass(frozen=True)
class Operation:
    case: str
    query: str


MOODLE = (
    Operation(
        "the caller and their courses",
        "{ viewer { moodle { id upstreamId username displayName firstName lastName email"
        " lastAccess courses(first: 50) { totalCount nodes { id shortName fullName } } } } }",
    ),
    Operation(
        "the courses the caller can see",
        "{ courses(first: 50) { totalCount nodes { id upstreamId shortName fullName summary"
        " startDate endDate visible category } } }",
    ),
    Operation(
        "each course's participants and assignments",
        "{ courses(first: 10) { nodes { id shortName participants(first: 50) { totalCount"
        " nodes { id displayName email lastAccess } } assignments { id name intro dueDate"
        " cutoffDate maxGrade } } } }",
    ),
)
"""Never `Assignment.submissions` or `grades`: for a caller who does not grade, the gateway
asks Moodle's status function, which writes (it adds an empty submission)."""

OPERATIONS: Mapping[str, tuple[Operation, ...]] = {"moodle": MOODLE}
"""The sources `record` knows operations for."""

NEVER: Mapping[str, tuple[str, ...]] = {"moodle": ("mod_assign_get_submission_status",)}
"""Calls that write although they read: the recording transport refuses to send them."""
