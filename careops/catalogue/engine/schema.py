"""Typed model of the programme referential: domains, windows, items and their criteria.

One YAML file describes one version of one domain. Criteria are a discriminated union on
``type``; each type is evaluated by its own function in :mod:`.evaluate`.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_serializer,
    model_validator,
)

from .dates import lower_instant, parse_date, parse_date_or_datetime, upper_instant_exclusive

DOMAIN_CODES = ("D1", "D1BIS", "D2", "D3", "HOSPICONNECT", "AAPMS")
DomainCode = Literal["D1", "D1BIS", "D2", "D3", "HOSPICONNECT", "AAPMS"]
ItemKind = Literal["prerequisite", "objective", "group"]
Confidence = Literal["H", "M", "L"]
CandidateKind = Literal["ght", "ej", "esms"]
WINDOW_NAMES = ("candidacy", "declaration", "ars_instruction", "ans_instruction", "payment")

#: Bound names every domain understands; they are resolved from the dossier.
#: Facts every domain understands, read from the dossier itself rather than from ``facts``.
BUILTIN_FACTS = {"candidate_kind": "type de candidat"}

#: French labels of the attribute names criteria use by default, when a domain does not declare them.
BUILTIN_ATTRIBUTES = {
    "level": "niveau",
    "status": "option retenue",
    "numerator": "numérateur",
    "denominator": "dénominateur",
    "target_date": "date cible",
    "milestones": "jalons",
    "target_reached": "cible déjà atteinte",
    "perimeters": "périmètres couverts",
    "perimeters_absent": "périmètres absents de l'établissement",
}

DOSSIER_BOUNDS = {
    "candidacy_date": "la date de candidature",
    "filing_date": "la date de dépôt",
}

_ID_RE = re.compile(r"^[A-Z][A-Z0-9]*(\.[A-Z0-9_-]+)+$")
_SEGMENT_ZERO_RE = re.compile(r"^0(\d+[A-Z0-9_-]*)$")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_VERSION_RE = re.compile(r"^\d+(\.\d+)*$")


def normalize_item_id(value: str) -> str:
    """Canonical form of an item ID: "d2.o3.b", "D2.03.B" and " D2.O3.B " give "D2.O3.B".

    Letters are upper-cased, blanks removed, and a segment written with a leading zero where the
    letter O is meant ("03") is read as "O3". Raises ValueError on anything that is not an ID.
    """
    if not isinstance(value, str):
        raise ValueError(f"identifiant invalide : « {value} »")
    text = "".join(value.split()).upper()
    parts = text.split(".")
    fixed = [parts[0]] + [_SEGMENT_ZERO_RE.sub(r"O\1", part) for part in parts[1:]]
    result = ".".join(fixed)
    if not _ID_RE.match(result):
        raise ValueError(
            f"identifiant invalide : « {value} » (forme attendue : D2.O3.B, segments séparés par "
            "des points)"
        )
    return result


def _normalize_id_field(value: Any) -> Any:
    return normalize_item_id(value) if isinstance(value, str) else value


ItemId = Annotated[str, BeforeValidator(_normalize_id_field)]


def _date_field(value: Any) -> Any:
    return None if value is None else parse_date(value)


def _date_or_datetime_field(value: Any) -> Any:
    return None if value is None else parse_date_or_datetime(value)


CalendarDate = Annotated[date, BeforeValidator(_date_field)]
WindowInstant = Annotated[date | datetime, BeforeValidator(_date_or_datetime_field)]


class Model(BaseModel):
    """Base of every referential model: unknown fields are errors, aliases and names accepted."""

    model_config = ConfigDict(extra="forbid", validate_by_name=True, validate_by_alias=True)


# --- date bounds -----------------------------------------------------------------------------


class Bound(Model):
    """A date bound: a fixed calendar date, or the name of an event resolved at evaluation.

    Written in YAML as a bare value: ``2022-07-16``, ``candidacy_date``, ``filing_date`` or the
    name of one of the domain's ``events``.
    """

    day: date | None = None
    event: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_scalar(cls, value: Any) -> Any:
        if isinstance(value, date | datetime):
            return {"day": parse_date(value)}
        if isinstance(value, str):
            text = value.strip()
            if _NAME_RE.match(text):
                return {"event": text}
            return {"day": parse_date(text)}
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> Bound:
        if (self.day is None) == (self.event is None):
            raise ValueError("une borne est soit une date, soit un nom d'événement")
        return self

    @model_serializer
    def _to_scalar(self) -> str:
        return self.day.isoformat() if self.day is not None else str(self.event)

    @classmethod
    def named(cls, name: str) -> Bound:
        return cls(event=name)


class Period(Model):
    """An inclusive range of calendar days between two bounds (either may be open)."""

    start: Bound | None = Field(default=None, alias="from")
    end: Bound | None = Field(default=None, alias="to")


# --- criteria --------------------------------------------------------------------------------


class _Criterion(Model):
    label: str | None = None


class DocumentCriterion(_Criterion):
    """A document of a kind exists, optionally validated by a role, dated inside a period, and
    not expired at a bound."""

    type: Literal["document"]
    evidence_kind: str
    validated_by: str | None = None
    period: Period | None = None
    valid_at: Bound | None = None
    required_attributes: list[str] = Field(default_factory=list)
    #: A validation must be declared, by any role (the validating role is not published).
    validated: bool = False

    @model_validator(mode="after")
    def _one_validation_rule(self) -> DocumentCriterion:
        if self.validated and self.validated_by:
            raise ValueError("validated et validated_by s'excluent : gardez validated_by")
        return self


class AuditLevelCriterion(_Criterion):
    """An audit whose attribute reaches a level, run at most ``within_days`` before a bound."""

    type: Literal["audit_level"]
    evidence_kind: str
    attribute: str = "level"
    min_level: float
    within_days: int = Field(ge=0)
    reference: Bound = Field(default_factory=lambda: Bound.named("filing_date"))


class AuditSeriesCriterion(_Criterion):
    """``count`` audits meeting a level, each consecutive pair between two gaps (in days)."""

    type: Literal["audit_series"]
    evidence_kind: str
    count: int = Field(default=2, ge=2)
    min_gap_days: int = Field(ge=0)
    max_gap_days: int = Field(ge=0)
    attribute: str = "level"
    min_level: float | None = None
    required_flag: str | None = None
    period: Period | None = None

    @model_validator(mode="after")
    def _gaps(self) -> AuditSeriesCriterion:
        if self.min_gap_days > self.max_gap_days:
            raise ValueError("min_gap_days doit être inférieur ou égal à max_gap_days")
        return self


class CoverageCriterion(_Criterion):
    """Evidence of a kind covers at least ``threshold`` of the candidate's combined activity."""

    type: Literal["coverage"]
    evidence_kind: str
    threshold: float = Field(gt=0, le=1)
    unit_level: Literal["auto", "EJ", "EG"] = "auto"
    required_perimeters: list[str] = Field(default_factory=list)
    period: Period | None = None
    #: Attributes the covering evidence must fill (D2.O1.C: the list of critical activities).
    required_attributes: list[str] = Field(default_factory=list)
    #: When set, a perimeter declared in ``perimeters_absent`` counts only with its reason in
    #: this attribute (a text, or a mapping perimeter → text).
    absence_reason_attribute: str | None = None


class EventInPeriodCriterion(_Criterion):
    """An event (exercise, test) held inside a period, with attributes filled in."""

    type: Literal["event_in_period"]
    evidence_kind: str
    period: Period
    required_attributes: list[str] = Field(default_factory=list)


class IndicatorCriterion(_Criterion):
    """numerator / denominator of measurements in a period reaches ``target``."""

    type: Literal["indicator"]
    evidence_kind: str
    target: float = Field(ge=0)
    numerator: str = "numerator"
    denominator: str = "denominator"
    aggregation: Literal["sum", "latest"] = "sum"
    period: Period | None = None


class RelatedEvidenceCriterion(_Criterion):
    """Evidence of a kind, in a period, whose ``attribute`` names one of the values that
    evidence of ``related_kind`` lists in ``related_attribute`` (D2.O4: the restore test is
    on an IS supporting a critical activity of a BIA). When no evidence of the related kind
    lists any value, the link cannot be checked: the criterion is met and says so."""

    type: Literal["related_evidence"]
    evidence_kind: str
    attribute: str
    related_kind: str
    related_attribute: str
    period: Period | None = None


class Condition(Model):
    """A dossier fact compared with a value."""

    fact: str
    equals: bool | int | float | str = True


class ConditionalCriterion(_Criterion):
    """Nested criteria that apply only when a dossier fact holds (else ``otherwise``, or not
    applicable)."""

    type: Literal["conditional"]
    when: Condition
    criteria: list[Criterion] = Field(min_length=1)
    otherwise: list[Criterion] | None = None


class AttestationOption(Model):
    label: str | None = None
    required_attributes: list[str] = Field(default_factory=list)


class AttestationCriterion(_Criterion):
    """A declared fact taking one of several options, each option with required attributes."""

    type: Literal["attestation"]
    evidence_kind: str
    attribute: str = "status"
    options: dict[str, AttestationOption] = Field(min_length=1)


class TrajectoryCriterion(_Criterion):
    """A plan whose target date is within ``max_years`` of a bound, with enough milestones."""

    type: Literal["trajectory"]
    evidence_kind: str
    max_years: int = Field(gt=0)
    strict: bool = True
    reference: Bound = Field(default_factory=lambda: Bound.named("filing_date"))
    min_milestones: int = Field(default=1, ge=0)
    target_attribute: str = "target_date"
    milestones_attribute: str = "milestones"
    reached_attribute: str | None = None


Criterion = Annotated[
    DocumentCriterion
    | AuditLevelCriterion
    | AuditSeriesCriterion
    | CoverageCriterion
    | EventInPeriodCriterion
    | IndicatorCriterion
    | ConditionalCriterion
    | AttestationCriterion
    | TrajectoryCriterion
    | RelatedEvidenceCriterion,
    Field(discriminator="type"),
]
CRITERION_TYPES = (
    "document",
    "audit_level",
    "audit_series",
    "coverage",
    "event_in_period",
    "indicator",
    "conditional",
    "attestation",
    "trajectory",
    "related_evidence",
)
#: French names of the criterion types, shown when a criterion has no label of its own.
CRITERION_TYPE_LABELS = {
    "document": "document",
    "audit_level": "niveau d'audit",
    "audit_series": "série d'audits",
    "coverage": "couverture de l'activité",
    "event_in_period": "événement dans la période",
    "indicator": "indicateur",
    "conditional": "condition",
    "attestation": "attestation",
    "trajectory": "trajectoire",
}
ConditionalCriterion.model_rebuild()


# --- items -----------------------------------------------------------------------------------


class FaqEntry(Model):
    question: str
    answer: str
    source: str | None = None


class Item(Model):
    """A prerequisite, an objective or a group of objectives, with its typed criteria."""

    id: ItemId
    kind: ItemKind
    parent: ItemId | None = None
    title: str
    description: str = ""
    expected_evidence: list[str] = Field(default_factory=list)
    faq: list[FaqEntry] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    confidence: Confidence | None = None
    to_confirm: bool = False
    open_question: str | None = None
    #: Without this item met, nothing of the domain's funding is due (D1: the ADS audit).
    mandatory_for_funding: bool = False
    criteria: list[Criterion] = Field(default_factory=list)

    @model_validator(mode="after")
    def _criteria_shape(self) -> Item:
        if self.kind == "group" and self.criteria:
            raise ValueError("un groupe n'a pas de critères : son statut se déduit de ses enfants")
        if self.kind == "group" and self.mandatory_for_funding:
            raise ValueError(
                "mandatory_for_funding porte sur un prérequis ou un objectif, pas sur un groupe"
            )
        if self.kind != "group" and not self.criteria and not self.to_confirm:
            raise ValueError(
                f"l'élément {self.id} n'a aucun critère : ajoutez-en ou marquez-le to_confirm"
            )
        return self


# --- domain frame ----------------------------------------------------------------------------


class EvidenceKind(Model):
    """A kind of evidence a dossier may carry, with the French words used in reasons."""

    label: str
    noun: str | None = None
    date_verb: str | None = None
    description: str = ""

    @property
    def the(self) -> str:
        return self.noun or f"la preuve « {self.label} »"


FieldType = Literal["bool", "text", "number", "date", "choice", "lines", "choices"]


class FactDefinition(Model):
    """A dossier fact the candidate declares: its French label, type and help for the form."""

    label: str
    type: Literal["bool", "text", "number", "date", "choice"] = "bool"
    help: str = ""
    choices: dict[str, str] = Field(default_factory=dict)


def _attribute_definition(value: Any) -> Any:
    return {"label": value} if isinstance(value, str) else value


class AttributeDefinition(Model):
    """An evidence attribute: its French label, and optionally its form type and help.

    Written either as a bare label (``scenario: "scénario de test"``) or as a mapping
    (``{label: …, type: bool, help: …}``); without a type, the criteria reading the attribute
    decide it (a level is a number, a target a date…), else it is text.
    """

    label: str
    type: FieldType | None = None
    help: str = ""
    choices: dict[str, str] = Field(default_factory=dict)


class Event(Model):
    """A named programme event usable as a date bound."""

    date: CalendarDate | None = None
    label: str = ""
    sources: list[str] = Field(default_factory=list)
    confidence: Confidence | None = None
    to_confirm: bool = False
    note: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_scalar(cls, value: Any) -> Any:
        if isinstance(value, str | date):
            return {"date": value}
        return value

    @model_validator(mode="after")
    def _unknown_needs_flag(self) -> Event:
        if self.date is None and not self.to_confirm:
            raise ValueError("date inconnue : indiquez to_confirm: true")
        return self


class Window(Model):
    """A guichet: open from ``opens`` to ``closes`` inclusive (Europe/Paris)."""

    opens: WindowInstant | None = None
    closes: WindowInstant | None = None
    to_confirm: bool = False
    note: str | None = None
    sources: list[str] = Field(default_factory=list)
    confidence: Confidence | None = None

    @model_validator(mode="after")
    def _unknown_needs_flag(self) -> Window:
        if (self.opens is None or self.closes is None) and not self.to_confirm:
            raise ValueError("borne de guichet inconnue : indiquez to_confirm: true")
        if self.opens is not None and self.closes is not None:
            if upper_instant_exclusive(self.closes) <= lower_instant(self.opens):
                raise ValueError("le guichet ferme avant d'ouvrir")
        return self


class Windows(Model):
    candidacy: Window | None = None
    declaration: Window | None = None
    ars_instruction: Window | None = None
    ans_instruction: Window | None = None
    payment: Window | None = None


LegalStatus = Literal["public", "private_nonprofit", "private_forprofit", "medico_social"]


class Eligibility(Model):
    candidate_kinds: list[CandidateKind] = Field(default_factory=list)
    #: Legal statuses admitted (checked when the candidate's is known; a GHT has none).
    legal_statuses: list[LegalStatus] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    finess_categories: list[Annotated[str, BeforeValidator(str)]] = Field(default_factory=list)
    exclusions: list[str] = Field(default_factory=list)
    catch_up: bool | None = None
    notes: list[str] = Field(default_factory=list)
    to_confirm: bool = False
    sources: list[str] = Field(default_factory=list)


class Ceiling(Model):
    basis: str
    description: str = ""
    to_confirm: bool = False
    sources: list[str] = Field(default_factory=list)


class Modulation(Model):
    """How funding follows partial attainment (a documented default until a text says more)."""

    mode: Literal["proportional", "all_or_nothing"] = "proportional"
    weights: dict[ItemId, float] = Field(default_factory=dict)
    prerequisites_gate: bool = True
    description: str = ""
    to_confirm: bool = True
    sources: list[str] = Field(default_factory=list)


class Funding(Model):
    envelope_eur: int | None = None
    ceiling: Ceiling | None = None
    modulation: Modulation = Field(default_factory=Modulation)
    to_confirm: bool = False
    sources: list[str] = Field(default_factory=list)


class DomainVersion(Model):
    """One version of one domain: its frame (windows, events, eligibility, funding) and items."""

    domain: DomainCode
    version: Annotated[str, BeforeValidator(str)]
    status: Literal["published", "draft"]
    title: str
    description: str = ""
    id_prefix: str | None = None
    sources: list[str] = Field(default_factory=list)
    confidence: Confidence | None = None
    windows: Windows = Field(default_factory=Windows)
    events: dict[str, Event] = Field(default_factory=dict)
    evidence_kinds: dict[str, EvidenceKind] = Field(default_factory=dict)
    facts: dict[str, FactDefinition] = Field(default_factory=dict)
    roles: dict[str, str] = Field(default_factory=dict)
    perimeters: dict[str, str] = Field(default_factory=dict)
    attributes: dict[
        str, Annotated[AttributeDefinition, BeforeValidator(_attribute_definition)]
    ] = Field(default_factory=dict)
    # Domain-specific check and scoring rules read by the domain's app (D3: remote_access).
    scoring: dict[str, Any] = Field(default_factory=dict)
    eligibility: Eligibility = Field(default_factory=Eligibility)
    funding: Funding = Field(default_factory=Funding)
    items: list[Item] = Field(default_factory=list)

    @model_validator(mode="after")
    def _version_format(self) -> DomainVersion:
        if not _VERSION_RE.match(self.version):
            raise ValueError(f"version invalide : « {self.version} » (forme attendue : 1, 1.2…)")
        return self

    @property
    def prefix(self) -> str:
        return self.id_prefix or self.domain

    @property
    def version_key(self) -> tuple[int, ...]:
        return version_key(self.version)

    def item(self, item_id: str) -> Item:
        """The item with this ID (any spelling); KeyError if the domain has none."""
        wanted = normalize_item_id(item_id)
        for item in self.items:
            if item.id == wanted:
                return item
        raise KeyError(wanted)

    def has_item(self, item_id: str) -> bool:
        try:
            self.item(item_id)
        except (KeyError, ValueError):
            return False
        return True

    def children(self, item_id: str) -> list[Item]:
        wanted = normalize_item_id(item_id)
        return [item for item in self.items if item.parent == wanted]

    def ancestors(self, item_id: str) -> list[str]:
        """IDs of the parents of an item, nearest first."""
        result: list[str] = []
        current = self.item(item_id).parent
        while current is not None and current not in result and self.has_item(current):
            result.append(current)
            current = self.item(current).parent
        return result


def version_key(version: str) -> tuple[int, ...]:
    """Sort key of a version string ("1" < "1.1" < "2")."""
    return tuple(int(part) for part in version.split(".")) if _VERSION_RE.match(version) else ()


# --- programme -------------------------------------------------------------------------------


class SourceReference(Model):
    title: str
    url: str | None = None
    confidence: Confidence | None = None


class ProgrammeEvent(Model):
    id: str
    date: CalendarDate | None = None
    label: str
    domain: DomainCode | None = None
    sources: list[str] = Field(default_factory=list)
    confidence: Confidence | None = None
    to_confirm: bool = False
    note: str | None = None


class ProgrammeInfo(Model):
    name: str
    title: str
    description: str = ""


class Programme(Model):
    """The programme frame: its name, the citable sources and the dated calendar."""

    programme: ProgrammeInfo
    sources: dict[str, SourceReference] = Field(default_factory=dict)
    events: list[ProgrammeEvent] = Field(default_factory=list)
