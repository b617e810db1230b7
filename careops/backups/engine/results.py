"""Typed, JSON-serialisable results of the verification engine."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

# Check outcomes. "error" means the check could not run: nothing was verified.
OK = "ok"
WARNING = "warning"
FAILED = "failed"
ERROR = "error"
SKIPPED = "skipped"

STATUS_LABELS = {
    OK: "conforme",
    WARNING: "avertissement",
    FAILED: "en échec",
    ERROR: "non vérifié (erreur)",
    SKIPPED: "non demandé",
}
_SEVERITY = {SKIPPED: 0, OK: 1, WARNING: 2, FAILED: 3, ERROR: 4}


def worst(statuses) -> str:
    """The most severe status of a collection (``skipped`` when empty)."""
    statuses = list(statuses)
    return max(statuses, key=_SEVERITY.__getitem__) if statuses else SKIPPED


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


class _Serialisable:
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (datetimes in ISO 8601)."""
        return _jsonable(self)


@dataclass
class Snapshot(_Serialisable):
    """One restore point (a restic snapshot or a borg archive)."""

    id: str
    time: dt.datetime
    hostname: str = ""
    paths: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    name: str = ""
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass
class CheckResult(_Serialisable):
    """One check on a repository or a protected system."""

    name: str
    status: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0

    @property
    def verified(self) -> bool:
        """True only when the check actually ran and passed."""
        return self.status in (OK, WARNING)


@dataclass
class RepositoryReport(_Serialisable):
    """Every check run on one repository."""

    name: str
    driver: str
    location: str
    tool_version: str = ""
    snapshot_count: int | None = None
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def status(self) -> str:
        return worst(c.status for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["status"] = self.status
        return data


@dataclass
class SystemReport(_Serialisable):
    """Freshness (and restore) results of one protected system."""

    name: str
    rpo_hours: float
    rto_hours: float | None = None
    newest: dt.datetime | None = None
    age_hours: float | None = None
    checks: list[CheckResult] = field(default_factory=list)
    interval_hours: float | None = None  # between the two newest restore points

    @property
    def status(self) -> str:
        return worst(c.status for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["status"] = self.status
        return data


@dataclass
class VerifyReport(_Serialisable):
    """The result of ``verify.run_verification`` on a whole configuration."""

    started_at: dt.datetime
    finished_at: dt.datetime
    repositories: list[RepositoryReport] = field(default_factory=list)
    systems: list[SystemReport] = field(default_factory=list)

    @property
    def status(self) -> str:
        return worst([r.status for r in self.repositories] + [s.status for s in self.systems])

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["status"] = self.status
        data["repositories"] = [r.to_dict() for r in self.repositories]
        data["systems"] = [s.to_dict() for s in self.systems]
        return data
