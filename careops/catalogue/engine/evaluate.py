"""The pure evaluator: a domain version and a dossier in, a status with reasons per item out.

Each criterion type has its own function. "Now" is never the clock: every date comes from the
dossier (its filing date, else ``as_of``). The same input always gives the same output.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any, Literal

from pydantic import BaseModel, Field

from .dates import add_years, day_in, fmt_date, fmt_number, fmt_pct, parse_date
from .dossier import Dossier, DossierError, Entity, Evidence, check_dossier
from .eligibility import Applicant, EligibilityResult
from .eligibility import check as check_eligibility
from .funding import funding_share
from .schema import (
    BUILTIN_ATTRIBUTES,
    BUILTIN_FACTS,
    DOSSIER_BOUNDS,
    AttestationCriterion,
    AuditLevelCriterion,
    AuditSeriesCriterion,
    Bound,
    ConditionalCriterion,
    CoverageCriterion,
    Criterion,
    DocumentCriterion,
    DomainVersion,
    EventInPeriodCriterion,
    IndicatorCriterion,
    Item,
    Period,
    RelatedEvidenceCriterion,
    TrajectoryCriterion,
    normalize_item_id,
)

Status = Literal["met", "not_met", "partial", "missing_evidence", "not_applicable"]
STATUS_LABELS: dict[str, str] = {
    "met": "atteint",
    "not_met": "non atteint",
    "partial": "partiellement atteint",
    "missing_evidence": "preuve manquante",
    "not_applicable": "sans objet",
}


def aggregate(statuses: Iterable[str]) -> Status:
    """Combine statuses (of an item's criteria, or of a group's children) into one.

    not_applicable ones are ignored; nothing left → not_applicable; all met → met; some met or
    partial (with others not met) → partial; else any not_met → not_met; else missing_evidence.
    """
    applicable = [status for status in statuses if status != "not_applicable"]
    if not applicable:
        return "not_applicable"
    if all(status == "met" for status in applicable):
        return "met"
    if any(status in ("met", "partial") for status in applicable):
        return "partial"
    if "not_met" in applicable:
        return "not_met"
    return "missing_evidence"


class CriterionResult(BaseModel):
    """The outcome of one criterion, with the evidence it relied on."""

    type: str
    label: str | None = None
    status: Status
    reasons: list[str] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)
    criteria: list[CriterionResult] = Field(default_factory=list)


class ItemResult(BaseModel):
    """The outcome of one prerequisite, objective or group."""

    id: str
    title: str
    kind: str
    parent: str | None = None
    status: Status
    reasons: list[str] = Field(default_factory=list)
    criteria: list[CriterionResult] = Field(default_factory=list)
    to_confirm: bool = False


class Progress(BaseModel):
    """How far the candidate is: met items among applicable ones, and an indicative funding
    share following the domain's modulation rule (to be confirmed by the official texts)."""

    met: int
    applicable: int
    ratio: float
    funding_share: float
    funding_rule: str
    funding_to_confirm: bool
    #: Why the share is 0 whatever the objectives: not eligible, a mandatory item not met…
    funding_reasons: list[str] = Field(default_factory=list)


class Evaluation(BaseModel):
    """Statuses and reasons of every item of a domain version for one dossier."""

    domain: str
    version: str
    candidate: dict[str, Any]
    reference_date: date
    reference: Literal["filing_date", "as_of"]
    results: list[ItemResult]
    progress: Progress
    #: eligible, reasons (why not), checks (passed), notes (to confirm)
    eligibility: dict[str, Any] = Field(default_factory=dict)

    def result(self, item_id: str) -> ItemResult:
        wanted = normalize_item_id(item_id)
        for result in self.results:
            if result.id == wanted:
                return result
        raise KeyError(wanted)

    def to_json(self) -> dict[str, Any]:
        """Plain dict for ``careops evaluate --json``."""
        return {
            "domain": self.domain,
            "version": self.version,
            "candidate": self.candidate,
            "reference": self.reference,
            "reference_date": self.reference_date.isoformat(),
            "eligibility": self.eligibility,
            "results": [
                {
                    "id": result.id,
                    "title": result.title,
                    "kind": result.kind,
                    "status": result.status,
                    "reasons": list(result.reasons),
                }
                for result in self.results
            ],
            "progress": self.progress.model_dump(),
        }


# --- entry point -----------------------------------------------------------------------------


def evaluate(domain: DomainVersion, dossier: Dossier) -> Evaluation:
    """Evaluate every item of ``domain`` against ``dossier``.

    Raises DossierError (French, located) before evaluating anything when the dossier refers to
    an unknown item, evidence kind, fact or establishment.
    """
    problems = check_dossier(domain, dossier)
    if problems:
        raise DossierError(problems)
    results: dict[str, ItemResult] = {}
    for item in domain.items:
        if item.kind != "group":
            results[item.id] = _evaluate_item(domain, dossier, item)
    for item in domain.items:
        if item.kind == "group":
            _evaluate_group(domain, item, results)
    ordered = [results[item.id] for item in domain.items]
    eligibility = dossier_eligibility(domain, dossier)
    return Evaluation(
        domain=domain.domain,
        version=domain.version,
        candidate=dossier.candidate.model_dump(exclude_none=True),
        reference_date=dossier.reference_date,
        reference="filing_date" if dossier.filing_date is not None else "as_of",
        results=ordered,
        progress=_progress(domain, ordered, eligibility.eligible),
        eligibility=eligibility.to_json(),
    )


def dossier_eligibility(domain: DomainVersion, dossier: Dossier) -> EligibilityResult:
    """The domain's eligibility rules applied to the dossier's candidate and entities (the
    same rules the web app applies to a candidacy)."""
    candidate = dossier.candidate
    applicant = Applicant(
        name=candidate.name,
        kind=candidate.kind,
        legal_status=candidate.legal_status,
        finess_category=candidate.finess_category,
        ght=candidate.ght,
    )
    return check_eligibility(domain, applicant, [e.finess_category for e in dossier.entities])


def _evaluate_item(domain: DomainVersion, dossier: Dossier, item: Item) -> ItemResult:
    open_question = item.open_question or "les critères d'acceptation ne sont pas encore publiés"
    if not item.criteria:
        return ItemResult(
            id=item.id,
            title=item.title,
            kind=item.kind,
            parent=item.parent,
            status="missing_evidence",
            reasons=[f"règle à confirmer : {open_question}"],
            to_confirm=item.to_confirm,
        )
    context = _Context(domain, dossier, item)
    criteria = [evaluate_criterion(criterion, context) for criterion in item.criteria]
    status = aggregate(result.status for result in criteria)
    # one reason once: two criteria missing the same evidence say it one time
    reasons = list(dict.fromkeys(r for result in criteria for r in _flat_reasons(result) if r))
    if item.to_confirm:
        reasons.append(f"règle à confirmer : {open_question}")
    return ItemResult(
        id=item.id,
        title=item.title,
        kind=item.kind,
        parent=item.parent,
        status=status,
        reasons=reasons,
        criteria=criteria,
        to_confirm=item.to_confirm,
    )


def _flat_reasons(result: CriterionResult) -> list[str]:
    reasons = list(result.reasons)
    for child in result.criteria:
        reasons.extend(_flat_reasons(child))
    return reasons


def _evaluate_group(domain: DomainVersion, group: Item, results: dict[str, ItemResult]) -> None:
    if group.id in results:
        return
    children = domain.children(group.id)
    for child in children:
        if child.kind == "group":
            _evaluate_group(domain, child, results)
    child_results = [results[child.id] for child in children]
    reasons = [
        "déduit des éléments : "
        + ", ".join(f"{child.id} {STATUS_LABELS[child.status]}" for child in child_results)
    ]
    results[group.id] = ItemResult(
        id=group.id,
        title=group.title,
        kind=group.kind,
        parent=group.parent,
        status=aggregate(child.status for child in child_results),
        reasons=reasons,
        to_confirm=group.to_confirm,
    )


def _progress(domain: DomainVersion, results: list[ItemResult], eligible: bool) -> Progress:
    leaves = [result for result in results if result.kind != "group"]
    applicable = [result for result in leaves if result.status != "not_applicable"]
    met = [result for result in applicable if result.status == "met"]
    funding = funding_share(
        domain,
        {r.id: None if r.status == "not_applicable" else r.status == "met" for r in leaves},
        eligible,
    )
    return Progress(
        met=len(met),
        applicable=len(applicable),
        ratio=round(len(met) / len(applicable), 4) if applicable else 0.0,
        funding_share=round(float(funding.share), 4),
        funding_rule=funding.rule,
        funding_to_confirm=funding.to_confirm,
        funding_reasons=funding.blocked_by,
    )


# --- evaluation context ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Resolved:
    day: date | None
    text: str  # "le 16/07/2022", "la date de candidature (31/10/2025)"
    noun: str  # "le 16/07/2022", "la date de candidature"
    missing: str | None = None  # why it cannot be resolved


class _Context:
    """What a criterion function needs: the domain, the dossier and the item being evaluated."""

    def __init__(self, domain: DomainVersion, dossier: Dossier, item: Item):
        self.domain = domain
        self.dossier = dossier
        self.item = item
        self.reference = dossier.reference_date
        self._scope = {item.id, *domain.ancestors(item.id)}

    def kind_label(self, kind: str) -> str:
        return self.domain.evidence_kinds[kind].label

    def kind_the(self, kind: str) -> str:
        return self.domain.evidence_kinds[kind].the

    def attribute_label(self, name: str) -> str:
        definition = self.domain.attributes.get(name)
        return definition.label if definition is not None else BUILTIN_ATTRIBUTES.get(name, name)

    def evidence(self, kind: str) -> list[Evidence]:
        """Usable evidence of a kind for this item, oldest first: dated no later than the
        reference date, and either unscoped or scoped to this item or one of its groups."""
        found = [
            evidence
            for evidence in self.dossier.evidence
            if evidence.kind == kind
            and evidence.date <= self.reference
            and (not evidence.objectives or self._scope.intersection(evidence.objectives))
        ]
        return sorted(found, key=lambda evidence: evidence.date)

    def later_only(self, kind: str) -> bool:
        return any(
            evidence.kind == kind and evidence.date > self.reference
            for evidence in self.dossier.evidence
        )

    def missing(self, kind: str, what: str | None = None) -> CriterionResult:
        text = (
            f"preuve manquante : aucune preuve « {what or self.kind_label(kind)} » dans le dossier"
        )
        if self.later_only(kind):
            text += f" (seules des preuves postérieures au {fmt_date(self.reference)})"
        return CriterionResult(type="", status="missing_evidence", reasons=[text])

    def resolve(self, bound: Bound) -> _Resolved:
        if bound.day is not None:
            text = f"le {fmt_date(bound.day)}"
            return _Resolved(bound.day, text, text)
        name = bound.event or ""
        if name == "filing_date":
            if self.dossier.filing_date is None:
                noun = "la date d'évaluation"
                return _Resolved(self.reference, f"{noun} ({fmt_date(self.reference)})", noun)
            noun = DOSSIER_BOUNDS[name]
            return _Resolved(self.reference, f"{noun} ({fmt_date(self.reference)})", noun)
        if name == "candidacy_date":
            noun = DOSSIER_BOUNDS[name]
            day = self.dossier.candidacy_date
            if day is None:
                return _Resolved(None, noun, noun, f"{noun} n'est pas renseignée dans le dossier")
            return _Resolved(day, f"{noun} ({fmt_date(day)})", noun)
        event = self.domain.events[name]
        noun = event.label or name
        if event.date is None:
            return _Resolved(None, noun, noun, f"{noun} n'est pas encore connu(e) (à confirmer)")
        return _Resolved(event.date, f"{noun} ({fmt_date(event.date)})", noun)

    def period(
        self, period: Period | None
    ) -> tuple[_Resolved | None, _Resolved | None, str | None]:
        """Resolved bounds of a period and, if one cannot be resolved, why."""
        if period is None:
            return None, None, None
        start = self.resolve(period.start) if period.start is not None else None
        end = self.resolve(period.end) if period.end is not None else None
        for bound in (start, end):
            if bound is not None and bound.missing:
                return start, end, bound.missing
        return start, end, None


def _result(
    criterion: Any, status: Status, reasons: list[str], evidence: Iterable[Evidence] = ()
) -> CriterionResult:
    return CriterionResult(
        type=criterion.type,
        label=criterion.label,
        status=status,
        reasons=[
            f"{STATUS_LABELS[status]} : {reason}" if reason.strip() else STATUS_LABELS[status]
            for reason in reasons
        ],
        evidence=[item.display for item in evidence],
    )


def _missing(criterion: Any, context: _Context, kind: str) -> CriterionResult:
    result = context.missing(kind)
    return result.model_copy(update={"type": criterion.type, "label": criterion.label})


def _unresolvable(criterion: Any, why: str) -> CriterionResult:
    return CriterionResult(
        type=criterion.type,
        label=criterion.label,
        status="missing_evidence",
        reasons=[f"preuve manquante : {why}"],
    )


def _day_in_period(day: date, start: _Resolved | None, end: _Resolved | None) -> bool:
    return day_in(day, start.day if start else None, end.day if end else None)


def _position(day: date, start: _Resolved | None, end: _Resolved | None) -> str:
    """French phrase placing a day against a period: 'avant le 16/07/2022'…"""
    if start is not None and start.day is not None and day < start.day:
        return f"avant {start.text}"
    if end is not None and end.day is not None and day > end.day:
        return f"après {end.text}"
    return _period_text(start, end)


def _period_text(start: _Resolved | None, end: _Resolved | None) -> str:
    if start is not None and end is not None:
        return f"entre {start.text} et {end.text}"
    if start is not None:
        return f"à partir de {start.text}"
    if end is not None:
        return f"au plus tard {end.text}"
    return "sans condition de date"


def _dated(context: _Context, kind: str, evidence: Evidence) -> str:
    """'la PSSI a été revue le 12/03/2024' (or a neutral wording without a verb)."""
    definition = context.domain.evidence_kinds[kind]
    if definition.date_verb:
        return f"{definition.the} a été {definition.date_verb} le {fmt_date(evidence.date)}"
    return f"{definition.the} porte la date du {fmt_date(evidence.date)}"


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.replace(",", "."))
        except ValueError:
            return None
    return None


def _filled(value: Any) -> bool:
    if value is None or value is False:
        return False
    if isinstance(value, str | list | dict | tuple):
        return bool(value.strip() if isinstance(value, str) else value)
    return True


def _exact(value: float) -> Fraction:
    return Fraction(repr(float(value)))


# --- criterion functions ---------------------------------------------------------------------


def evaluate_document(criterion: DocumentCriterion, context: _Context) -> CriterionResult:
    """A document of a kind, validated by a role, dated inside a period, not expired."""
    candidates = context.evidence(criterion.evidence_kind)
    if not candidates:
        return _missing(criterion, context, criterion.evidence_kind)
    start, end, why = context.period(criterion.period)
    if why:
        return _unresolvable(criterion, why)
    valid_at = context.resolve(criterion.valid_at) if criterion.valid_at else None
    if valid_at is not None and valid_at.missing:
        return _unresolvable(criterion, valid_at.missing)
    role = context.domain.roles.get(criterion.validated_by or "", criterion.validated_by)
    failures_by_evidence: list[tuple[Evidence, list[str]]] = []
    for evidence in reversed(candidates):
        failures = []
        if criterion.period is not None and not _day_in_period(evidence.date, start, end):
            failures.append(
                f"{_dated(context, criterion.evidence_kind, evidence)}, "
                f"{_position(evidence.date, start, end)}"
            )
        absent = [
            a for a in criterion.required_attributes if not _filled(evidence.attributes.get(a))
        ]
        if absent:
            names = ", ".join(f"« {context.attribute_label(a)} »" for a in absent)
            failures.append(f"{context.kind_the(criterion.evidence_kind)} : {names} manquant(s)")
        if criterion.validated and not evidence.validated_by:
            failures.append(
                f"{context.kind_the(criterion.evidence_kind)} est sans validation déclarée "
                "(une validation est exigée)"
            )
        if criterion.validated_by and evidence.validated_by != criterion.validated_by:
            given = evidence.validated_by
            shown = context.domain.roles.get(given or "", given) if given else "aucune validation"
            failures.append(
                f"{context.kind_the(criterion.evidence_kind)} est sans validation par {role} "
                f"(validation déclarée : {shown})"
            )
        if (
            valid_at is not None
            and valid_at.day is not None
            and evidence.expires is not None
            and evidence.expires < valid_at.day
        ):
            failures.append(
                f"{context.kind_the(criterion.evidence_kind)} a expiré le "
                f"{fmt_date(evidence.expires)}, avant {valid_at.text}"
            )
        if not failures:
            parts = [_dated(context, criterion.evidence_kind, evidence)]
            if criterion.period is not None:
                parts[0] += f", {_period_text(start, end)}"
            if criterion.validated_by:
                parts.append(f"validation par {role}")
            elif criterion.validated:
                given = evidence.validated_by or ""
                parts.append(f"validation déclarée par {context.domain.roles.get(given, given)}")
            if valid_at is not None and valid_at.day is not None:
                until = (
                    f"valable jusqu'au {fmt_date(evidence.expires)}"
                    if evidence.expires
                    else "sans date d'expiration"
                )
                parts.append(until)
            return _result(criterion, "met", [" ; ".join(parts)], [evidence])
        failures_by_evidence.append((evidence, failures))
    evidence, failures = failures_by_evidence[0]
    return _result(criterion, "not_met", [" ; ".join(failures)], [evidence])


def evaluate_audit_level(criterion: AuditLevelCriterion, context: _Context) -> CriterionResult:
    """An audit at or above a level, run at most ``within_days`` days before a bound."""
    audits = context.evidence(criterion.evidence_kind)
    if not audits:
        return _missing(criterion, context, criterion.evidence_kind)
    reference = context.resolve(criterion.reference)
    if reference.missing or reference.day is None:
        return _unresolvable(criterion, reference.missing or reference.text)
    label = context.kind_label(criterion.evidence_kind)
    minimum = fmt_number(criterion.min_level)
    recent = [a for a in audits if 0 <= (reference.day - a.date).days <= criterion.within_days]
    for audit in reversed(recent):
        level = _number(audit.attributes.get(criterion.attribute))
        if level is not None and level >= criterion.min_level:
            age = (reference.day - audit.date).days
            return _result(
                criterion,
                "met",
                [
                    f"{label} du {fmt_date(audit.date)} au niveau {fmt_number(level)} (≥ {minimum}), "
                    f"{age} jours avant {reference.noun} (≤ {criterion.within_days})"
                ],
                [audit],
            )
    if recent:
        audit = recent[-1]
        level = _number(audit.attributes.get(criterion.attribute))
        shown = "non renseigné" if level is None else fmt_number(level)
        return _result(
            criterion,
            "not_met",
            [f"{label} du {fmt_date(audit.date)} au niveau {shown} (< {minimum} requis)"],
            [audit],
        )
    before = [audit for audit in audits if audit.date <= reference.day]
    if not before:
        return _result(
            criterion,
            "not_met",
            [f"aucun {label} réalisé au plus tard {reference.text}"],
        )
    audit = before[-1]
    age = (reference.day - audit.date).days
    return _result(
        criterion,
        "not_met",
        [
            f"dernier {label} du {fmt_date(audit.date)}, {age} jours avant {reference.noun} "
            f"(> {criterion.within_days})"
        ],
        [audit],
    )


def find_series(days: list[date], count: int, min_gap: int, max_gap: int) -> list[int] | None:
    """Indexes of ``count`` audits (sorted days) whose consecutive gaps are all within
    [min_gap ; max_gap] days; the most recent such chain, or None. Audits between the chosen
    ones are allowed and skipped."""
    length = [1] * len(days)
    previous: list[int | None] = [None] * len(days)
    for current in range(len(days)):
        for earlier in range(current - 1, -1, -1):
            gap = (days[current] - days[earlier]).days
            if gap > max_gap:
                break
            if gap >= min_gap and length[earlier] + 1 > length[current]:
                length[current] = min(length[earlier] + 1, count)
                previous[current] = earlier
                if length[current] == count:
                    break
    for last in range(len(days) - 1, -1, -1):
        if length[last] >= count:
            chain = [last]
            while len(chain) < count:
                before = previous[chain[-1]]
                assert before is not None
                chain.append(before)
            return list(reversed(chain))
    return None


def evaluate_audit_series(criterion: AuditSeriesCriterion, context: _Context) -> CriterionResult:
    """``count`` audits at the required level, consecutive ones min_gap..max_gap days apart."""
    audits = context.evidence(criterion.evidence_kind)
    if not audits:
        return _missing(criterion, context, criterion.evidence_kind)
    start, end, why = context.period(criterion.period)
    if why:
        return _unresolvable(criterion, why)
    label = context.kind_label(criterion.evidence_kind)
    in_period = [a for a in audits if _day_in_period(a.date, start, end)]

    def qualifies(audit: Evidence) -> bool:
        if criterion.required_flag and audit.attributes.get(criterion.required_flag) is not True:
            return False
        if criterion.min_level is None:
            return True
        level = _number(audit.attributes.get(criterion.attribute))
        return level is not None and level >= criterion.min_level

    good = [audit for audit in in_period if qualifies(audit)]
    level_text = (
        f" au niveau requis (≥ {fmt_number(criterion.min_level)})"
        if criterion.min_level is not None
        else ""
    )
    if criterion.required_flag:
        level_text += f" avec « {context.attribute_label(criterion.required_flag)} »"

    gaps_text = f"{criterion.min_gap_days} à {criterion.max_gap_days} jours"
    # Several audits on the same day count once: a series needs distinct dates.
    unique: dict[date, Evidence] = {}
    for audit in good:
        unique.setdefault(audit.date, audit)
    series_audits = list(unique.values())
    if len(series_audits) < criterion.count:
        where = f" {_period_text(start, end)}" if criterion.period else ""
        return _result(
            criterion,
            "not_met",
            [
                f"{len(series_audits)} preuve(s) « {label} »{level_text}{where} à des dates "
                f"distinctes, {criterion.count} attendues, espacées de {gaps_text}"
            ],
            series_audits,
        )
    chain = find_series(
        [audit.date for audit in series_audits],
        criterion.count,
        criterion.min_gap_days,
        criterion.max_gap_days,
    )
    if chain is None:
        gaps = [
            (later.date - earlier.date).days
            for earlier, later in zip(series_audits, series_audits[1:], strict=False)
        ]
        return _result(
            criterion,
            "not_met",
            [
                f"aucune suite de {criterion.count} preuves « {label} »{level_text} espacées de "
                f"{gaps_text} "
                f"(écarts constatés entre audits successifs : "
                f"{', '.join(str(gap) for gap in gaps)} jours)"
            ],
            series_audits,
        )
    chosen = [series_audits[index] for index in chain]
    gaps = [(b.date - a.date).days for a, b in zip(chosen, chosen[1:], strict=False)]
    return _result(
        criterion,
        "met",
        [
            f"{label} du "
            + " puis du ".join(fmt_date(audit.date) for audit in chosen)
            + f"{level_text}, écarts de {', '.join(str(gap) for gap in gaps)} jours "
            f"({gaps_text} requis)"
        ],
        chosen,
    )


def coverage_units(dossier: Dossier, unit_level: str) -> tuple[str, list[Entity]]:
    """Level actually counted and the entities counted for a coverage criterion."""
    level = unit_level
    if level == "auto":
        level = "EJ" if dossier.candidate.kind == "ght" else "EG"
    units = [entity for entity in dossier.entities if entity.level == level]
    if not units:
        units = list(dossier.entities)
        levels = {entity.level for entity in units}
        if len(levels) == 1:
            level = levels.pop()
    return level, units


def evaluate_coverage(criterion: CoverageCriterion, context: _Context) -> CriterionResult:
    """Share of combined activity whose units are covered by evidence of a kind."""
    start, end, why = context.period(criterion.period)
    if why:
        return _unresolvable(criterion, why)
    documents = [
        evidence
        for evidence in context.evidence(criterion.evidence_kind)
        if _day_in_period(evidence.date, start, end)
    ]
    incomplete = [
        evidence
        for evidence in documents
        if any(not _filled(evidence.attributes.get(a)) for a in criterion.required_attributes)
    ]
    if incomplete and len(incomplete) == len(documents):
        names = ", ".join(
            f"« {context.attribute_label(a)} »" for a in criterion.required_attributes
        )
        label = context.kind_label(criterion.evidence_kind)
        return _result(
            criterion,
            "not_met",
            [f"aucune preuve « {label} » avec {names} renseigné(s)"],
            incomplete[-1:],
        )
    documents = [evidence for evidence in documents if evidence not in incomplete]
    if not documents:
        result = _missing(criterion, context, criterion.evidence_kind)
        if criterion.period is not None and context.evidence(criterion.evidence_kind):
            label = context.kind_label(criterion.evidence_kind)
            return _result(
                criterion, "not_met", [f"aucune preuve « {label} » {_period_text(start, end)}"]
            )
        return result
    level, units = coverage_units(context.dossier, criterion.unit_level)
    label = context.kind_label(criterion.evidence_kind)
    required = set(criterion.required_perimeters)
    single = len(units) <= 1

    def covering(finess: str | None, parent: str | None) -> list[Evidence]:
        return [
            evidence
            for evidence in documents
            if single
            or (finess is not None and finess in evidence.entities)
            or (parent is not None and parent in evidence.entities)
        ]

    reason_key = criterion.absence_reason_attribute

    def perimeters_of(found: list[Evidence]) -> tuple[set[str], set[str]]:
        """Perimeters the evidence tags (present, or absent with a reason when one is
        required), and those declared absent without the required reason."""
        tagged: set[str] = set()
        unjustified: set[str] = set()
        for evidence in found:
            for key in ("perimeters", "perimeters_absent"):
                value = evidence.attributes.get(key) or []
                names = [value] if isinstance(value, str) else list(value)
                if key == "perimeters_absent" and reason_key:
                    reasons = evidence.attributes.get(reason_key)
                    justified = [
                        name
                        for name in names
                        if _filled(reasons.get(name) if isinstance(reasons, dict) else reasons)
                    ]
                    unjustified.update(set(names) - set(justified))
                    names = justified
                tagged.update(names)
        return tagged, unjustified - tagged

    if not units:
        found = covering(None, None)
        tagged, unjustified = perimeters_of(found)
        gaps = required - tagged
        if gaps:
            return _result(
                criterion, "not_met", [_perimeter_gap(context, label, gaps, unjustified)], found
            )
        return _result(
            criterion,
            "met",
            [f"{label} couvrant l'ensemble du candidat (établissement unique)"],
            found,
        )
    if len({unit.unit for unit in units}) > 1:
        kinds = ", ".join(sorted({unit.unit for unit in units}))
        return _result(criterion, "not_met", [f"unités d'activité hétérogènes ({kinds})"])
    total = sum((_exact(unit.weight) for unit in units), Fraction(0))
    if total == 0:
        return _result(
            criterion, "not_met", ["activité combinée nulle pour tous les établissements"]
        )
    covered: list[Entity] = []
    notes: list[str] = []
    used: list[Evidence] = []
    for unit in units:
        found = covering(unit.finess, unit.parent)
        if not found:
            continue
        tagged, unjustified = perimeters_of(found)
        gaps = required - tagged
        if gaps:
            notes.append(f"{unit.display} : {_perimeter_gap(context, label, gaps, unjustified)}")
            continue
        covered.append(unit)
        used.extend(evidence for evidence in found if evidence not in used)
    share = sum((_exact(unit.weight) for unit in covered), Fraction(0)) / total
    threshold = _exact(criterion.threshold)
    unit_name = units[0].unit
    activity = (
        "de l'activité combinée"
        if unit_name == "activité combinée"
        else f"de l'activité (unité : {unit_name})"
    )

    def listing(entities: list[Entity]) -> str:
        return ", ".join(
            f"{entity.display} ({fmt_pct(float(_exact(entity.weight) / total))})"
            for entity in entities
        )

    if share >= threshold:
        text = (
            f"{fmt_pct(float(share))} {activity} couverte par {label} "
            f"(≥ {fmt_pct(criterion.threshold)}), comptée par {level} : {listing(covered)}"
        )
        return _result(criterion, "met", [text], used)
    uncovered = [unit for unit in units if unit not in covered]
    text = (
        f"{fmt_pct(float(share))} {activity} couverte par {label} "
        f"(< {fmt_pct(criterion.threshold)}), comptée par {level}"
    )
    if uncovered:
        text += f" ; non couverts : {listing(uncovered)}"
    reasons = [text, *notes]
    return _result(criterion, "not_met", reasons, used)


def _perimeter_gap(
    context: _Context, label: str, gaps: set[str], unjustified: set[str] | None = None
) -> str:
    names = ", ".join(context.domain.perimeters.get(gap, gap) for gap in sorted(gaps))
    text = f"périmètres non couverts par {label} : {names}"
    unexplained = sorted(gaps & (unjustified or set()))
    if unexplained:
        shown = ", ".join(context.domain.perimeters.get(gap, gap) for gap in unexplained)
        text += f" (déclaré(s) absent(s) sans justification : {shown})"
    return text


def evaluate_event_in_period(
    criterion: EventInPeriodCriterion, context: _Context
) -> CriterionResult:
    """An event held inside a period with every required attribute filled in."""
    events = context.evidence(criterion.evidence_kind)
    if not events:
        return _missing(criterion, context, criterion.evidence_kind)
    start, end, why = context.period(criterion.period)
    if why:
        return _unresolvable(criterion, why)
    label = context.kind_label(criterion.evidence_kind)
    inside = [event for event in events if _day_in_period(event.date, start, end)]
    attributes_text = ", ".join(
        f"« {context.attribute_label(a)} »" for a in criterion.required_attributes
    )
    for event in reversed(inside):
        absent = [a for a in criterion.required_attributes if not _filled(event.attributes.get(a))]
        if not absent:
            text = f"{label} du {fmt_date(event.date)}, {_period_text(start, end)}"
            if criterion.required_attributes:
                text += f", avec {attributes_text} renseigné(s)"
            return _result(criterion, "met", [text], [event])
    if inside:
        event = inside[-1]
        absent = [a for a in criterion.required_attributes if not _filled(event.attributes.get(a))]
        names = ", ".join(f"« {context.attribute_label(a)} »" for a in absent)
        return _result(
            criterion,
            "not_met",
            [f"{label} du {fmt_date(event.date)} sans {names} renseigné(s)"],
            [event],
        )
    event = events[-1]
    return _result(
        criterion,
        "not_met",
        [f"{label} du {fmt_date(event.date)}, {_position(event.date, start, end)}"],
        [event],
    )


def evaluate_indicator(criterion: IndicatorCriterion, context: _Context) -> CriterionResult:
    """numerator / denominator of the measurements in a period reaches the target."""
    start, end, why = context.period(criterion.period)
    if why:
        return _unresolvable(criterion, why)
    measures = [
        evidence
        for evidence in context.evidence(criterion.evidence_kind)
        if _day_in_period(evidence.date, start, end)
    ]
    label = context.kind_label(criterion.evidence_kind)
    where = _period_text(start, end) if criterion.period else ""
    if not measures:
        return _unresolvable(
            criterion, f"aucune mesure « {label} »{' ' + where if where else ''} dans le dossier"
        )
    if criterion.aggregation == "latest":
        measures = measures[-1:]
    numerator = Fraction(0)
    denominator = Fraction(0)
    for measure in measures:
        top = _number(measure.attributes.get(criterion.numerator))
        bottom = _number(measure.attributes.get(criterion.denominator))
        if top is None or bottom is None:
            return _result(
                criterion,
                "not_met",
                [
                    f"mesure {label} du {fmt_date(measure.date)} incomplète "
                    f"({criterion.numerator} / {criterion.denominator} non renseignés)"
                ],
                [measure],
            )
        numerator += _exact(top)
        denominator += _exact(bottom)
    if denominator == 0:
        return _result(criterion, "not_met", [f"{label} : dénominateur nul"], measures)
    ratio = numerator / denominator
    target = _exact(criterion.target)
    figures = (
        f"{label} : {fmt_pct(float(ratio))} ({fmt_number(float(numerator))} / "
        f"{fmt_number(float(denominator))})"
    )
    scope = (
        f"mesure du {fmt_date(measures[0].date)}"
        if len(measures) == 1
        else f"{len(measures)} mesures cumulées"
    )
    if ratio >= target:
        return _result(
            criterion, "met", [f"{figures} ≥ {fmt_pct(criterion.target)}, {scope}"], measures
        )
    return _result(
        criterion, "not_met", [f"{figures} < {fmt_pct(criterion.target)}, {scope}"], measures
    )


def evaluate_conditional(criterion: ConditionalCriterion, context: _Context) -> CriterionResult:
    """Nested criteria when a dossier fact holds; ``otherwise`` or not applicable if not."""
    fact = criterion.when.fact
    facts: dict[str, Any] = {
        **context.dossier.facts,
        "candidate_kind": context.dossier.candidate.kind,
    }
    definition = context.domain.facts.get(fact)
    label = definition.label if definition is not None else BUILTIN_FACTS.get(fact, fact)
    if fact not in facts:
        return CriterionResult(
            type=criterion.type,
            label=criterion.label,
            status="missing_evidence",
            reasons=[f"preuve manquante : fait non renseigné dans le dossier : {label} ({fact})"],
        )
    value = facts[fact]
    shown = _fact_text(value)
    if value == criterion.when.equals and type(value) is type(criterion.when.equals):
        nested = [evaluate_criterion(child, context) for child in criterion.criteria]
        return CriterionResult(
            type=criterion.type,
            label=criterion.label,
            status=aggregate(child.status for child in nested),
            reasons=[f"condition remplie : {label} = {shown}"],
            criteria=nested,
        )
    if criterion.otherwise:
        nested = [evaluate_criterion(child, context) for child in criterion.otherwise]
        return CriterionResult(
            type=criterion.type,
            label=criterion.label,
            status=aggregate(child.status for child in nested),
            reasons=[f"condition non remplie : {label} = {shown}"],
            criteria=nested,
        )
    return CriterionResult(
        type=criterion.type,
        label=criterion.label,
        status="not_applicable",
        reasons=[f"sans objet : {label} = {shown}"],
    )


def _fact_text(value: Any) -> str:
    if value in ("ght", "ej", "esms"):
        return str(value).upper()
    if value is True:
        return "oui"
    if value is False:
        return "non"
    return str(value)


def evaluate_attestation(criterion: AttestationCriterion, context: _Context) -> CriterionResult:
    """The latest declaration picks an option; that option's attributes must be filled in."""
    declarations = context.evidence(criterion.evidence_kind)
    if not declarations:
        return _missing(criterion, context, criterion.evidence_kind)
    declaration = declarations[-1]
    label = context.kind_label(criterion.evidence_kind)
    chosen = declaration.attributes.get(criterion.attribute)
    options = ", ".join(criterion.options)
    if not isinstance(chosen, str) or chosen not in criterion.options:
        return _result(
            criterion,
            "not_met",
            [
                f"{label} du {fmt_date(declaration.date)} : option « {chosen} » non prévue "
                f"(options : {options})"
            ],
            [declaration],
        )
    option = criterion.options[chosen]
    option_label = option.label or chosen
    absent = [a for a in option.required_attributes if not _filled(declaration.attributes.get(a))]
    if absent:
        names = ", ".join(f"« {context.attribute_label(a)} »" for a in absent)
        return _result(
            criterion,
            "not_met",
            [f"{label} du {fmt_date(declaration.date)} : {option_label}, mais {names} manquant(s)"],
            [declaration],
        )
    text = f"{label} du {fmt_date(declaration.date)} : {option_label}"
    if option.required_attributes:
        names = ", ".join(f"« {context.attribute_label(a)} »" for a in option.required_attributes)
        text += f", {names} fourni(s)"
    return _result(criterion, "met", [text], [declaration])


def evaluate_trajectory(criterion: TrajectoryCriterion, context: _Context) -> CriterionResult:
    """A plan reaching its target within ``max_years`` of a bound, with enough milestones."""
    plans = context.evidence(criterion.evidence_kind)
    if not plans:
        return _missing(criterion, context, criterion.evidence_kind)
    plan = plans[-1]
    label = context.kind_label(criterion.evidence_kind)
    head = f"{label} du {fmt_date(plan.date)}"
    if criterion.reached_attribute and plan.attributes.get(criterion.reached_attribute) is True:
        return _result(criterion, "met", [f"{head} : cible déjà atteinte"], [plan])
    reference = context.resolve(criterion.reference)
    if reference.missing or reference.day is None:
        return _unresolvable(criterion, reference.missing or reference.text)
    raw_target = plan.attributes.get(criterion.target_attribute)
    try:
        target = parse_date(raw_target) if raw_target is not None else None
    except ValueError:
        target = None
    if target is None:
        return _result(criterion, "not_met", [f"{head} : date cible absente ou invalide"], [plan])
    limit = add_years(reference.day, criterion.max_years)
    within = target < limit if criterion.strict else target <= limit
    milestones = plan.attributes.get(criterion.milestones_attribute) or []
    count = len(milestones) if isinstance(milestones, list) else 0
    sign = "<" if criterion.strict else "≤"
    failures = []
    if not within:
        failures.append(
            f"cible au {fmt_date(target)}, au-delà de {criterion.max_years} ans après "
            f"{reference.noun} (limite {sign} {fmt_date(limit)})"
        )
    if count < criterion.min_milestones:
        failures.append(f"{count} jalon(s), {criterion.min_milestones} attendu(s) au minimum")
    if failures:
        return _result(criterion, "not_met", [f"{head} : " + " ; ".join(failures)], [plan])
    return _result(
        criterion,
        "met",
        [
            f"{head} : cible au {fmt_date(target)}, moins de {criterion.max_years} ans après "
            f"{reference.noun} ({sign} {fmt_date(limit)}), {count} jalon(s) "
            f"(≥ {criterion.min_milestones})"
        ],
        [plan],
    )


def _values(value: Any) -> list[str]:
    """The text values of an attribute (a string or a list), as written."""
    items = value if isinstance(value, list | tuple) else [value]
    return [str(item).strip() for item in items if item is not None and str(item).strip()]


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def evaluate_related_evidence(
    criterion: RelatedEvidenceCriterion, context: _Context
) -> CriterionResult:
    """Evidence naming, in ``attribute``, a value listed by evidence of another kind."""
    start, end, why = context.period(criterion.period)
    if why:
        return _unresolvable(criterion, why)
    candidates = [
        evidence
        for evidence in context.evidence(criterion.evidence_kind)
        if _day_in_period(evidence.date, start, end)
    ]
    label = context.kind_label(criterion.evidence_kind)
    related_label = context.kind_label(criterion.related_kind)
    attribute = context.attribute_label(criterion.attribute)
    related_attribute = context.attribute_label(criterion.related_attribute)
    if not candidates:
        result = _missing(criterion, context, criterion.evidence_kind)
        if criterion.period is not None and context.evidence(criterion.evidence_kind):
            return _result(
                criterion, "not_met", [f"aucune preuve « {label} » {_period_text(start, end)}"]
            )
        return result
    # the related evidence counts whatever item it was filed for (a BIA filed for D2.O1.C)
    listed: dict[str, str] = {}
    sources: list[Evidence] = []
    for evidence in context.dossier.evidence:
        if evidence.kind != criterion.related_kind or evidence.date > context.reference:
            continue
        values = _values(evidence.attributes.get(criterion.related_attribute))
        if values:
            sources.append(evidence)
            for value in values:
                listed.setdefault(_key(value), value)
    named = [e for e in candidates if _values(e.attributes.get(criterion.attribute))]
    if not named:
        event = candidates[-1]
        return _result(
            criterion,
            "not_met",
            [f"{label} du {fmt_date(event.date)} sans « {attribute} » renseigné"],
            [event],
        )
    if not listed:
        event = named[-1]
        shown = ", ".join(_values(event.attributes.get(criterion.attribute)))
        return _result(
            criterion,
            "met",
            [
                f"{label} du {fmt_date(event.date)}, {attribute} : {shown} (aucun {related_label} "
                f"du dossier ne renseigne « {related_attribute} » : rattachement non vérifié)"
            ],
            [event],
        )
    for event in reversed(named):
        matches = [
            listed[_key(value)]
            for value in _values(event.attributes.get(criterion.attribute))
            if _key(value) in listed
        ]
        if matches:
            return _result(
                criterion,
                "met",
                [
                    f"{label} du {fmt_date(event.date)}, {attribute} : {', '.join(matches)}, "
                    f"qui figure dans « {related_attribute} » d'un {related_label}"
                ],
                [event, *sources],
            )
    event = named[-1]
    shown = ", ".join(_values(event.attributes.get(criterion.attribute)))
    known = ", ".join(sorted(listed.values()))
    return _result(
        criterion,
        "not_met",
        [
            f"{label} du {fmt_date(event.date)}, {attribute} : {shown}, absent de "
            f"« {related_attribute} » des {related_label} du dossier ({known})"
        ],
        [event],
    )


EVALUATORS: dict[str, Callable[[Any, _Context], CriterionResult]] = {
    "document": evaluate_document,
    "audit_level": evaluate_audit_level,
    "audit_series": evaluate_audit_series,
    "coverage": evaluate_coverage,
    "event_in_period": evaluate_event_in_period,
    "indicator": evaluate_indicator,
    "conditional": evaluate_conditional,
    "attestation": evaluate_attestation,
    "trajectory": evaluate_trajectory,
    "related_evidence": evaluate_related_evidence,
}


def evaluate_criterion(criterion: Criterion, context: _Context) -> CriterionResult:
    """Dispatch a criterion to the function of its type."""
    return EVALUATORS[criterion.type](criterion, context)
