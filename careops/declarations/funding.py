"""The amount owed: the candidate's ceiling times the share the domain's modulation gives.

The official formula is unpublished; the default (documented in docs/declarations.md and in
the referential's ``funding.modulation``) is shown step by step and marked « à confirmer ».
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from fractions import Fraction
from typing import Any

from careops.catalogue.engine.dates import fmt_eur, fmt_pct
from careops.catalogue.engine.schema import DomainVersion


def _eur(value: Decimal) -> str:
    return fmt_eur(value)


def compute(
    domain: DomainVersion, met: dict[str, bool | None], ceiling: Decimal | None
) -> dict[str, Any]:
    """Compute the share and amount from per-item attainment (None = not applicable).

    ``met`` maps each prerequisite and objective ID to True (met), False (not met) or None (not
    applicable). Returns the figures and the French explanation of every step.
    """
    modulation = domain.funding.modulation
    to_confirm = (
        modulation.to_confirm
        or domain.funding.to_confirm
        or (domain.funding.ceiling is not None and domain.funding.ceiling.to_confirm)
    )
    kinds = {item.id: item.kind for item in domain.items}
    prerequisites = [
        i for i, ok in met.items() if kinds.get(i) == "prerequisite" and ok is not None
    ]
    objectives = [i for i, ok in met.items() if kinds.get(i) == "objective" and ok is not None]
    steps: list[str] = []
    rows = []
    if modulation.prerequisites_gate and any(not met[i] for i in prerequisites):
        missing = ", ".join(sorted(i for i in prerequisites if not met[i]))
        share = Fraction(0)
        steps.append(
            f"prérequis non atteints ({missing}) : rien n'est dû (règle « prérequis d'abord »)."
        )
    elif not objectives:
        share = Fraction(1) if prerequisites and all(met[i] for i in prerequisites) else Fraction(0)
        steps.append("aucun objectif applicable : part fixée par les prérequis.")
    elif modulation.mode == "all_or_nothing":
        share = Fraction(1) if all(met[i] for i in objectives) else Fraction(0)
        steps.append(
            "règle « tout ou rien » : le financement n'est dû que si tous les objectifs sont atteints."
        )
    else:
        weights = {i: Fraction(str(modulation.weights.get(i, 1.0))) for i in objectives}
        total = sum(weights.values(), Fraction(0))
        earned = sum((weights[i] for i in objectives if met[i]), Fraction(0))
        share = earned / total if total else Fraction(0)
        for i in sorted(objectives):
            rows.append({"id": i, "weight": float(weights[i]), "met": bool(met[i])})
        steps.append(
            f"règle proportionnelle : poids des objectifs atteints {float(earned):g} / poids total "
            f"{float(total):g} = {fmt_pct(float(share))}."
        )
    amount = None
    if ceiling is not None:
        amount = (
            Decimal(ceiling) * Decimal(share.numerator) / Decimal(share.denominator)
        ).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
        steps.append(
            f"montant dû = plafond {_eur(Decimal(ceiling))} × {fmt_pct(float(share))} = {_eur(amount)}."
        )
    else:
        steps.append("plafond non encore fixé : montant non calculable.")
    if to_confirm:
        steps.append(
            "formule par défaut, à confirmer : la règle officielle de modulation n'est pas publiée."
        )
    return {
        "share": round(float(share), 4),
        "ceiling_eur": str(ceiling) if ceiling is not None else None,
        "amount_eur": str(amount) if amount is not None else None,
        "rule": modulation.mode + (" après prérequis" if modulation.prerequisites_gate else ""),
        "rows": rows,
        "steps": steps,
        "to_confirm": bool(to_confirm),
        "description": modulation.description,
    }
