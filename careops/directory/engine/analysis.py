"""Run every control point over a dump: level, failing points, control paths, waivers."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from careops.directory.engine import graph as control_graph
from careops.directory.engine.dump import Dump
from careops.directory.engine.model import Directory
from careops.directory.engine.rules import CHECKS, Context, NotEvaluable

ENGINE_VERSION = "1"
MAX_OBJECTS_PER_POINT = 500


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, Any]]:
    """The control points (``points.yaml``): check → levels, thresholds, French texts."""
    path = Path(__file__).with_name("points.yaml")
    return yaml.safe_load(path.read_text(encoding="utf-8"))["checks"]


def point_id(check: str, level: int) -> str:
    return f"vuln_{check}-l{level}"


@dataclass
class Waiver:
    """A failing point accepted with a justification until an expiry date."""

    point: str
    justification: str
    expires: dt.date
    author: str = ""

    def active(self, today: dt.date) -> bool:
        return self.expires >= today


@dataclass
class PointResult:
    id: str
    alias: str
    check: str
    level: int
    status: str  # pass | fail | not_evaluated
    title: str
    recommendation: str
    objects: list[dict[str, Any]] = field(default_factory=list)
    object_count: int = 0
    details: str = ""
    partial: bool = False
    waiver: dict[str, Any] | None = None


@dataclass
class AnalysisResult:
    domain: str
    level: int
    level_complete: bool
    collected_at: str
    analysed_at: str
    points: list[PointResult]
    paths: list[dict[str, Any]]
    exposed_accounts: int
    completeness: dict[str, Any]
    next_level: dict[str, Any]
    waived: list[str]
    engine_version: str = ENGINE_VERSION
    source: str = "ldap"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def failing(self) -> list[PointResult]:
        return [p for p in self.points if p.status == "fail"]


def _available(directory: Directory, dump: Dump) -> dict[str, bool]:
    def under(suffix: str) -> bool:
        return bool(suffix) and any(
            e.key.endswith(suffix) and e.key != suffix for e in directory.entries
        )

    return {
        "configuration": under(directory.config_dn),
        "schema": under(directory.schema_dn),
        "dns": bool(directory.of_class("dnszone")),
        "descriptors": bool(dump.descriptors),
    }


def analyze(
    dump: Dump,
    now: dt.datetime,
    waivers: list[Waiver] | None = None,
    thresholds: dict[str, dict[str, Any]] | None = None,
    path_limit: int = 50,
) -> AnalysisResult:
    """Evaluate every control point at reference time ``now`` (never the clock)."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    directory = Directory(dump)
    available = _available(directory, dump)
    missing_sd = directory.descriptors_missing
    waivers_by_id = {w.point: w for w in waivers or [] if w.active(now.date())}
    points: list[PointResult] = []
    for check, spec in catalogue().items():
        params = dict(spec.get("thresholds") or {})
        params.update((thresholds or {}).get(check, {}))
        lacking = [n for n in spec.get("needs", []) if not available.get(n)]
        results: dict[int, list[dict[str, Any]]] | None = None
        reason = ""
        if lacking:
            reason = "données absentes de la collecte : " + ", ".join(lacking)
        else:
            try:
                results = CHECKS[check](Context(directory, now, params), params)
            except NotEvaluable as exc:
                reason = str(exc)
        partial = "descriptors" in spec.get("needs", []) and missing_sd > 0
        for level in spec["levels"]:
            pid = point_id(check, level)
            point = PointResult(
                id=pid,
                alias=f"vuln{level}_{check}",
                check=check,
                level=level,
                status="not_evaluated",
                title=spec["title"],
                recommendation=spec["recommendation"],
                details=reason,
                partial=partial,
            )
            if results is not None:
                objects = results.get(level, [])
                point.status = "fail" if objects else "pass"
                point.object_count = len(objects)
                point.objects = objects[:MAX_OBJECTS_PER_POINT]
                if partial:
                    point.details = f"{missing_sd} objet(s) sans descripteur de sécurité lisible"
            waiver = waivers_by_id.get(pid) or waivers_by_id.get(check)
            if waiver is not None and point.status == "fail":
                point.waiver = {
                    "justification": waiver.justification,
                    "expires": waiver.expires.isoformat(),
                    "author": waiver.author,
                }
            points.append(point)
    points.sort(key=lambda p: (p.level, p.id))
    failing_levels = [p.level for p in points if p.status == "fail"]
    level = min(failing_levels) if failing_levels else 5
    uncertain = [
        p.id for p in points if p.level <= level and (p.status == "not_evaluated" or p.partial)
    ]
    level_complete = dump.complete and not uncertain
    to_fix = [p.id for p in points if p.status == "fail" and p.level == level]
    cg = control_graph.build(directory)
    paths, exposed = control_graph.paths(cg, directory, limit=path_limit)
    completeness = {
        "complete": level_complete,
        "dump_complete": dump.complete,
        "objects": len(directory.entries),
        "distinct_descriptors": len(dump.descriptors),
        "objects_without_descriptor": missing_sd,
        "read_errors": len(dump.errors),
        "errors": dump.errors[:50],
        "available": available,
        "not_evaluated": [p.id for p in points if p.status == "not_evaluated"],
        "uncertain_points": uncertain,
    }
    return AnalysisResult(
        domain=dump.domain,
        level=level,
        level_complete=level_complete,
        collected_at=dump.collected_at,
        analysed_at=now.isoformat(),
        points=points,
        paths=paths,
        exposed_accounts=exposed,
        completeness=completeness,
        next_level={"target": min(level + 1, 5) if level < 5 else 5, "to_fix": to_fix},
        waived=[p.id for p in points if p.waiver],
        source=dump.source,
    )


def summary(result: AnalysisResult) -> dict[str, Any]:
    """The compact CLI/API shape: domain, level, points (id, level, status, objects, details)."""
    return {
        "domain": result.domain,
        "level": result.level,
        "level_complete": result.level_complete,
        "points": [
            {
                "id": p.id,
                "level": p.level,
                "status": p.status,
                "objects": p.objects,
                "details": p.details,
                "waived": bool(p.waiver),
            }
            for p in result.points
        ],
        "paths": result.paths,
        "collected_at": result.collected_at,
        "completeness": result.completeness,
    }


def _pingcastle_point(anssi_id: str) -> tuple[str | None, str]:
    """``vuln<level>_<check>`` → (catalogue point id or None, reason when None)."""
    head, _, check = anssi_id.partition("_")
    level_text = head.removeprefix("vuln")
    spec = catalogue().get(check)
    if not head.startswith("vuln") or not level_text.isdigit() or spec is None:
        return None, f"{anssi_id} : point absent du référentiel ANSSI courant"
    level = int(level_text)
    if level in spec["levels"]:
        return point_id(check, level), ""
    if len(spec["levels"]) == 1:  # older ANSSI list: same check, another level
        return point_id(check, spec["levels"][0]), ""
    return None, f"{anssi_id} : niveau absent du référentiel ANSSI courant"


def from_pingcastle(report: dict[str, Any]) -> AnalysisResult:
    """An analysis built from a PingCastle report (see pingcastle_map.yaml).

    A triggered rule that PingCastle attaches to an ANSSI point fails that point; the other
    triggered rules are listed apart (``completeness.unmapped_rules``) and never count as ANSSI
    points. Every point without a mapped finding is "not_evaluated": PingCastle lists only the
    rules that triggered, so absence is never a pass. The level is never complete.
    """
    failing: dict[str, list[dict[str, Any]]] = {}
    unmapped: list[dict[str, Any]] = []
    mapped: list[str] = []
    for rule in report["rules"]:
        targets, reasons = [], []
        for anssi_id in rule.get("anssi", []):
            pid, reason = _pingcastle_point(anssi_id)
            if pid:
                targets.append(pid)
            else:
                reasons.append(reason)
        if not targets:
            unmapped.append(
                {
                    "risk_id": rule["risk_id"],
                    "points": rule.get("points", 0),
                    "rationale": rule.get("rationale", ""),
                    "reason": "; ".join(reasons) or "aucun point ANSSI associé par PingCastle",
                }
            )
            continue
        mapped.append(rule["risk_id"])
        for pid in dict.fromkeys(targets):
            failing.setdefault(pid, []).append(
                {"dn": "", "name": rule["risk_id"], "detail": rule.get("rationale", "")}
            )
    points = []
    for check, spec in catalogue().items():
        for level in spec["levels"]:
            pid = point_id(check, level)
            objects = failing.get(pid, [])
            points.append(
                PointResult(
                    id=pid,
                    alias=f"vuln{level}_{check}",
                    check=check,
                    level=level,
                    status="fail" if objects else "not_evaluated",
                    title=spec["title"],
                    recommendation=spec["recommendation"],
                    objects=objects,
                    object_count=len(objects),
                    details="importé de PingCastle"
                    if objects
                    else "non évalué : aucune règle PingCastle déclenchée ne correspond",
                )
            )
    points.sort(key=lambda p: (p.level, p.id))
    levels = [p.level for p in points if p.status == "fail"]
    if report.get("maturity_level"):
        levels.append(report["maturity_level"])  # PingCastle's own level: never claim better
    level = min(levels) if levels else 5
    return AnalysisResult(
        domain=report["domain"],
        level=level,
        level_complete=False,
        collected_at=report["generated_at"],
        analysed_at=report["generated_at"],
        points=points,
        paths=[],
        exposed_accounts=0,
        completeness={
            "complete": False,
            "source": "pingcastle",
            "engine_version": report.get("engine_version", ""),
            "maturity_level": report.get("maturity_level"),
            "mapped_rules": mapped,
            "unmapped_rules": [u["risk_id"] for u in unmapped],
            "unmapped": unmapped,
            "failing_points": sorted(failing),
            "not_evaluated": [p.id for p in points if p.status == "not_evaluated"],
        },
        next_level={
            "target": min(level + 1, 5),
            "to_fix": [p.id for p in points if p.status == "fail" and p.level == level],
        },
        waived=[],
        source="pingcastle",
    )
