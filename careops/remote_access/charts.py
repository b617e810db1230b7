"""Server-rendered views of the reviews: heatmap rows (path × check) and the score trend SVG."""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from careops.remote_access.choices import CHECK_STATUS_LABELS
from careops.remote_access.engine.rules import CODES

SYMBOLS = {"pass": "✓", "fail": "✗", "unknown": "?", "na": "–"}
BADGES = {"pass": "met", "fail": "not_met", "unknown": "missing_evidence", "na": "not_applicable"}


def heatmap(result: dict) -> list[dict]:
    """One row per path: its cells in A1…A14 order (status, symbol, label, reason)."""
    rows = []
    for path in result.get("paths", []):
        by_code = {c["code"]: c for c in path["checks"]}
        cells = []
        for code in CODES:
            check = by_code.get(
                code, {"status": "na", "reason": "", "blocking": False, "source": ""}
            )
            cells.append(
                {
                    "code": code,
                    "status": check["status"],
                    "symbol": SYMBOLS[check["status"]],
                    "badge": BADGES[check["status"]],
                    "label": str(CHECK_STATUS_LABELS[check["status"]]),
                    "reason": check["reason"],
                    "blocking": check.get("blocking", False),
                    "source": check.get("source", ""),
                }
            )
        rows.append({**path, "cells": cells})
    return rows


def trend_svg(reviews) -> str:
    """Scores of successive reviews as a small line chart (with a text alternative)."""
    points = [(r.created_at, r.score) for r in reviews if r.score is not None]
    if len(points) < 2:
        return ""
    width, height, pad = 480, 140, 28
    step = (width - 2 * pad) / (len(points) - 1)
    coords = [
        (pad + i * step, height - pad - (score / 100) * (height - 2 * pad))
        for i, (_, score) in enumerate(points)
    ]
    path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(coords))
    description = ", ".join(f"{when:%d/%m/%Y} : {score}" for when, score in points)
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="4" fill="#000091"/><text x="{}" y="{}" text-anchor="middle" font-size="12" fill="#161616">{}</text>',
        (
            (f"{x:.1f}", f"{y:.1f}", f"{x:.1f}", f"{y - 8:.1f}", score)
            for (x, y), (_, score) in zip(coords, points, strict=True)
        ),
    )
    return format_html(
        '<svg role="img" aria-labelledby="trend-title" viewBox="0 0 {} {}" class="trend" width="{}" height="{}">'
        '<title id="trend-title">{}</title>'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#666"/>'
        '<path d="{}" stroke="#000091" stroke-width="2" fill="none"/>{}</svg>',
        width,
        height,
        width,
        height,
        _("Évolution de la note des accès distants : %(points)s") % {"points": description},
        pad,
        height - pad,
        width - pad,
        height - pad,
        path,
        dots,
    )
