"""The funding share a domain's rules give for per-item attainment (pure, no Django).

One computation for ``careops evaluate`` (``Progress.funding_share``), the declaration's
funding (``careops.declarations.funding``) and the dashboards, in this order:

1. the candidate is not eligible → 0;
2. an item marked ``mandatory_for_funding`` is applicable and not met → 0 (D1: the ADS audit);
3. ``prerequisites_gate`` and a prerequisite not met → 0;
4. the modulation mode: ``proportional`` (weighted share of met objectives) or
   ``all_or_nothing``.

Every step that decides is written out in French.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from .dates import fmt_pct
from .schema import DomainVersion


@dataclass
class FundingShare:
    share: Fraction
    rule: str
    steps: list[str] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)  # proportional: id, weight, met
    #: Why nothing is due (ineligible, a mandatory item not met, a prerequisite not met).
    blocked_by: list[str] = field(default_factory=list)
    to_confirm: bool = True


def mandatory_reason(domain: DomainVersion, item_id: str) -> str:
    """« D1.O1.A « Audit ADS… » non atteint : obligatoire pour percevoir tout financement du
    domaine D1 (source S14, S22) »."""
    item = domain.item(item_id)
    return mandatory_text(domain.domain, item.id, item.title, item.sources)


def mandatory_text(domain_code: str, item_id: str, title: str, sources: list[str]) -> str:
    """The reason a mandatory item not met gives, from plain data (the dashboards)."""
    cited = f" (source {', '.join(sources)})" if sources else ""
    return (
        f"{item_id} « {title} » non atteint : obligatoire pour percevoir tout financement "
        f"du domaine {domain_code}{cited}"
    )


def funding_share(
    domain: DomainVersion, met: dict[str, bool | None], eligible: bool | None = None
) -> FundingShare:
    """Share of the ceiling due from ``met`` (item ID → True met, False not met, None not
    applicable; groups are ignored) and, if known, the candidate's eligibility."""
    modulation = domain.funding.modulation
    rule = modulation.mode + (" après prérequis" if modulation.prerequisites_gate else "")
    result = FundingShare(
        share=Fraction(0),
        rule=rule,
        to_confirm=bool(
            modulation.to_confirm
            or domain.funding.to_confirm
            or (domain.funding.ceiling is not None and domain.funding.ceiling.to_confirm)
        ),
    )
    kinds = {item.id: item.kind for item in domain.items}
    prerequisites = [
        i for i, ok in met.items() if kinds.get(i) == "prerequisite" and ok is not None
    ]
    objectives = [i for i, ok in met.items() if kinds.get(i) == "objective" and ok is not None]
    mandatory = [
        item.id
        for item in domain.items
        if item.mandatory_for_funding and item.kind != "group" and met.get(item.id) is False
    ]
    if eligible is False:
        result.blocked_by.append("candidat non éligible au domaine")
        result.steps.append("candidat non éligible au domaine : rien n'est dû.")
    elif mandatory:
        for item_id in mandatory:
            reason = mandatory_reason(domain, item_id)
            result.blocked_by.append(reason)
            result.steps.append(f"{reason} : rien n'est dû.")
    elif modulation.prerequisites_gate and any(not met[i] for i in prerequisites):
        missing = ", ".join(sorted(i for i in prerequisites if not met[i]))
        result.blocked_by.append(f"prérequis non atteints ({missing})")
        result.steps.append(
            f"prérequis non atteints ({missing}) : rien n'est dû (règle « prérequis d'abord »)."
        )
    elif not objectives:
        ok = bool(prerequisites) and all(met[i] for i in prerequisites)
        result.share = Fraction(1) if ok else Fraction(0)
        result.steps.append("aucun objectif applicable : part fixée par les prérequis.")
    elif modulation.mode == "all_or_nothing":
        result.share = Fraction(1) if all(met[i] for i in objectives) else Fraction(0)
        result.steps.append(
            "règle « tout ou rien » : le financement n'est dû que si tous les objectifs sont atteints."
        )
    else:
        weights = {i: Fraction(str(modulation.weights.get(i, 1.0))) for i in objectives}
        total = sum(weights.values(), Fraction(0))
        earned = sum((weights[i] for i in objectives if met[i]), Fraction(0))
        result.share = earned / total if total else Fraction(0)
        result.rows = [
            {"id": i, "weight": float(weights[i]), "met": bool(met[i])} for i in sorted(objectives)
        ]
        result.steps.append(
            f"règle proportionnelle : poids des objectifs atteints {float(earned):g} / poids total "
            f"{float(total):g} = {fmt_pct(float(result.share))}."
        )
    return result
