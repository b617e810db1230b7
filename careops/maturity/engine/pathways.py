"""AAP MS pathways as data (versioned YAML) : which pathway a self-assessment proposes, and where a
structure stands on its milestones.

The pathways file lists three pathways, each with an entry condition on the maturity level of a
validated self-assessment (``min_level``–``max_level``, the ranges cover 1–5 without overlap),
the AAP MS themes it works on, and dated milestones (``due_months`` after the ARS confirmed the
pathway) made of deliverables. A deliverable careops can observe names a ``fact`` (a restore
test of the year, a validated BIA…); the others are declared done by the structure.

A shipped version never changes: ``load`` refuses a shipped version whose content differs from
the one released (``SHIPPED``), as the referential loader does for domains.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from careops.maturity.engine.questionnaire import FACT_WORDS, SAFE_LOADER

PATHWAY_DIR = Path(__file__).parents[2] / "catalogue" / "referential" / "pathways"
LEVELS = range(1, 6)

# SHA-256 of each released version: a released file is never edited (publish a new version).
SHIPPED = {
    "aapms-parcours-v0.yaml": "96018ea8978b27f43f69c49a27d82cd8808f151f0c058846ee26cc5fc0c6e350",
    "aapms-parcours-v1.yaml": "286f50baf8303234833114404f8d47894c30f5dafd760158b47e2e519f1d33bd",
}

# What careops can observe for a structure (computed by the web app from its own data).
FACTS = {
    "pooled": "membre d'une mutualisation dont la convention est en vigueur",
    # the facts the questionnaires' pre-fill shares: worded once (their « true » form)
    "backup_verified": FACT_WORDS["backup_verified"][0],
    "bia_validated": FACT_WORDS["bia_validated"][0],
    "exposure_minimum_met": FACT_WORDS["exposure_minimum_met"][0],
    "ad_level_3": "dernier audit de l'Active Directory au niveau 3 ou plus",
    "nis2_assessed": "auto-évaluation NIS 2 (article 21) validée",
    "reassessed": "auto-évaluation validée après la confirmation du parcours",
    "exercised": "exercice de crise au RETEX validé ou exercice d'hameçonnage dans l'année",
}


class PathwayError(ValueError):
    """A pathways file or a request that cannot be used (message in French)."""


@dataclass(frozen=True)
class Deliverable:
    id: str
    title: str
    theme: str
    fact: str = ""


@dataclass(frozen=True)
class Milestone:
    id: str
    title: str
    due_months: int
    deliverables: tuple[Deliverable, ...]


@dataclass(frozen=True)
class Pathway:
    id: str
    title: str
    summary: str
    min_level: int
    max_level: int
    themes: tuple[str, ...]
    milestones: tuple[Milestone, ...]

    def deliverables(self) -> list[Deliverable]:
        return [d for m in self.milestones for d in m.deliverables]


@dataclass
class Catalogue:
    id: str
    version: str
    title: str
    to_confirm: str
    questionnaires: tuple[str, ...]
    themes: dict[str, tuple[str, str]]  # id → (title, AAP MS item)
    pathways: list[Pathway]
    sources: list[str] = field(default_factory=list)

    def pathway(self, ident: str) -> Pathway:
        found = next((p for p in self.pathways if p.id == ident), None)
        if found is None:
            known = ", ".join(p.id for p in self.pathways)
            raise PathwayError(f"parcours « {ident} » inconnu (connus : {known})")
        return found


def parse(document: dict, where: str = "parcours") -> Catalogue:
    """Build and check the pathways from their YAML document."""
    try:
        pathways = [
            Pathway(
                id=str(p["id"]),
                title=str(p["title"]),
                summary=str(p.get("summary", "")),
                min_level=int(p["entry"]["min_level"]),
                max_level=int(p["entry"]["max_level"]),
                themes=tuple(str(t) for t in p["themes"]),
                milestones=tuple(
                    Milestone(
                        str(m["id"]),
                        str(m["title"]),
                        int(m["due_months"]),
                        tuple(
                            Deliverable(
                                str(d["id"]),
                                str(d["title"]),
                                str(d["theme"]),
                                str(d.get("fact", "")),
                            )
                            for d in m["deliverables"]
                        ),
                    )
                    for m in p["milestones"]
                ),
            )
            for p in document["pathways"]
        ]
        catalogue = Catalogue(
            id=str(document["id"]),
            version=str(document["version"]),
            title=str(document["title"]),
            to_confirm=str(document.get("to_confirm", "")),
            questionnaires=tuple(str(q) for q in document["assessment"]["questionnaires"]),
            themes={str(t["id"]): (str(t["title"]), str(t["item"])) for t in document["themes"]},
            pathways=pathways,
            sources=[str(s) for s in document.get("sources", [])],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PathwayError(
            f"{where} : structure invalide ({exc.__class__.__name__} : {exc})"
        ) from exc
    _check(catalogue, where)
    return catalogue


def _check(c: Catalogue, where: str) -> None:
    covered: dict[int, str] = {}
    ids: list[str] = []
    for p in c.pathways:
        if p.min_level > p.max_level or p.min_level not in LEVELS or p.max_level not in LEVELS:
            raise PathwayError(f"{where} : {p.id} : niveaux d'entrée invalides")
        for level in range(p.min_level, p.max_level + 1):
            if level in covered:
                raise PathwayError(
                    f"{where} : le niveau {level} ouvre deux parcours ({covered[level]}, {p.id})"
                )
            covered[level] = p.id
        unknown = [t for t in p.themes if t not in c.themes]
        if unknown:
            raise PathwayError(f"{where} : {p.id} : thème(s) inconnu(s) {', '.join(unknown)}")
        ids.append(p.id)
        for m in p.milestones:
            ids.append(m.id)
            if m.due_months < 0:
                raise PathwayError(f"{where} : {m.id} : échéance négative")
            for d in m.deliverables:
                ids.append(d.id)
                if d.fact and d.fact not in FACTS:
                    raise PathwayError(f"{where} : {d.id} : fait inconnu « {d.fact} »")
                if d.theme not in c.themes:
                    raise PathwayError(f"{where} : {d.id} : thème inconnu « {d.theme} »")
    missing = [str(level) for level in LEVELS if level not in covered]
    if missing:
        raise PathwayError(f"{where} : aucun parcours pour le(s) niveau(x) {', '.join(missing)}")
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise PathwayError(f"{where} : identifiants en double : {', '.join(duplicates)}")


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(x) for x in path.stem.rsplit("-v", 1)[1].split("."))


def load(version: str | None = None, path: Path | None = None) -> Catalogue:
    """The shipped pathways (newest version, or ``version``), or the file at ``path``."""
    if path is None:
        candidates = sorted(PATHWAY_DIR.glob("aapms-parcours-v*.yaml"), key=_version_key)
        if version is not None:
            candidates = [p for p in candidates if p.stem.rsplit("-v", 1)[1] == version]
        if not candidates:
            raise PathwayError(f"parcours : version « {version} » introuvable")
        path = candidates[-1]
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise PathwayError(f"{Path(path).name} : fichier illisible ({exc.strerror})") from exc
    expected = SHIPPED.get(Path(path).name) if Path(path).parent == PATHWAY_DIR else None
    if expected and hashlib.sha256(raw).hexdigest() != expected:
        raise PathwayError(
            f"{Path(path).name} : version déjà publiée modifiée ; publiez une nouvelle version"
        )
    try:
        document = yaml.load(raw.decode("utf-8"), Loader=SAFE_LOADER)  # noqa: S506 (safe loader)
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PathwayError(f"{Path(path).name} : YAML invalide ({exc})") from exc
    return parse(document, Path(path).name)


@dataclass(frozen=True)
class Proposal:
    pathway: str
    title: str
    level: int
    reason: str


def propose(
    catalogue: Catalogue, questionnaire: str, level: int | None, label: str = ""
) -> Proposal:
    """The pathway whose entry range holds ``level`` (the validated self-assessment's level),
    with the reason in French, naming the self-assessment by ``label`` (its title) when given
    rather than by the questionnaire's identifier. Raises PathwayError when the assessment
    cannot propose one."""
    if questionnaire not in catalogue.questionnaires:
        raise PathwayError(
            f"le questionnaire « {questionnaire} » ne propose pas de parcours "
            f"(retenus : {', '.join(catalogue.questionnaires)})"
        )
    if level is None or level not in LEVELS:
        raise PathwayError(f"niveau de maturité « {level} » hors de 1 à 5 : pas de parcours")
    for p in catalogue.pathways:
        if p.min_level <= level <= p.max_level:
            span = (
                f"niveau {p.min_level}"
                if p.min_level == p.max_level
                else f"niveaux {p.min_level} à {p.max_level}"
            )
            return Proposal(
                p.id,
                p.title,
                level,
                f"auto-évaluation « {label or questionnaire} » au niveau {level} : {p.title} "
                f"({span}, à confirmer)",
            )
    raise PathwayError(f"aucun parcours pour le niveau {level}")  # excluded by _check


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months (the last day of the month when it is shorter)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass
class DeliverableState:
    id: str
    title: str
    theme: str
    done: bool
    observed: bool  # done because careops observed its fact
    fact: str


@dataclass
class MilestoneState:
    id: str
    title: str
    due: str  # ISO date
    status: str  # done, overdue, open
    done: int
    total: int
    deliverables: list[DeliverableState]


@dataclass
class Progress:
    pathway: str
    done: int
    total: int
    ratio: float
    overdue: list[str]
    milestones: list[MilestoneState]

    def as_json(self) -> dict:
        return asdict(self)


def progress(
    pathway: Pathway, start: dt.date, today: dt.date, declared: set[str], facts: dict[str, bool]
) -> Progress:
    """Where a structure stands: a deliverable is done when declared done or when careops
    observes its fact; a milestone is overdue when its due date (``start`` + ``due_months``)
    has passed with a deliverable still open."""
    milestones, done_total, total, overdue = [], 0, 0, []
    for m in pathway.milestones:
        states = []
        for d in m.deliverables:
            observed = bool(d.fact and facts.get(d.fact))
            states.append(
                DeliverableState(
                    d.id, d.title, d.theme, observed or d.id in declared, observed, d.fact
                )
            )
        done = sum(s.done for s in states)
        due = add_months(start, m.due_months)
        status = "done" if done == len(states) else ("overdue" if today > due else "open")
        if status == "overdue":
            overdue.append(m.id)
        milestones.append(
            MilestoneState(m.id, m.title, due.isoformat(), status, done, len(states), states)
        )
        done_total += done
        total += len(states)
    return Progress(
        pathway.id, done_total, total, done_total / total if total else 1.0, overdue, milestones
    )
