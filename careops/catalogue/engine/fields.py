"""Form fields derived from the referential: the facts a candidate declares and, per evidence
kind, the attributes its criteria read, each with a type, a French label and help.

Nobody types JSON: the web forms are generated from these specifications. A domain may declare
an attribute's type (``attributes: {x: {label: …, type: bool}}``); otherwise the criteria that
read it decide (an audit level is a number, a trajectory target a date…), else it is text.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from .schema import (
    BUILTIN_ATTRIBUTES,
    AttestationCriterion,
    AuditLevelCriterion,
    AuditSeriesCriterion,
    ConditionalCriterion,
    CoverageCriterion,
    Criterion,
    DocumentCriterion,
    DomainVersion,
    EventInPeriodCriterion,
    IndicatorCriterion,
    TrajectoryCriterion,
)

#: Criterion types that judge a document (or a report of one): a manual upload needs a file.
DOCUMENT_TYPES = ("document", "coverage", "event_in_period", "audit_level", "audit_series")


@dataclass
class FieldSpec:
    """One generated form field: ``type`` is bool, text, number, date, choice, choices (several
    values among ``choices``) or lines (a list, one entry per line)."""

    name: str
    label: str
    type: str
    help: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    required: bool = False


def fact_fields(domain: DomainVersion) -> list[FieldSpec]:
    """The facts of a domain, in declaration order."""
    return [
        FieldSpec(
            name=name,
            label=definition.label,
            type=definition.type,
            help=definition.help,
            choices=list(definition.choices.items()),
        )
        for name, definition in domain.facts.items()
    ]


def _criteria(criteria: list[Criterion]) -> Iterator[Criterion]:
    for criterion in criteria:
        yield criterion
        if isinstance(criterion, ConditionalCriterion):
            yield from _criteria(criterion.criteria)
            yield from _criteria(criterion.otherwise or [])


def criteria_of_kind(domain: DomainVersion, kind: str) -> list[Criterion]:
    """Every criterion of the domain (conditional ones included) that reads this evidence kind."""
    return [
        criterion
        for item in domain.items
        for criterion in _criteria(item.criteria)
        if getattr(criterion, "evidence_kind", None) == kind
    ]


def file_required(domain: DomainVersion, kind: str) -> bool:
    """Whether a manually filed piece of evidence of this kind must carry a file: a criterion
    judges it as a document (or an audit report), and none reads it as declared data only."""
    types = {criterion.type for criterion in criteria_of_kind(domain, kind)}
    return bool(types & set(DOCUMENT_TYPES))


def _inferred(criterion: Criterion, domain: DomainVersion) -> Iterator[FieldSpec]:
    """The attributes one criterion reads, typed by the way it reads them."""

    def spec(name: str, type_: str, **extra) -> FieldSpec:
        return FieldSpec(name=name, label="", type=type_, **extra)

    if isinstance(criterion, DocumentCriterion | EventInPeriodCriterion):
        for name in criterion.required_attributes:
            yield spec(name, "text", required=True)
    elif isinstance(criterion, AuditLevelCriterion):
        yield spec(criterion.attribute, "number", required=True)
    elif isinstance(criterion, AuditSeriesCriterion):
        if criterion.min_level is not None:
            yield spec(criterion.attribute, "number", required=True)
        if criterion.required_flag:
            yield spec(criterion.required_flag, "bool")
    elif isinstance(criterion, CoverageCriterion):
        perimeters = list(domain.perimeters.items())
        if perimeters:
            yield spec("perimeters", "choices", choices=perimeters)
            yield spec("perimeters_absent", "choices", choices=perimeters)
    elif isinstance(criterion, IndicatorCriterion):
        yield spec(criterion.numerator, "number", required=True)
        yield spec(criterion.denominator, "number", required=True)
    elif isinstance(criterion, AttestationCriterion):
        options = [(key, option.label or key) for key, option in criterion.options.items()]
        yield spec(criterion.attribute, "choice", choices=options, required=True)
        for option in criterion.options.values():
            for name in option.required_attributes:
                yield spec(name, "text")
    elif isinstance(criterion, TrajectoryCriterion):
        if criterion.reached_attribute:
            yield spec(criterion.reached_attribute, "bool")
        yield spec(criterion.target_attribute, "date")
        yield spec(
            criterion.milestones_attribute,
            "lines",
            help="Un jalon par ligne (date et intitulé), par exemple « 2026-06-30 isolement du réseau ».",
        )


def attribute_fields(domain: DomainVersion, kind: str) -> list[FieldSpec]:
    """The attributes the criteria of a domain read on evidence of this kind, once each, in the
    order the criteria name them; the domain's declarations give labels, types and help."""
    found: dict[str, FieldSpec] = {}
    for criterion in criteria_of_kind(domain, kind):
        for spec in _inferred(criterion, domain):
            if spec.name in found:
                found[spec.name].required = found[spec.name].required or spec.required
                continue
            definition = domain.attributes.get(spec.name)
            spec.label = (
                definition.label if definition else BUILTIN_ATTRIBUTES.get(spec.name, spec.name)
            )
            if definition is not None:
                spec.type = definition.type or spec.type
                spec.help = definition.help or spec.help
                if definition.choices:
                    spec.choices = list(definition.choices.items())
            found[spec.name] = spec
    return list(found.values())
