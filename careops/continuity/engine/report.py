"""Read a BIA workbook and analyse it: the whole of ``careops bia analyze``, without a database."""

from __future__ import annotations

from pathlib import Path
from typing import IO

from careops.continuity.engine.compute import Analysis, analyse
from careops.continuity.engine.model import PERIMETERS, Bia, Problem, format_duration
from careops.continuity.engine.workbook import read_workbook

RTO_LABELS = {
    "ok": "RTO < DMIA",
    "tight": "RTO < DMIA (marge < 25 %)",
    "exceeds": "RTO ≥ DMIA",
    "missing": "RTO manquant",
}
GAP_LABELS = {
    "met": "tenu",
    "not_met": "NON TENU",
    "unknown": "non mesuré",
    "none_required": "—",
}


def analyse_workbook(source: str | Path | IO[bytes]) -> tuple[Bia, Analysis, list[Problem]]:
    """Read and analyse a workbook; the problems list holds the reader's and the analysis's,
    reading problems first."""
    bia, read_problems = read_workbook(source)
    analysis = analyse(bia)
    seen = {(p.sheet, p.row, p.message) for p in read_problems}
    problems = read_problems + [
        p for p in analysis.problems if (p.sheet, p.row, p.message) not in seen
    ]
    return bia, analysis, problems


def as_json(bia: Bia, analysis: Analysis, problems: list[Problem]) -> dict:
    """The analysis as JSON-ready data."""
    data = analysis.as_dict()
    data["problems"] = [p.as_dict() for p in problems]
    data["valid"] = not problems
    data["importable"] = not any(p.blocking for p in problems)
    data["method"] = {
        "horizons": [{"label": h.label, "seconds": h.seconds} for h in bia.method.horizons],
        "threshold": bia.method.threshold,
        "priority_classes": [
            {"code": c.code, "label": c.label, "max_seconds": c.max_seconds}
            for c in bia.method.priority_classes
        ],
    }
    return data


def as_text(bia: Bia, analysis: Analysis, problems: list[Problem]) -> str:
    """A French, plain-text report."""
    lines = [f"Activités ({len(analysis.activities)}) :"]
    for a in analysis.activities:
        forced = " (forcée)" if a.dmia_overridden else ""
        lines.append(
            f"  {a.code:<10} {a.name[:34]:<34} DMIA {a.dmia_label}{forced:<9} {a.priority:<4} "
            f"RTO {format_duration(a.rto_seconds)} — {RTO_LABELS[a.rto_status]}"
        )
    lines.append("")
    lines.append(f"Objectifs hérités par les ressources ({len(analysis.resources)}) :")
    for r in analysis.resources:
        lines.append(
            f"  {r.code:<10} {r.name[:34]:<34} RTO requis {format_duration(r.required_rto_seconds, '—'):<8} "
            f"PDMA requise {format_duration(r.required_rpo_seconds, '—'):<8} "
            f"écart RTO : {GAP_LABELS[r.rto_gap]}"
        )
    lines.append("")
    lines.append("Ordre de reprise informatique :")
    by_code = {i.code: i for i in analysis.order}
    for wave in analysis.waves:
        lines.append(f"  {wave.label} (fin au plus tôt : {format_duration(wave.end_seconds)})")
        for code in wave.items:
            item = by_code[code]
            late = "  EN RETARD sur le RTO" if item.late else ""
            cycle = "  (cycle)" if item.in_cycle else ""
            lines.append(
                f"    {item.order:>2}. {code:<10} de {format_duration(item.start_seconds)} "
                f"à {format_duration(item.end_seconds)}{late}{cycle}"
            )
    cov = analysis.coverage
    share = f"{cov.as_dict()['share_percent']:g}".replace(".", ",")
    lines.append("")
    lines.append(
        f"Couverture : {share} % "
        f"{'(' + cov.unit + ') ' if cov.unit else ''}— seuil 66 % "
        f"{'atteint' if cov.met else 'non atteint'}"
    )
    for finess, gaps in cov.missing.items():
        named = ", ".join(PERIMETERS.get(gap, gap) for gap in gaps)
        lines.append(f"  {finess} : manque {named}")
    for problem in cov.problems:
        lines.append(f"  {problem}")
    lines.append("")
    blocking = [p for p in problems if p.blocking]
    incomplete = [p for p in problems if not p.blocking]
    if blocking:
        lines.append(f"Erreurs ({len(blocking)}) :")
        lines.extend(f"  {p}" for p in blocking)
    if incomplete:
        lines.append(f"À compléter avant validation ({len(incomplete)}) :")
        lines.extend(f"  {p}" for p in incomplete)
    if not problems:
        lines.append("BIA complet : il peut être validé.")
    return "\n".join(lines)
