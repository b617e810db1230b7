"""NIS 2 classification (essential, important, out of scope) from sector, size and finances,
as data (``nis2.yaml``), with the reason in French."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from careops.maturity.engine.questionnaire import SAFE_LOADER

DATA = Path(__file__).with_name("nis2.yaml")


@cache
def data() -> dict:
    return yaml.load(DATA.read_text(encoding="utf-8"), Loader=SAFE_LOADER)  # noqa: S506 (safe)


@dataclass(frozen=True)
class Classification:
    category: str  # essentielle, importante, hors_champ
    label: str
    size: str
    reason: str
    to_confirm: str = ""


def _euros(value: float) -> str:
    """« 10 M€ », « 12,5 M€ »; a figure just over a threshold is written whole (« 50 000 001 € »)
    so that the reason never reads « 50 M€ > 50 M€ »."""
    if value % 100_000 == 0:
        return f"{value / 1_000_000:g} M€".replace(".", ",")
    return f"{value:,.0f} €".replace(",", "\u202f")


def classify(
    sector: str, employees: int, turnover: float = 0, balance: float = 0
) -> Classification:
    """The NIS 2 class of an entity of ``sector`` with ``employees`` people, ``turnover`` and
    ``balance`` (euros). Raises ValueError (French) for an unknown sector or a negative figure."""
    document = data()
    if sector not in document["sectors"]:
        raise ValueError(
            f"secteur inconnu « {sector} » (connus : {', '.join(document['sectors'])})"
        )
    if employees < 0 or turnover < 0 or balance < 0:
        raise ValueError("effectif, chiffre d'affaires et bilan doivent être positifs")
    spec = document["sectors"][sector]
    size = next(
        s
        for s in document["sizes"]
        if employees >= s["employees"] or (turnover > s["turnover"] and balance > s["balance"])
    )
    if employees >= size["employees"] and size["employees"]:
        why_size = f"{employees} salariés ≥ {size['employees']}"
    elif size["turnover"]:
        why_size = f"chiffre d'affaires {_euros(turnover)} > {_euros(size['turnover'])} et bilan {_euros(balance)} > {_euros(size['balance'])}"
    else:
        medium = document["sizes"][-2]
        why_size = (
            f"{employees} salariés < {medium['employees']}, chiffre d'affaires {_euros(turnover)} "
            f"et bilan {_euros(balance)} : pas tous deux au-dessus de {_euros(medium['turnover'])} "
            f"et {_euros(medium['balance'])}"
        )
    annex = spec.get("annex")
    category = next(
        (
            c["class"]
            for c in document["classes"]
            if c["annex"] == annex and c["size"] == size["id"]
        ),
        "hors_champ",
    )
    where = f"annexe {annex}" if annex else "hors des annexes"
    reason = f"{spec['label']} ({where}), {size['label']} ({why_size}) : {document['labels'][category]} — {spec['source']}"
    return Classification(
        category, document["labels"][category], size["id"], reason, spec.get("to_confirm", "")
    )
