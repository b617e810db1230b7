"""The candidate's dossier: who applies, its establishments, its dates, facts and evidence.

A dossier is read from YAML or JSON by the CLI, or built from Python objects by the web app.
``check_dossier`` compares it with a domain version before any evaluation, so that an unknown
objective, evidence kind or fact stops everything with a French message.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PrivateAttr, ValidationError, model_validator

from careops.tenancy import finess as finess_number

from .dates import fmt_date
from .schema import CalendarDate, CandidateKind, DomainVersion, ItemId, LegalStatus, Model
from .source import Problem, SourceDoc, problems_from_validation, read_file


def _finess(value: Any) -> Any:
    """The app's validator (prefix, nine characters, check key), so that a dossier and the
    web app accept and refuse the same numbers."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"{value:09d}"
    if isinstance(value, str):
        try:
            return finess_number.validate(value)
        except finess_number.FinessError as exc:
            raise ValueError(str(exc)) from None
    return value


Finess = Annotated[str, BeforeValidator(_finess)]
FinessCategory = Annotated[str, BeforeValidator(lambda value: str(value).strip())]


class DossierError(Exception):
    """The dossier cannot be evaluated; ``problems`` says why, in French, with lines if known."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


class Candidate(Model):
    name: str
    finess: Finess | None = None
    kind: CandidateKind
    #: Legal status, checked against the domain's ``eligibility.legal_statuses``.
    legal_status: LegalStatus | None = None
    #: FINESS category of the candidate itself (D1 bis: 146).
    finess_category: FinessCategory | None = None
    #: Name of the GHT the candidate is party to (an EJ of a GHT applies through its GHT).
    ght: str | None = None


class Entity(Model):
    """An establishment of the candidate (FINESS EJ or EG) with its share of combined activity."""

    finess: Finess
    name: str = ""
    level: Literal["EJ", "EG"]
    weight: float = Field(ge=0)
    unit: str = "activité combinée"
    parent: Finess | None = None
    #: FINESS category of the establishment (eligibility: D1 bis' 146, mixed structures).
    finess_category: FinessCategory | None = None

    @property
    def display(self) -> str:
        return self.name or self.finess


class Evidence(Model):
    """A dated piece of evidence: a document, an audit result, an exercise, a measurement…"""

    id: str | None = None
    kind: str
    title: str = ""
    date: CalendarDate
    expires: CalendarDate | None = None
    entities: list[Finess] = Field(default_factory=list)
    validated_by: str | None = None
    objectives: list[ItemId] = Field(default_factory=list)
    attributes: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _single_objective(cls, value: Any) -> Any:
        if isinstance(value, dict) and "objective" in value:
            value = dict(value)
            single = value.pop("objective")
            value["objectives"] = [*value.get("objectives", []), single]
        return value

    @property
    def display(self) -> str:
        return self.id or self.title or f"{self.kind} du {fmt_date(self.date)}"


FactValue = bool | int | float | str


class Dossier(Model):
    """Everything the evaluator needs, with no database: the candidate, dates, facts, evidence.

    ``filing_date`` is the declaration's filing date; without it, the dossier is evaluated as of
    ``as_of`` (and ``filing_date`` bounds resolve to that date).
    """

    domain: Annotated[str, BeforeValidator(lambda value: "".join(str(value).split()).upper())]
    version: Annotated[str | None, BeforeValidator(lambda v: None if v is None else str(v))] = None
    candidate: Candidate
    entities: list[Entity] = Field(default_factory=list)
    candidacy_date: CalendarDate | None = None
    filing_date: CalendarDate | None = None
    as_of: CalendarDate | None = None
    facts: dict[str, FactValue] = Field(default_factory=dict)
    evidence: list[Evidence] = Field(default_factory=list)

    _source: SourceDoc | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _reference_date(self) -> Dossier:
        if self.filing_date is None and self.as_of is None:
            raise ValueError("indiquez filing_date (date de dépôt) ou as_of (date d'évaluation)")
        return self

    @property
    def reference_date(self) -> date:
        """The date the dossier is judged at: the filing date, else ``as_of``."""
        result = self.filing_date or self.as_of
        assert result is not None
        return result

    def problem(self, path: tuple[str | int, ...], message: str) -> Problem:
        if self._source is not None:
            return self._source.problem(path, message)
        return Problem("<dossier>", None, message)


def parse_dossier(data: Any, file: str = "<dossier>") -> Dossier:
    """Build a Dossier from plain data (dicts and lists); DossierError in French if invalid."""
    doc = SourceDoc(file=file, data=data)
    return _validate(doc)


def load_dossier(path: str | Path) -> Dossier:
    """Read a dossier from a YAML or JSON file; DossierError with file:line if invalid."""
    doc = read_file(path)
    if doc.problems:
        raise DossierError(doc.problems)
    return _validate(doc)


def _validate(doc: SourceDoc) -> Dossier:
    if not isinstance(doc.data, dict):
        raise DossierError([Problem(doc.file, 1, "le dossier doit être un objet (clé: valeur)")])
    try:
        dossier = Dossier.model_validate(doc.data)
    except ValidationError as exc:
        raise DossierError(problems_from_validation(exc, doc)) from None
    dossier._source = doc
    return dossier


def check_dossier(domain: DomainVersion, dossier: Dossier) -> list[Problem]:
    """Every mismatch between a dossier and a domain version (empty when it can be evaluated)."""
    problems: list[Problem] = []
    if dossier.domain != domain.domain:
        problems.append(
            dossier.problem(
                ("domain",),
                f"le dossier concerne le domaine {dossier.domain}, pas {domain.domain}",
            )
        )
    if dossier.version is not None and dossier.version.lower().removeprefix("v") != domain.version:
        problems.append(
            dossier.problem(
                ("version",),
                f"le dossier demande la version {dossier.version}, le référentiel fourni est la "
                f"version {domain.version}",
            )
        )
    finess_seen: set[str] = set()
    for index, entity in enumerate(dossier.entities):
        if entity.finess in finess_seen:
            problems.append(
                dossier.problem(
                    ("entities", index, "finess"), f"FINESS en double : {entity.finess}"
                )
            )
        finess_seen.add(entity.finess)
    known_entities = finess_seen | ({dossier.candidate.finess} - {None})
    for name, value in dossier.facts.items():
        definition = domain.facts.get(name)
        if definition is None:
            known = ", ".join(sorted(domain.facts)) or "aucun"
            problems.append(
                dossier.problem(
                    ("facts", name),
                    f"fait inconnu pour {domain.domain} : « {name} » (connus : {known})",
                )
            )
        elif definition.type == "bool" and not isinstance(value, bool):
            problems.append(
                dossier.problem(("facts", name), f"le fait « {name} » attend true ou false")
            )
    for index, evidence in enumerate(dossier.evidence):
        label = evidence.id or f"n° {index + 1}"
        if evidence.kind not in domain.evidence_kinds:
            known = ", ".join(sorted(domain.evidence_kinds))
            problems.append(
                dossier.problem(
                    ("evidence", index, "kind"),
                    f"preuve {label} : type de preuve inconnu pour {domain.domain} "
                    f"« {evidence.kind} » (types admis : {known})",
                )
            )
        for position, item_id in enumerate(evidence.objectives):
            if not domain.has_item(item_id):
                key = "objectives" if "objectives" in _raw(dossier, index) else "objective"
                problems.append(
                    dossier.problem(
                        ("evidence", index, key, position),
                        f"preuve {label} : élément inconnu dans {domain.domain} "
                        f"version {domain.version} : « {item_id} »",
                    )
                )
        for position, finess in enumerate(evidence.entities):
            if finess not in known_entities:
                problems.append(
                    dossier.problem(
                        ("evidence", index, "entities", position),
                        f"preuve {label} : établissement non déclaré dans entities : {finess}",
                    )
                )
        if evidence.expires is not None and evidence.expires < evidence.date:
            problems.append(
                dossier.problem(
                    ("evidence", index, "expires"),
                    f"preuve {label} : expire le {fmt_date(evidence.expires)}, avant sa date",
                )
            )
    return problems


def _raw(dossier: Dossier, index: int) -> dict[str, Any]:
    source = dossier._source
    if source is None or not isinstance(source.data, dict):
        return {}
    evidence = source.data.get("evidence")
    if isinstance(evidence, list) and index < len(evidence) and isinstance(evidence[index], dict):
        return evidence[index]
    return {}
