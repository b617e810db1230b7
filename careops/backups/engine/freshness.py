"""Freshness: the newest restore point of each protected system against its RPO."""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field

from careops.backups.engine.results import FAILED, OK, CheckResult, Snapshot


@dataclass
class Selector:
    """Which restore points belong to a system: restic host/tags/path, borg archive name glob."""

    host: str = ""
    tags: list[str] = field(default_factory=list)
    path: str = ""
    archive_glob: str = ""

    def matches(self, snapshot: Snapshot) -> bool:
        if self.host and snapshot.hostname != self.host:
            return False
        if self.tags and not set(self.tags) <= set(snapshot.tags):
            return False
        if self.path and not any(p.rstrip("/") == self.path.rstrip("/") for p in snapshot.paths):
            return False
        return not (self.archive_glob and not fnmatch.fnmatchcase(snapshot.name, self.archive_glob))


def newest(snapshots: Iterable[Snapshot], selector: Selector) -> Snapshot | None:
    """The most recent restore point matching ``selector``."""
    chosen = [s for s in snapshots if selector.matches(s)]
    return max(chosen, key=lambda s: s.time) if chosen else None


def interval_hours(snapshots: Iterable[Snapshot], selector: Selector) -> float | None:
    """Hours between the two most recent restore points matching ``selector`` (the achieved
    snapshot interval), or None with fewer than two."""
    times = sorted(s.time for s in snapshots if selector.matches(s))
    if len(times) < 2:
        return None
    return round((times[-1] - times[-2]).total_seconds() / 3600, 3)


def fmt_hours(hours: float) -> str:
    """A duration in French, hours or days."""
    if hours < 48:
        return f"{hours:.1f} h".replace(".", ",")
    return f"{hours / 24:.1f} j".replace(".", ",")


def freshness(
    newest_time: dt.datetime | None, rpo_hours: float, now: dt.datetime, source: str = ""
) -> CheckResult:
    """Check that the newest restore point is at most ``rpo_hours`` old at ``now``."""
    where = f" ({source})" if source else ""
    if newest_time is None:
        return CheckResult(
            "freshness",
            FAILED,
            f"aucun point de restauration trouvé{where}",
            {"rpo_hours": rpo_hours},
        )
    age = (now - newest_time).total_seconds() / 3600
    details = {
        "newest": newest_time.isoformat(),
        "age_hours": round(age, 3),
        "rpo_hours": rpo_hours,
    }
    stamp = newest_time.astimezone(dt.UTC).strftime("%d/%m/%Y %H:%M UTC")
    if age > rpo_hours:
        return CheckResult(
            "freshness",
            FAILED,
            f"dernière sauvegarde du {stamp}, âgée de {fmt_hours(age)} : au-delà de la PDMA (RPO) "
            f"de {fmt_hours(rpo_hours)}{where}",
            details,
        )
    return CheckResult(
        "freshness",
        OK,
        f"dernière sauvegarde du {stamp}, âgée de {fmt_hours(age)} ≤ PDMA de "
        f"{fmt_hours(rpo_hours)}{where}",
        details,
    )
