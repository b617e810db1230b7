"""BIA computations: criticality curve, DMIA, priority, RTO check, objective inheritance through
the dependency graph, IT recovery waves, coverage of the CaRE minimum perimeters and of the
combined activity, and the completeness rules that block validation.

Every function is pure and deterministic.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from fractions import Fraction

from careops.continuity.engine.model import (
    Activity,
    Bia,
    Measured,
    Method,
    PriorityClass,
    Problem,
    column_ref,
    format_duration,
)

ACTIVITIES = "Activités"
RATINGS = "Cotations"
RESOURCES = "Ressources"
DEPENDENCIES = "Dépendances"
NEEDS = "Besoins dégradés"
ENTITIES = "Entités"


def column_of(bia: Bia, sheet: str, header: str) -> str:
    """A column as every problem names it, letter and header (« G « RTO (heures) » »): the
    letter of the workbook the BIA was read from, else the template's."""
    letter = bia.columns.get(sheet, {}).get(header)
    if letter is None:
        # workbook imports this module: import it only when the BIA was not read from a file
        from careops.continuity.engine.workbook import template_letters

        letter = template_letters(bia.method).get(sheet, {}).get(header, "")
    return column_ref(letter, header)


# --- criticality --------------------------------------------------------------------------


def criticality_curve(activity: Activity, method: Method) -> list[int | None]:
    """For each horizon, the highest level over the impact types rated there (None if unrated)."""
    curve: list[int | None] = []
    for horizon in method.horizons:
        levels = [
            per_horizon[horizon.label]
            for per_horizon in activity.ratings.values()
            if per_horizon.get(horizon.label) is not None
        ]
        curve.append(max(levels) if levels else None)
    return curve


@dataclass(frozen=True)
class MonotonyBreak:
    """A later horizon rated lower than an earlier one for the same impact type."""

    impact_type: str
    earlier: str
    later: str
    earlier_level: int
    later_level: int


def monotony_breaks(activity: Activity, method: Method) -> list[MonotonyBreak]:
    """Every place where an impact decreases over time (an impact cannot fade while the
    interruption lasts)."""
    breaks = []
    for impact in method.impact_types:
        per_horizon = activity.ratings.get(impact.code, {})
        highest: tuple[str, int] | None = None
        for horizon in method.horizons:
            level = per_horizon.get(horizon.label)
            if level is None:
                continue
            if highest is not None and level < highest[1]:
                breaks.append(
                    MonotonyBreak(impact.code, highest[0], horizon.label, highest[1], level)
                )
            if highest is None or level >= highest[1]:
                highest = (horizon.label, level)
    return breaks


def derived_dmia(curve: list[int | None], method: Method) -> int | None:
    """The first horizon whose level reaches the acceptability threshold, in seconds; None when no
    horizon does (the DMIA lies beyond the last horizon)."""
    for horizon, level in zip(method.horizons, curve, strict=True):
        if level is not None and level >= method.threshold:
            return horizon.seconds
    return None


def priority_class(dmia_seconds: int | None, classes: Iterable[PriorityClass]) -> PriorityClass:
    """The first class whose bound contains the DMIA; a DMIA beyond every horizon falls in the
    unbounded class (or the last one)."""
    ordered = list(classes)
    for candidate in ordered:
        if candidate.max_seconds is None:
            return candidate
        if dmia_seconds is not None and dmia_seconds <= candidate.max_seconds:
            return candidate
    return ordered[-1]


def rto_status(rto: int | None, dmia: int | None, margin: float) -> str:
    """``missing``, ``exceeds`` (RTO ≥ DMIA), ``tight`` (less than ``margin`` of the DMIA left)
    or ``ok``. With no DMIA inside the horizons any RTO is accepted."""
    if rto is None:
        return "missing"
    if dmia is None:
        return "ok"
    if rto >= dmia:
        return "exceeds"
    if dmia - rto < margin * dmia:
        return "tight"
    return "ok"


def suggested_rpo(activity: Activity, method: Method, impact_type: str = "data") -> int | None:
    """A default PDMA: the first horizon where losing data reaches the threshold (the "data"
    impact type's own curve)."""
    per_horizon = activity.ratings.get(impact_type)
    if not per_horizon:
        return None
    for horizon in method.horizons:
        level = per_horizon.get(horizon.label)
        if level is not None and level >= method.threshold:
            return horizon.seconds
    return None


RTO_MESSAGES = {
    "missing": "RTO non renseigné",
    "exceeds": "RTO supérieur ou égal à la DMIA",
    "tight": "marge de moins de 25 % entre RTO et DMIA",
    "ok": "RTO inférieur à la DMIA",
}


@dataclass
class ActivityResult:
    code: str
    name: str
    kind: str
    entity: str
    curve: list[int | None]
    derived_dmia_seconds: int | None
    dmia_seconds: int | None
    dmia_overridden: bool
    dmia_label: str
    priority: str
    rto_seconds: int | None
    rpo_seconds: int | None
    rto_status: str
    monotony_breaks: list[MonotonyBreak]
    suggested_rpo_seconds: int | None


def analyse_activity(activity: Activity, method: Method) -> ActivityResult:
    """Curve, DMIA (derived, or overridden), priority and RTO check of one activity."""
    curve = criticality_curve(activity, method)
    derived = derived_dmia(curve, method)
    overridden = activity.dmia_override_seconds is not None
    dmia = activity.dmia_override_seconds if overridden else derived
    last = method.horizons[-1].label if method.horizons else "?"
    return ActivityResult(
        code=activity.code,
        name=activity.name,
        kind=activity.kind,
        entity=activity.entity,
        curve=curve,
        derived_dmia_seconds=derived,
        dmia_seconds=dmia,
        dmia_overridden=overridden,
        dmia_label=format_duration(dmia, beyond=f"> {last}"),
        priority=priority_class(dmia, method.priority_classes).code,
        rto_seconds=activity.rto_seconds,
        rpo_seconds=activity.rpo_seconds,
        rto_status=rto_status(activity.rto_seconds, dmia, method.rto_margin),
        monotony_breaks=monotony_breaks(activity, method),
        suggested_rpo_seconds=suggested_rpo(activity, method),
    )


# --- dependency graph -----------------------------------------------------------------------


def _adjacency(bia: Bia) -> dict[str, list[str]]:
    graph: dict[str, list[str]] = {}
    for dep in bia.dependencies:
        targets = graph.setdefault(dep.source, [])
        if dep.target not in targets:
            targets.append(dep.target)
    return graph


def find_cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """The elementary cycles met by a depth-first search, each as a closed path [a, b, …, a].

    Each cycle is reported once, starting from its smallest code.
    """
    white, grey, black = 0, 1, 2
    colour: dict[str, int] = {}
    stack: list[str] = []
    found: dict[tuple[str, ...], list[str]] = {}

    def visit(node: str) -> None:
        colour[node] = grey
        stack.append(node)
        for nxt in graph.get(node, []):
            state = colour.get(nxt, white)
            if state == grey:
                loop = stack[stack.index(nxt) :]
                start = loop.index(min(loop))
                canonical = tuple(loop[start:] + loop[:start])
                found.setdefault(canonical, [*canonical, canonical[0]])
            elif state == white:
                visit(nxt)
        stack.pop()
        colour[node] = black

    for node in sorted(set(graph) | {t for ts in graph.values() for t in ts}):
        if colour.get(node, white) == white:
            visit(node)
    return [found[key] for key in sorted(found)]


def cycle_rows(bia: Bia, cycle: list[str]) -> list[int]:
    """The rows of the dependencies that make a cycle [a, b, …, a], one per edge, in the
    cycle's order (edges without a known row are skipped)."""
    rows: list[int] = []
    for source, target in zip(cycle, cycle[1:], strict=False):
        row = next(
            (d.row for d in bia.dependencies if (d.source, d.target) == (source, target)), None
        )
        if row is not None and row not in rows:
            rows.append(row)
    return rows


def on_cycle(graph: dict[str, list[str]], nodes: Iterable[str]) -> set[str]:
    """Those of ``nodes`` that lie on a dependency cycle (they reach themselves); a node that
    merely depends on a cycle is not on it."""
    return {node for node in nodes if node in reachable(graph, node)}


def reachable(graph: dict[str, list[str]], start: str) -> set[str]:
    """Every node reachable from ``start`` (not ``start`` itself unless on a cycle)."""
    seen: set[str] = set()
    todo = list(graph.get(start, []))
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        todo.extend(graph.get(node, []))
    return seen


@dataclass
class ResourceObjective:
    code: str
    name: str
    kind: str
    trust_core: bool
    required_rto_seconds: int | None
    required_rpo_seconds: int | None
    activities: list[str]
    p1_activities: int
    restore_seconds: int | None
    measured_rto_seconds: int | None
    measured_rpo_seconds: int | None
    rto_gap: str  # met, not_met, unknown, none_required
    rpo_gap: str
    measured_from: str = "manual"  # manual (typed on the resource) or external (passed in)
    measured_rto_source: str = ""
    measured_rpo_source: str = ""


def _gap(required: int | None, measured: int | None, complete: bool = True) -> str:
    if required is None:
        return "none_required"
    if measured is None:
        return "unknown"
    if measured > required:
        return "not_met"
    return "met" if complete else "unknown"


def _min(values: Iterable[int | None]) -> int | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def inherit_objectives(
    bia: Bia,
    results: dict[str, ActivityResult],
    measured: Mapping[str, Measured] | None = None,
) -> list[ResourceObjective]:
    """Each resource inherits the strictest RTO and RPO of the activities that depend on it,
    directly or through other resources (cycles included: reachability is what counts).

    ``measured`` (by resource code) replaces the measured values typed on those resources."""
    measured = measured or {}
    graph = _adjacency(bia)
    served: dict[str, list[str]] = {r.code: [] for r in bia.resources}
    for activity in bia.activities:
        for code in sorted(reachable(graph, activity.code)):
            if code in served:
                served[code].append(activity.code)
    by_code = {a.code: a for a in bia.activities}
    top = bia.method.priority_classes[0].code if bia.method.priority_classes else "P1"
    objectives = []
    for resource in bia.resources:
        users = served[resource.code]
        rto = _min(by_code[a].rto_seconds for a in users)
        rpo = _min(by_code[a].rpo_seconds for a in users)
        outside = measured.get(resource.code)
        if outside is not None:
            m_rto, m_rpo = outside.rto_seconds, outside.rpo_seconds
            rto_complete, rpo_complete = outside.rto_complete, outside.rpo_complete
            sources = ("external", outside.rto_source, outside.rpo_source)
        else:
            m_rto, m_rpo = resource.measured_rto_seconds, resource.measured_rpo_seconds
            rto_complete = rpo_complete = True
            sources = ("manual", "", "")
        objectives.append(
            ResourceObjective(
                code=resource.code,
                name=resource.name,
                kind=resource.kind,
                trust_core=resource.trust_core,
                required_rto_seconds=rto,
                required_rpo_seconds=rpo,
                activities=users,
                p1_activities=sum(1 for a in users if results[a].priority == top),
                restore_seconds=resource.restore_seconds,
                measured_rto_seconds=m_rto,
                measured_rpo_seconds=m_rpo,
                rto_gap=_gap(rto, m_rto, rto_complete),
                rpo_gap=_gap(rpo, m_rpo, rpo_complete),
                measured_from=sources[0],
                measured_rto_source=sources[1],
                measured_rpo_source=sources[2],
            )
        )
    return objectives


# --- recovery waves -------------------------------------------------------------------------


@dataclass
class WaveItem:
    code: str
    name: str
    wave: int
    order: int
    start_seconds: int
    end_seconds: int
    required_rto_seconds: int | None
    late: bool
    in_cycle: bool


@dataclass
class Wave:
    number: int
    label: str
    items: list[str]
    end_seconds: int


def _band(rto: int | None, classes: tuple[PriorityClass, ...]) -> int:
    if rto is None:
        return len(classes) - 1
    for index, candidate in enumerate(classes):
        if candidate.max_seconds is None or rto <= candidate.max_seconds:
            return index
    return len(classes) - 1


def recovery_waves(
    bia: Bia, objectives: list[ResourceObjective]
) -> tuple[list[WaveItem], list[Wave]]:
    """The IT recovery order (PCRI).

    A resource is restored after the resources it needs. Wave 0 is the trust core (resources
    flagged so: network, identity, DNS, virtualisation, backup system) with everything it needs;
    the others follow in waves by the priority band of their inherited RTO, never before a
    resource they need. Inside the order, ties are broken by inherited RTO, then the number of
    top-priority activities served (more first), then restore duration, then code. Resources
    on a dependency cycle, and those that need them, are placed last; only those on the cycle
    are flagged ``in_cycle``. Start times assume restores run in parallel,
    each as soon as what it needs is back.
    """
    codes = {r.code for r in bia.resources}
    info = {o.code: o for o in objectives}
    needs: dict[str, set[str]] = {c: set() for c in codes}
    for dep in bia.dependencies:
        if dep.source in codes and dep.target in codes:
            needs[dep.source].add(dep.target)
    core: set[str] = set()
    todo = [r.code for r in bia.resources if r.trust_core]
    while todo:
        node = todo.pop()
        if node not in core:
            core.add(node)
            todo.extend(needs[node])

    def key(code: str) -> tuple:
        o = info[code]
        rto = o.required_rto_seconds
        return (
            0 if code in core else 1,
            rto is None,
            rto or 0,
            -o.p1_activities,
            o.restore_seconds or 0,
            code,
        )

    waiting = {c: len(needs[c]) for c in codes}
    needed_by: dict[str, list[str]] = {c: [] for c in codes}
    for code, targets in needs.items():
        for target in targets:
            needed_by[target].append(code)
    heap = [key(c) for c in codes if waiting[c] == 0]
    heapq.heapify(heap)
    order: list[str] = []
    while heap:
        code = heapq.heappop(heap)[-1]
        order.append(code)
        for user in needed_by[code]:
            waiting[user] -= 1
            if waiting[user] == 0:
                heapq.heappush(heap, key(user))
    stuck = sorted((c for c in codes if c not in set(order)), key=key)
    looped = on_cycle({c: sorted(needs[c]) for c in codes}, stuck)
    classes = bia.method.priority_classes
    wave_of: dict[str, int] = {}
    end: dict[str, int] = {}
    items: list[WaveItem] = []
    for index, code in enumerate(order + stuck):
        o = info[code]
        placed = [t for t in needs[code] if t in wave_of]
        own = 0 if code in core else _band(o.required_rto_seconds, classes) + 1
        wave = max([own, *(wave_of[t] for t in placed)])
        start = max([0, *(end[t] for t in placed)])
        wave_of[code] = wave
        end[code] = start + (o.restore_seconds or 0)
        rto = o.required_rto_seconds
        items.append(
            WaveItem(
                code=code,
                name=o.name,
                wave=wave,
                order=index + 1,
                start_seconds=start,
                end_seconds=end[code],
                required_rto_seconds=rto,
                late=rto is not None and end[code] > rto,
                in_cycle=code in looped,
            )
        )
    waves: list[Wave] = []
    for number in sorted({i.wave for i in items}):
        members = [i for i in items if i.wave == number]
        if number == 0:
            label = "Vague 0 — socle de confiance"
        else:
            label = f"Vague {number} — {classes[number - 1].code}" if classes else f"Vague {number}"
        waves.append(
            Wave(number, label, [i.code for i in members], max(i.end_seconds for i in members))
        )
    return items, waves


# --- coverage -------------------------------------------------------------------------------


def perimeters_of(activities: Iterable[Activity]) -> set[str]:
    """The CaRE minimum perimeters a set of analysed activities covers."""
    found = set()
    for activity in activities:
        if activity.kind == "care_service" and activity.patient_impact_major:
            found.add("care_service_major_impact")
        elif activity.kind == "technical_platform":
            found.add("technical_platform")
        elif activity.kind == "administrative":
            found.add("critical_admin_process")
    return found


@dataclass
class CoverageUnit:
    """One FINESS entity in a coverage computation."""

    finess: str
    name: str
    weight: float
    unit: str
    perimeters: set[str] = field(default_factory=set)
    perimeters_absent: set[str] = field(default_factory=set)
    done: bool = True  # e.g. BIA and PCRA validated, or PCA tested


@dataclass
class CoverageResult:
    share: Fraction
    threshold: Fraction
    met: bool
    unit: str
    covered: list[str]
    missing: dict[str, list[str]]  # finess → missing perimeters (or "not done")
    problems: list[str]

    def as_dict(self) -> dict:
        return {
            "share": float(self.share),
            "share_percent": round(float(self.share) * 100, 1),
            "threshold": float(self.threshold),
            "met": self.met,
            "unit": self.unit,
            "covered": self.covered,
            "missing": self.missing,
            "problems": self.problems,
        }


def coverage(
    units: list[CoverageUnit],
    threshold: float | Fraction = Fraction(66, 100),
    required: Iterable[str] = (),
) -> CoverageResult:
    """Share of the combined activity held by entities that are done and cover every required
    perimeter (present or declared absent); exact fractions, threshold inclusive."""
    need = set(required)
    limit = Fraction(threshold).limit_denominator(10_000)
    problems = []
    unit_names = {u.unit for u in units if u.unit}
    if len(unit_names) > 1:
        problems.append(
            "unités d'activité différentes entre entités : " + ", ".join(sorted(unit_names))
        )
    total = sum((Fraction(u.weight).limit_denominator(10**6) for u in units), Fraction(0))
    covered, missing = [], {}
    share_num = Fraction(0)
    for u in units:
        gaps = sorted(need - u.perimeters - u.perimeters_absent)
        if not u.done:
            missing[u.finess] = ["not_done", *gaps]
        elif gaps:
            missing[u.finess] = gaps
        else:
            covered.append(u.finess)
            share_num += Fraction(u.weight).limit_denominator(10**6)
    if not units:
        problems.append("aucune entité déclarée")
        share = Fraction(0)
    elif total == 0:
        problems.append("poids d'activité tous nuls")
        share = Fraction(0)
    else:
        share = share_num / total
    return CoverageResult(
        share=share,
        threshold=limit,
        met=not problems and share >= limit,
        unit=next(iter(unit_names)) if len(unit_names) == 1 else "",
        covered=covered,
        missing=missing,
        problems=problems,
    )


def bia_coverage(bia: Bia, threshold: float = 0.66) -> CoverageResult:
    """Coverage of the workbook's entities by its own activities (each entity's perimeters)."""
    single = len(bia.entities) <= 1
    units = []
    for entity in bia.entities:
        mine = [a for a in bia.activities if single or a.entity == entity.finess]
        units.append(
            CoverageUnit(
                finess=entity.finess,
                name=entity.name,
                weight=entity.weight,
                unit=entity.unit,
                perimeters=perimeters_of(mine),
                perimeters_absent=set(entity.perimeters_absent),
                done=bool(mine),
            )
        )
    if not units:
        units = [
            CoverageUnit(
                "(établissement)",
                "établissement",
                1.0,
                "",
                perimeters_of(bia.activities),
                set(),
                True,
            )
        ]
    return coverage(units, threshold, required=PERIMETER_CODES)


PERIMETER_CODES = ("care_service_major_impact", "critical_admin_process", "technical_platform")


# --- consistency and completeness -----------------------------------------------------------


def consistency_problems(bia: Bia) -> list[Problem]:
    """Blocking problems: duplicate or unknown codes, dependency cycles, ratings out of scale,
    non-monotone ratings, an override without a reason."""
    problems: list[Problem] = []
    method = bia.method
    seen: dict[str, str] = {}
    for sheet, items in ((ACTIVITIES, bia.activities), (RESOURCES, bia.resources)):
        for item in items:
            if item.code in seen:
                problems.append(
                    Problem(
                        f"code « {item.code} » déjà utilisé dans {seen[item.code]}",
                        sheet,
                        item.row,
                        column_of(bia, sheet, "Code"),
                    )
                )
            seen.setdefault(item.code, sheet)
    activity_codes = {a.code for a in bia.activities}
    resource_codes = {r.code for r in bia.resources}
    entity_codes = {e.finess for e in bia.entities}
    for activity in bia.activities:
        if bia.entities and activity.entity and activity.entity not in entity_codes:
            problems.append(
                Problem(
                    f"entité « {activity.entity} » inconnue",
                    ACTIVITIES,
                    activity.row,
                    column_of(bia, ACTIVITIES, "Entité"),
                )
            )
        if activity.dmia_override_seconds is not None and not activity.dmia_override_reason:
            problems.append(
                Problem(
                    "DMIA forcée sans motif",
                    ACTIVITIES,
                    activity.row,
                    column_of(bia, ACTIVITIES, "Motif du forçage"),
                )
            )
        for impact, per_horizon in activity.ratings.items():
            for label, level in per_horizon.items():
                if level is not None and not 0 <= level <= method.max_level:
                    problems.append(
                        Problem(
                            f"niveau {level} hors de l'échelle 0–{method.max_level} "
                            f"({activity.code}, {impact})",
                            RATINGS,
                            activity.rating_rows.get(impact),
                            column_of(bia, RATINGS, label),
                        )
                    )
        for brk in monotony_breaks(activity, method):
            problems.append(
                Problem(
                    f"cotation non croissante pour {activity.code} / {brk.impact_type} : "
                    f"{brk.earlier_level} à {brk.earlier} puis {brk.later_level} à {brk.later}",
                    RATINGS,
                    activity.rating_rows.get(brk.impact_type),
                    column_of(bia, RATINGS, brk.later),
                )
            )
    for dep in bia.dependencies:
        if dep.source not in activity_codes and dep.source not in resource_codes:
            problems.append(
                Problem(
                    f"« {dep.source} » n'est ni une activité ni une ressource",
                    DEPENDENCIES,
                    dep.row,
                    column_of(bia, DEPENDENCIES, "De"),
                )
            )
        if dep.target not in resource_codes:
            problems.append(
                Problem(
                    f"ressource « {dep.target} » inconnue"
                    + (
                        " (une activité ne peut pas être une dépendance)"
                        if dep.target in activity_codes
                        else ""
                    ),
                    DEPENDENCIES,
                    dep.row,
                    column_of(bia, DEPENDENCIES, "Vers"),
                )
            )
    for need in bia.needs:
        if need.activity not in activity_codes:
            problems.append(
                Problem(
                    f"activité « {need.activity} » inconnue",
                    NEEDS,
                    need.row,
                    column_of(bia, NEEDS, "Activité"),
                )
            )
    for cycle in find_cycles(_adjacency(bia)):
        rows = cycle_rows(bia, cycle)
        problems.append(
            Problem(
                "cycle de dépendances : " + " → ".join(cycle),
                DEPENDENCIES,
                rows[0] if rows else None,
                column_of(bia, DEPENDENCIES, "Vers"),
                rows=tuple(rows),
            )
        )
    return problems


def completeness_problems(bia: Bia, results: dict[str, ActivityResult]) -> list[Problem]:
    """What keeps a BIA from being validated: per activity, every rating, an RTO below the DMIA,
    material and human needs in degraded mode, and dependencies."""
    problems: list[Problem] = []
    method = bia.method
    if not bia.activities:
        problems.append(Problem("aucune activité analysée", ACTIVITIES, None, "", blocking=False))
    sources = {d.source for d in bia.dependencies}
    for activity in bia.activities:
        missing = [
            f"{impact.code} à {horizon.label}"
            for impact in method.impact_types
            for horizon in method.horizons
            if activity.ratings.get(impact.code, {}).get(horizon.label) is None
        ]
        if missing:
            shown = ", ".join(missing[:4]) + (" …" if len(missing) > 4 else "")
            problems.append(
                Problem(
                    f"{activity.code} : {len(missing)} cotation(s) manquante(s) ({shown})",
                    RATINGS,
                    None,
                    "",
                    blocking=False,
                )
            )
        result = results[activity.code]
        if result.rto_status == "missing":
            problems.append(
                Problem(
                    f"{activity.code} : RTO non renseigné",
                    ACTIVITIES,
                    activity.row,
                    column_of(bia, ACTIVITIES, "RTO (heures)"),
                    blocking=False,
                )
            )
        elif result.rto_status == "exceeds":
            problems.append(
                Problem(
                    f"{activity.code} : RTO ({format_duration(activity.rto_seconds)}) ≥ DMIA "
                    f"({result.dmia_label})",
                    ACTIVITIES,
                    activity.row,
                    column_of(bia, ACTIVITIES, "RTO (heures)"),
                    blocking=False,
                )
            )
        if activity.rpo_seconds is None:
            problems.append(
                Problem(
                    f"{activity.code} : PDMA non renseignée",
                    ACTIVITIES,
                    activity.row,
                    column_of(bia, ACTIVITIES, "PDMA (heures)"),
                    blocking=False,
                )
            )
        kinds = {n.kind for n in bia.needs if n.activity == activity.code}
        for kind, label in (("material", "matériel"), ("human", "humain")):
            if kind not in kinds:
                problems.append(
                    Problem(
                        f"{activity.code} : aucun besoin {label} en mode dégradé",
                        NEEDS,
                        None,
                        "",
                        blocking=False,
                    )
                )
        if activity.code not in sources:
            problems.append(
                Problem(
                    f"{activity.code} : aucune dépendance déclarée",
                    DEPENDENCIES,
                    None,
                    "",
                    blocking=False,
                )
            )
    return problems


# --- whole analysis -------------------------------------------------------------------------


@dataclass
class Analysis:
    activities: list[ActivityResult]
    resources: list[ResourceObjective]
    order: list[WaveItem]
    waves: list[Wave]
    cycles: list[list[str]]
    coverage: CoverageResult
    problems: list[Problem]

    @property
    def blocking(self) -> list[Problem]:
        return [p for p in self.problems if p.blocking]

    @property
    def valid(self) -> bool:
        """No problem at all: the BIA may be validated."""
        return not self.problems

    def as_dict(self) -> dict:
        return {
            "activities": [asdict(a) for a in self.activities],
            "resources": [asdict(r) for r in self.resources],
            "order": [asdict(i) for i in self.order],
            "waves": [asdict(w) for w in self.waves],
            "cycles": self.cycles,
            "coverage": self.coverage.as_dict(),
            "problems": [p.as_dict() for p in self.problems],
            "valid": self.valid,
        }


def analyse(
    bia: Bia, threshold: float = 0.66, measured: Mapping[str, Measured] | None = None
) -> Analysis:
    """Run every computation on a BIA; ``measured`` (by resource code) gives the recovery
    capabilities measured outside the BIA (restore tests), in place of the typed ones."""
    results = {a.code: analyse_activity(a, bia.method) for a in bia.activities}
    consistency = consistency_problems(bia)
    known = {r.code for r in bia.resources} | set(results)
    clean = Bia(
        method=bia.method,
        activities=bia.activities,
        resources=bia.resources,
        dependencies=[d for d in bia.dependencies if d.source in known and d.target in known],
        needs=bia.needs,
        entities=bia.entities,
        columns=bia.columns,
    )
    # duplicates would make inheritance ambiguous: keep the first occurrence only
    first_results = {}
    for a in bia.activities:
        first_results.setdefault(a.code, results[a.code])
    objectives = inherit_objectives(clean, first_results, measured)
    order, waves = recovery_waves(clean, objectives)
    return Analysis(
        activities=list(first_results.values()),
        resources=objectives,
        order=order,
        waves=waves,
        cycles=find_cycles(_adjacency(clean)),
        coverage=bia_coverage(bia, threshold),
        problems=consistency + completeness_problems(bia, first_results),
    )
