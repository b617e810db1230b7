"""The check and scoring rules, read from the D3 referential file (``scoring`` section)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REFERENTIAL = Path(__file__).resolve().parents[2] / "catalogue" / "referential"
DEFAULT_FILE = REFERENTIAL / "d3-v0.1.yaml"
CODES = [f"A{n}" for n in range(1, 15)]


class RulesError(ValueError):
    """Rules that cannot be used (French message)."""


@dataclass
class CheckRule:
    code: str
    title: str
    weight: int
    blocking: bool | str
    refs: list[str] = field(default_factory=list)
    populations: list[str] = field(default_factory=list)  # empty: every population

    def applies(self, population: str) -> bool:
        return not self.populations or population in self.populations


@dataclass
class Rules:
    version: str
    checks: dict[str, CheckRule]
    blocking_cap: int
    priority_weights: dict[str, float]
    bands: list[dict[str, Any]]
    items_by_population: dict[str, str]
    review_max_days: int
    unused_account_days: int
    log_retention_min_days: int
    unknown_counts_as_failed: bool = True

    def band(self, score: int | None) -> str:
        if score is None:
            return ""
        for band in self.bands:
            if score >= band["min"]:
                return band["id"]
        return self.bands[-1]["id"]

    def band_label(self, band_id: str) -> str:
        return next((b["label"] for b in self.bands if b["id"] == band_id), "")


def from_data(data: dict[str, Any]) -> Rules:
    try:
        checks = {
            code: CheckRule(
                code,
                str(raw["title"]),
                int(raw["weight"]),
                raw.get("blocking", False),
                list(raw.get("refs", [])),
                list(raw.get("populations", [])),
            )
            for code, raw in data["checks"].items()
        }
        missing = [c for c in CODES if c not in checks]
        if missing:
            raise RulesError("règles de notation incomplètes : " + ", ".join(missing))
        return Rules(
            version=str(data.get("version", "")),
            checks=checks,
            blocking_cap=int(data.get("blocking_cap", 40)),
            priority_weights={str(k): float(v) for k, v in data["priority_weights"].items()},
            bands=sorted(data["bands"], key=lambda b: -b["min"]),
            items_by_population=dict(data.get("items_by_population", {})),
            review_max_days=int(data.get("review_max_days", 183)),
            unused_account_days=int(data.get("unused_account_days", 90)),
            log_retention_min_days=int(data.get("log_retention_min_days", 180)),
            unknown_counts_as_failed=bool(data.get("unknown_counts_as_failed", True)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, RulesError):
            raise
        raise RulesError(f"règles de notation invalides : {exc}") from exc


def load(path: str | Path | None = None) -> Rules:
    """The ``scoring`` section of a D3 referential file (default: the shipped one)."""
    source = Path(path) if path else DEFAULT_FILE
    try:
        document = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesError(f"règles illisibles : {exc.strerror or exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("scoring"), dict):
        raise RulesError(f"{source.name} : pas de section « scoring »")
    return from_data(document["scoring"])
