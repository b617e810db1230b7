"""The amount owed: the candidate's ceiling times the share the domain's modulation gives.

The official formula is unpublished; the default (documented in docs/declarations.md and in
the referential's ``funding.modulation``) is shown step by step and marked « à confirmer ».
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import Any

from careops.catalogue.engine.dates import fmt_eur, fmt_pct
from careops.catalogue.engine.funding import funding_share
from careops.catalogue.engine.schema import DomainVersion


def _eur(value: Decimal) -> str:
    return fmt_eur(value)


def compute(
    domain: DomainVersion, met: dict[str, bool | None], ceiling: Decimal | None
) -> dict[str, Any]:
    """Compute the share and amount from per-item attainment (None = not applicable).

    ``met`` maps each prerequisite and objective ID to True (met), False (not met) or None (not
    applicable). The share is the engine's (``careops.catalogue.engine.funding``: an item
    ``mandatory_for_funding`` not met, or a prerequisite not met, gives 0); returns the figures
    and the French explanation of every step, and ``blocked_by``: why nothing is due.
    """
    computed = funding_share(domain, met)
    share = computed.share
    steps = list(computed.steps)
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
    if computed.to_confirm:
        steps.append(
            "formule par défaut, à confirmer : la règle officielle de modulation n'est pas publiée."
        )
    return {
        "share": round(float(share), 4),
        "ceiling_eur": str(ceiling) if ceiling is not None else None,
        "amount_eur": str(amount) if amount is not None else None,
        "rule": computed.rule,
        "rows": computed.rows,
        "steps": steps,
        "blocked_by": computed.blocked_by,
        "to_confirm": computed.to_confirm,
        "description": domain.funding.modulation.description,
    }
