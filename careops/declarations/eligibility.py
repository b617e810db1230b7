"""Eligibility of a candidate to a domain, read from the referential's ``eligibility`` block.

Every check that fails gives a French reason; a candidate is eligible when none fails.
Rules (see docs/declarations.md): candidate kind; a public EJ party to a GHT applies through
its GHT; with ``finess_categories``, a GHT must be named in ``categories`` ("Groupement
hospitalier de territoire des Îles du Nord") and another candidate must have structures of
those categories only (a mixed structure is excluded); ``catch_up: false`` is explained.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from careops.catalogue.engine.schema import DomainVersion
from careops.tenancy.choices import OrgKind

KIND_LABELS = {
    "ght": "un GHT",
    "ej": "une entité juridique (EJ)",
    "esms": "une structure médico-sociale",
}
_NAMED_GHT = re.compile(
    r"^groupement hospitalier de territoire\s+(?:des |du |de la |de l'|d')?(?P<name>.+)$"
)


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


def check(domain: DomainVersion, candidate, structures: list) -> EligibilityResult:
    """Check ``candidate`` (an Organisation) against ``domain``'s eligibility.

    ``structures`` are the candidate's FINESS structures below it (EJ, EG, ESMS), whose FINESS
    categories count for a domain that names categories.
    """
    rules = domain.eligibility
    result = EligibilityResult(eligible=True)
    kinds = rules.candidate_kinds
    if kinds and candidate.kind not in kinds:
        allowed = ", ".join(KIND_LABELS.get(k, k) for k in kinds)
        result.reasons.append(
            f"{candidate.name} n'est pas un type de candidat admis au domaine {domain.domain} "
            f"(candidats admis : {allowed})."
        )
    elif kinds:
        result.checks.append(f"type de candidat admis ({candidate.get_kind_display()})")
    parent = getattr(candidate, "parent", None)
    if (
        candidate.kind == OrgKind.EJ
        and parent is not None
        and parent.kind == OrgKind.GHT
        and "ght" in kinds
    ):
        result.reasons.append(
            f"{candidate.name} est partie au {parent.name} : c'est le GHT qui candidate, en un "
            "seul dossier, pour tous ses établissements."
        )
    if candidate.category in ("regulator",):
        result.reasons.append(f"{candidate.name} est un régulateur, pas un candidat.")
    wanted = {str(c) for c in rules.finess_categories}
    if wanted:
        listed = ", ".join(sorted(wanted))
        if candidate.kind == OrgKind.GHT:
            names = named_ghts(rules.categories)
            if names and any(name in _plain(candidate.name) for name in names):
                result.checks.append(f"GHT désigné par le référentiel ({candidate.name})")
            else:
                designated = "; ".join(rules.categories) or "aucun"
                result.reasons.append(
                    f"{candidate.name} n'est pas un GHT désigné pour le domaine "
                    f"{domain.domain} (éligibles : {designated})."
                )
        else:
            found = {s.finess_category for s in [candidate, *structures] if s.finess_category}
            if not found & wanted:
                seen = ", ".join(sorted(found)) or "aucune renseignée"
                result.reasons.append(
                    f"aucune structure de {candidate.name} n'est de catégorie FINESS {listed} "
                    f"(catégories trouvées : {seen})."
                )
            elif found - wanted:
                others = ", ".join(sorted(found - wanted))
                exclusion = next(
                    (text for text in rules.exclusions if "mixte" in text.lower()),
                    "structures mixtes exclues",
                )
                result.reasons.append(
                    f"{candidate.name} est une structure mixte (catégories {listed} et "
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
