"""Regional and national figures of the workflow, in a fixed number of queries.

Everything goes through ``scope.restrict``: an ARS instructor sees their region, the ANS and
programme administrators the whole country. Seven queries at most (the user's grants included), whatever the
number of establishments (tests pin it).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.db.models.fields.json import KeyTextTransform

from careops.catalogue.engine.funding import mandatory_text
from careops.catalogue.models import Item as CatalogueItem
from careops.compliance.models import Evidence
from careops.declarations.choices import State, Verdict
from careops.declarations.models import Candidacy, DeclaredItem
from careops.declarations.services import VERDICT_FIELDS
from careops.tenancy import scope
from careops.tenancy.choices import REGIONS, Category, OrgKind
from careops.tenancy.models import Organisation

DECLARED_STATES = {State.DECLARED, State.ARS_INSTRUCTED, State.DECIDED, State.PAID}
VALIDATED_STATES = DECLARED_STATES | {State.CANDIDACY_VALIDATED}
CANDIDATE_CATEGORIES = [
    Category.GHT,
    Category.PUBLIC,
    Category.PRIVATE_NONPROFIT,
    Category.PRIVATE_FORPROFIT,
    Category.MEDICO_SOCIAL,
]
REGION_NAMES = dict(REGIONS)


def is_national(user) -> bool:
    """Whether the user's grants cover a root of the tree (the ANS)."""
    return any(g.path.count("/") == 2 and g.include_subtree for g in scope.grants(user))


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def potential_candidates(user):
    """Organisations that may apply: GHTs, EJs outside a GHT, ESMS, in the user's scope."""
    return scope.restrict(
        Organisation.objects.filter(
            Q(kind=OrgKind.GHT)
            | Q(kind=OrgKind.ESMS)
            | (Q(kind=OrgKind.EJ) & ~Q(parent__kind=OrgKind.GHT))
        ),
        user,
        "view",
    )


def build(user, domain: str | None = None) -> dict[str, Any]:
    """Every figure of the dashboard for ``domain`` (default: the first domain with candidacies)."""
    visible = scope.restrict(Candidacy.objects.all(), user, "view").order_by()
    # One grouped query over every visible candidacy gives the domains, the states, the
    # categories, the regions and the money; the rest is summed here.
    grouped = list(
        visible.values("domain", "category", "region_code", "state").annotate(
            n=Count("id"),
            ceiling=Sum("ceiling_eur"),
            owed=Sum("amount_eur"),
            **{field: Sum(field) for field in VERDICT_FIELDS.values()},
        )
    )
    domains = sorted({row["domain"] for row in grouped})
    if domain not in domains:
        domain = domains[0] if domains else None
    grouped = [row for row in grouped if row["domain"] == domain]

    states: dict[str, int] = {}
    per_category: dict[str, dict[str, int]] = {}
    per_region: dict[str, dict[str, int]] = {}
    money = {"ceiling": Decimal("0"), "owed": Decimal("0"), "paid": Decimal("0")}
    verdicts: dict[str, dict[str, int]] = {"ars": {}, "ans": {}}
    for row in grouped:
        for (level, verdict), field in VERDICT_FIELDS.items():
            if row[field]:
                verdicts[level][verdict] = verdicts[level].get(verdict, 0) + row[field]
        states[row["state"]] = states.get(row["state"], 0) + row["n"]
        money["ceiling"] += row["ceiling"] or 0
        money["owed"] += row["owed"] or 0
        if row["state"] == State.PAID:
            money["paid"] += row["owed"] or 0
        for key, bucket in ((row["category"], per_category), (row["region_code"], per_region)):
            counts = bucket.setdefault(
                key or "", {"applied": 0, "validated": 0, "declared": 0, "decided": 0}
            )
            counts["applied"] += row["n"]
            if row["state"] in VALIDATED_STATES:
                counts["validated"] += row["n"]
            if row["state"] in DECLARED_STATES:
                counts["declared"] += row["n"]
            if row["state"] in (State.DECIDED, State.PAID):
                counts["decided"] += row["n"]
    total = sum(states.values())
    declared = sum(n for s, n in states.items() if s in DECLARED_STATES)

    potential: dict[str, int] = {}
    potential_regions: dict[str, int] = {}
    for row in (
        potential_candidates(user)
        .order_by()
        .values("category", "region_code")
        .annotate(n=Count("id"))
    ):
        potential[row["category"]] = potential.get(row["category"], 0) + row["n"]
        potential_regions[row["region_code"]] = (
            potential_regions.get(row["region_code"], 0) + row["n"]
        )

    categories = []
    for code in CANDIDATE_CATEGORIES:
        counts = per_category.get(code, {"applied": 0, "validated": 0, "declared": 0, "decided": 0})
        if not counts["applied"] and not potential.get(code):
            continue
        categories.append(
            {
                "code": code,
                "label": str(Category(code).label),
                "potential": potential.get(code, 0),
                **counts,
                "share_applied": _ratio(counts["applied"], potential.get(code, 0)),
                "share_declared": _ratio(counts["declared"], counts["validated"]),
            }
        )
    regions = [
        {
            "code": code,
            "name": REGION_NAMES.get(code, code or "—"),
            "potential": potential_regions.get(code, 0),
            **counts,
            "share_applied": _ratio(counts["applied"], potential_regions.get(code, 0)),
        }
        for code, counts in sorted(
            per_region.items(), key=lambda kv: REGION_NAMES.get(kv[0], kv[0])
        )
    ]

    objectives: dict[str, dict[str, int]] = {}
    for row in (
        scope.restrict(DeclaredItem.objects.filter(domain=domain), user, "view")
        .exclude(kind="group")
        .values("item_code", "status")
        .annotate(n=Count("id"))
        .order_by()
    ):
        entry = objectives.setdefault(row["item_code"], {"met": 0, "applicable": 0, "total": 0})
        entry["total"] += row["n"]
        if row["status"] != "not_applicable":
            entry["applicable"] += row["n"]
        if row["status"] == "met":
            entry["met"] += row["n"]
    attainment = [
        {"id": code, **entry, "share": _ratio(entry["met"], entry["applicable"])}
        for code, entry in sorted(objectives.items())
    ]
    funding_gates = _funding_gates(domain, objectives) if domain else []

    open_complements = verdicts["ars"].get(Verdict.COMPLEMENT, 0) + verdicts["ans"].get(
        Verdict.COMPLEMENT, 0
    )

    exposure_audits = scope.restrict(
        Evidence.objects.filter(kind="exposure_audit"), user, "view"
    ).count()
    ad_levels = sorted(
        (str(row["level"]) if row["level"] is not None else "?", row["n"])
        for row in scope.restrict(Evidence.objects.filter(kind="ads_audit"), user, "view")
        .annotate(level=KeyTextTransform("level", "revisions__attributes"))
        .values("level")
        .annotate(n=Count("revisions"))
        .order_by()
    )

    return {
        "scope": "national" if is_national(user) else "regional",
        "domain": domain,
        "domains": domains,
        "totals": {
            "candidacies": total,
            "validated": sum(n for s, n in states.items() if s in VALIDATED_STATES),
            "declared": declared,
            "rejected": states.get(State.CANDIDACY_REJECTED, 0),
            "potential": sum(potential.values()),
            "share_applied": _ratio(total, sum(potential.values())),
            "share_declared": _ratio(
                declared, sum(n for s, n in states.items() if s in VALIDATED_STATES)
            ),
        },
        "states": [
            {"code": s.value, "label": str(s.label), "n": states.get(s.value, 0)} for s in State
        ],
        "categories": categories,
        "regions": regions,
        "attainment": attainment,
        "verdicts": verdicts,
        "open_complements": open_complements,
        "funding": {k: str(Decimal(v).quantize(Decimal("0.01"))) for k, v in money.items()},
        "funding_gates": funding_gates,
        "exposure_audits": exposure_audits,
        "ad_levels": [{"level": level, "n": n} for level, n in ad_levels],
    }


def _funding_gates(domain: str, objectives: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    """The domain's items without which nothing is due (``mandatory_for_funding``, D1: the ADS
    audit), with the declarations where they are not met and the reason (one query)."""
    gates: dict[str, dict[str, Any]] = {}
    for code, title, data in (
        CatalogueItem.objects.filter(version__domain=domain, data__mandatory_for_funding=True)
        .order_by("code", "-version__id")
        .values_list("code", "title", "data")
    ):
        if code in gates:
            continue
        entry = objectives.get(code, {"met": 0, "applicable": 0, "total": 0})
        gates[code] = {
            "id": code,
            "declared": entry["total"],
            "not_met": entry["applicable"] - entry["met"],
            "reason": mandatory_text(domain, code, title, data.get("sources") or []),
        }
    return list(gates.values())


def bars(rows: list[tuple[str, float]], unit: str = "") -> dict[str, Any]:
    """Geometry of a horizontal bar chart (server-side SVG, 640 px wide): one bar per row."""
    import textwrap

    top = max((value for _, value in rows), default=0) or 1
    line, gap = 16, 10
    result = []
    y = 4
    for label, value in rows:
        width = round(340 * value / top, 1)
        # labels are wrapped over several lines, never cut
        lines = textwrap.wrap(str(label), 28) or [""]
        block = max(20, line * len(lines))
        result.append(
            {
                "label": label,
                "lines": [
                    {"text": text, "dy": 0 if i == 0 else line} for i, text in enumerate(lines)
                ],
                "value": value,
                "text": f"{value:g}{unit}".replace(".", ","),
                "width": width,
                "tx": 224 + width,
                "y": y,
                "ty": y + 15,
            }
        )
        y += block + gap
    return {"height": y + 4, "rows": result}
