"""What `legacygraph doctor` found: one line per check, grouped per source."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from connectors.errors import UpstreamError

__all__ = ["Check", "Need", "Report", "SourceReport", "Status", "judge"]

Status = Literal["ok", "failed", "unknown"]
MARKS: Mapping[Status, str] = {"ok": "✓", "failed": "✗", "unknown": "?"}


@dataclass(frozen=True)
class Need:
    """What one GraphQL field needs from the system, for `legacygraph doctor`."""

    field: str
    """The field, as `Type.field` (`Query.courses`, `Course.participants`)."""
    calls: tuple[str, ...]
    """The upstream functions, methods or endpoints it calls (the names the source's doctor
    checks against what the site exposes)."""
    permission: str = ""
    """What the caller must also be allowed upstream, where the site decides per caller."""


@dataclass(frozen=True)
class Check:
    name: str
    """What was checked: `reachable`, `version`, a field (`Query.courses`)."""
    status: Status
    detail: str = ""
    blocking: bool = True
    """A failure here means a configured part cannot work (the exit status says so); a
    caller's missing permission is reported, and does not fail the run."""

    @classmethod
    def failure(cls, name: str, error: UpstreamError, *, blocking: bool = True) -> Check:
        return cls(name, "failed", f"{error.kind}: {error.message}", blocking)

    def line(self) -> str:
        return f"  {MARKS[self.status]} {self.name}" + (f": {self.detail}" if self.detail else "")


@dataclass
class SourceReport:
    source: str
    url: str
    checks: list[Check] = field(default_factory=list)

    def add(self, name: str, status: Status, detail: str = "", *, blocking: bool = True) -> None:
        self.checks.append(Check(name, status, detail, blocking))

    @property
    def ok(self) -> bool:
        return not any(c.status == "failed" and c.blocking for c in self.checks)


@dataclass
class Report:
    sources: list[SourceReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.sources)

    def lines(self) -> Iterator[str]:
        for source in self.sources:
            yield f"{source.source} {source.url}"
            for check in source.checks:
                yield check.line()
        failed = [s.source for s in self.sources if not s.ok]
        yield f"{'cannot work: ' + ', '.join(failed) if failed else 'every configured part works'}"

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "sources": [
                {
                    "source": s.source,
                    "url": s.url,
                    "ok": s.ok,
                    "checks": [asdict(c) for c in s.checks],
                }
                for s in self.sources
            ],
        }


def judge(
    needs: Sequence[Need],
    *,
    who: str,
    present: Iterable[str],
    absent: Iterable[str] = (),
    granted: Mapping[str, bool] | None = None,
    refused: Mapping[str, str] | None = None,
    everything: bool = False,
    blocking: bool = True,
) -> list[Check]:
    """Each field's verdict for one identity (`who`): works, missing function X (the site said
    it is not there), needs permission Y (the site said the identity lacks it), or cannot tell.

    `present` and `absent` are the calls the site showed to be there or not; a call in neither
    cannot be told. `granted` is what the site said of the identity's permissions (a permission
    not in it cannot be told); `everything`, an identity the site lets do everything (a site
    administrator); `refused`, calls the site refused the identity, with the permission it
    named."""
    present, absent, granted = set(present), set(absent), dict(granted or {})
    refused = dict(refused or {})
    checks = []
    for need in needs:
        name = f"{need.field} ({who})"
        denied = [f"{refused[c]} (for {c})" for c in need.calls if c in refused]
        if denied:
            detail = f"needs permission {', '.join(denied)}"
            checks.append(Check(name, "failed", detail, blocking=False))
            continue
        missing = [c for c in need.calls if c in absent]
        unknown = [c for c in need.calls if c not in absent and c not in present]
        if missing:
            checks.append(Check(name, "failed", f"missing function {', '.join(missing)}", blocking))
        elif unknown:
            checks.append(Check(name, "unknown", f"cannot tell whether {', '.join(unknown)} works"))
        elif not need.permission or everything or granted.get(need.permission) is True:
            checks.append(Check(name, "ok", "works"))
        elif granted.get(need.permission) is False:
            checks.append(
                Check(name, "failed", f"needs permission {need.permission}", blocking=False)
            )
        else:
            checks.append(Check(name, "unknown", f"works where the caller has {need.permission}"))
    return checks
