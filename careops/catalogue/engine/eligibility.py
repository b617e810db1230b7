"""Eligibility of a candidate to a domain, read from the referential's ``eligibility`` block.

Pure (no Django): the web app (``careops.declarations.eligibility``, from its organisation tree)
and ``careops evaluate`` (from a dossier) describe the candidate as an :class:`Applicant` and get
the same answer. Every check that fails gives a French reason; a candidate is eligible when none
fails. Rules (docs/referential.md, « Eligibility »):

- ``candidate_kinds``: the kind of candidate (GHT, EJ, ESMS);
- an EJ party to a GHT applies through its GHT when the domain admits GHTs;
- ``legal_statuses``: the candidate's legal status (public, private non-profit…), when known;
- ``finess_categories``: a GHT must be named in ``categories`` ("Groupement hospitalier de
  territoire des Îles du Nord"); another candidate must have structures of those categories
  only (a mixed structure is excluded, citing the referential's exclusion);
- ``catch_up: false`` is recalled in a refusal; ``to_confirm`` adds a note.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from .schema import DomainVersion

KIND_LABELS = {
    "ght": "un GHT",
    "ej": "une entité juridique (EJ)",
    "esms": "une structure médico-sociale",
}
KIND_NAMES = {
    "ght": "groupement hospitalier de territoire",
    "ej": "entité juridique",
    "eg": "établissement (EG)",
    "esms": "structure médico-sociale",
}
#: Legal statuses a candidate may declare (the app's organisation categories).
LEGAL_STATUSES = {
    "public": "public",
    "private_nonprofit": "privé à but non lucratif",
    "private_forprofit": "privé à but lucratif",
    "medico_social": "médico-social",
}
_NAMED_GHT = re.compile(
    r"^groupement hospitalier de territoire\s+(?:des |du |de la |de l'|d')?(?P<name>.+)$"
)


@dataclass(frozen=True)
class Applicant:
    """Who applies, as eligibility needs it."""

    name: str
    kind: str  # ght | ej | esms (or another organisation kind, refused)
    legal_status: str | None = None  # a LEGAL_STATUSES key, "ght", "regulator", or unknown
    finess_category: str | None = None
    ght: str | None = None  # name of the GHT the candidate is party to, if any


@dataclass
class EligibilityResult:
    eligible: bool
    reasons: list[str] = field(default_factory=list)  # why not (empty when eligible)
    checks: list[str] = field(default_factory=list)  # what was checked and passed
    notes: list[str] = field(default_factory=list)  # to-confirm warnings

    def as_list(self) -> list[dict[str, str]]:
        return (
            [{"result": "refus", "text": r} for r in self.reasons]
            + [{"result": "ok", "text": c} for c in self.checks]
            + [{"result": "note", "text": n} for n in self.notes]
        )

    def to_json(self) -> dict:
        return {
            "eligible": self.eligible,
            "reasons": list(self.reasons),
            "checks": list(self.checks),
            "notes": list(self.notes),
        }


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower().strip()


def named_ghts(categories: list[str]) -> list[str]:
    """GHT names that a category text designates ("…des Îles du Nord" → "iles du nord")."""
    names = []
    for text in categories:
        match = _NAMED_GHT.match(_plain(text))
        if match:
            names.append(match.group("name").strip(" ."))
    return names


def check(
    domain: DomainVersion, applicant: Applicant, structure_categories: Iterable[str | None]
) -> EligibilityResult:
    """Check ``applicant`` against ``domain``'s eligibility; ``structure_categories`` are the
    FINESS categories of the candidate's structures (EJ, EG, ESMS below it)."""
    rules = domain.eligibility
    result = EligibilityResult(eligible=True)
    kinds = rules.candidate_kinds
    if kinds and applicant.kind not in kinds:
        allowed = ", ".join(KIND_LABELS.get(k, k) for k in kinds)
        result.reasons.append(
            f"{applicant.name} n'est pas un type de candidat admis au domaine {domain.domain} "
            f"(candidats admis : {allowed})."
        )
    elif kinds:
        shown = KIND_NAMES.get(applicant.kind, applicant.kind)
        result.checks.append(f"type de candidat admis ({shown})")
    if applicant.kind == "ej" and applicant.ght and "ght" in kinds:
        result.reasons.append(
            f"{applicant.name} est partie au {applicant.ght} : c'est le GHT qui candidate, en un "
            "seul dossier, pour tous ses établissements."
        )
    if applicant.legal_status == "regulator":
        result.reasons.append(f"{applicant.name} est un régulateur, pas un candidat.")
    elif rules.legal_statuses and applicant.kind != "ght":
        allowed = ", ".join(LEGAL_STATUSES.get(s, s) for s in rules.legal_statuses)
        if not applicant.legal_status:
            result.notes.append(f"statut juridique non renseigné : non vérifié (admis : {allowed})")
        elif applicant.legal_status not in rules.legal_statuses:
            shown = LEGAL_STATUSES.get(applicant.legal_status, applicant.legal_status)
            result.reasons.append(
                f"{applicant.name} a un statut juridique non admis au domaine {domain.domain} "
                f"({shown} ; admis : {allowed})."
            )
        else:
            shown = LEGAL_STATUSES.get(applicant.legal_status, applicant.legal_status)
            result.checks.append(f"statut juridique admis ({shown})")
    wanted = {str(c) for c in rules.finess_categories}
    if wanted:
        listed = ", ".join(sorted(wanted))
        if applicant.kind == "ght":
            names = named_ghts(rules.categories)
            if names and any(name in _plain(applicant.name) for name in names):
                result.checks.append(f"GHT désigné par le référentiel ({applicant.name})")
            else:
                designated = "; ".join(rules.categories) or "aucun"
                result.reasons.append(
                    f"{applicant.name} n'est pas un GHT désigné pour le domaine "
                    f"{domain.domain} (éligibles : {designated})."
                )
        else:
            found = {c for c in [applicant.finess_category, *structure_categories] if c}
            if not found & wanted:
                seen = ", ".join(sorted(found)) or "aucune renseignée"
                result.reasons.append(
                    f"aucune structure de {applicant.name} n'est de catégorie FINESS {listed} "
                    f"(catégories trouvées : {seen})."
                )
            elif found - wanted:
                others = ", ".join(sorted(found - wanted))
                exclusion = next(
                    (text for text in rules.exclusions if "mixte" in text.lower()),
                    "structures mixtes exclues",
                )
                result.reasons.append(
                    f"{applicant.name} est une structure mixte (catégories {listed} et "
                    f"{others}) : exclue — {exclusion}."
                )
            else:
                result.checks.append(f"structures de catégorie FINESS {listed}")
    if result.reasons and rules.catch_up is False:
        note = rules.notes[0] if rules.notes else "pas de rattrapage."
        result.reasons.append(f"Pas de rattrapage : {note}")
    if rules.to_confirm:
        result.notes.append("liste d'éligibilité à confirmer par les textes officiels")
    result.eligible = not result.reasons
    return result
