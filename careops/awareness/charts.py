"""Geometry of the phishing evolution chart: one line per rate (click, submission, report) over
campaigns, drawn by ``awareness/_chart_rates.html`` with its data table (core/charts.py style)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

WIDTH = 640
SERIES = (
    ("clicked", "#ce0500", "0"),
    ("submitted", "#6e0000", "6 3"),
    ("reported", "#18753c", "2 3"),
)


def rates_over_campaigns(campaigns) -> dict[str, Any]:
    """``campaigns``: oldest first, each with ``rate(name)`` (0–1 or None) and a label."""
    labels = {
        "clicked": _("clic"),
        "submitted": _("saisie de données"),
        "reported": _("signalement"),
    }
    height, base = 150, 165
    items = list(campaigns)
    step = (WIDTH - 80) / max(len(items) - 1, 1)
    points = [
        {
            "label": c.started_on.strftime("%m/%Y") if c.started_on else c.name[:12],
            "name": c.name,
            "x": round(50 + i * step, 1),
            "values": {key: c.rate(key) for key, _c, _d in SERIES},
        }
        for i, c in enumerate(items)
    ]
    series = []
    for key, colour, dash in SERIES:
        drawn = [
            (p["x"], round(base - height * p["values"][key], 1), p["values"][key], p["name"])
            for p in points
            if p["values"][key] is not None
        ]
        series.append(
            {
                "key": key,
                "label": labels[key],
                "colour": colour,
                "dash": dash,
                "path": " ".join(f"{x},{y}" for x, y, _v, _n in drawn),
                "dots": [
                    {"x": x, "y": y, "text": f"{n} : {labels[key]} {round(v * 100)} %"}
                    for x, y, v, n in drawn
                ],
            }
        )
    ticks = [
        {"value": f"{v} %", "y": round(base - height * v / 100, 1)} for v in (0, 25, 50, 75, 100)
    ]
    rows = [
        {
            "label": p["name"],
            "values": [
                "—" if p["values"][k] is None else f"{p['values'][k] * 100:.1f} %".replace(".", ",")
                for k, _c, _d in SERIES
            ],
        }
        for p in points
    ]
    return {
        "width": WIDTH,
        "height": base + 24,
        "points": points,
        "series": series,
        "ticks": ticks,
        "rows": rows,
        "headers": [labels[k] for k, _c, _d in SERIES],
    }
