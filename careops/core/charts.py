"""Geometry of the server-rendered SVG charts (no script, no CDN): the templates
``includes/chart_*.html`` draw what these functions compute.

Every chart also carries its data as an accessible table, so a screen reader (and a user who
prefers figures) reads the same numbers.
"""

from __future__ import annotations

from typing import Any

WIDTH = 640
LABEL_WIDTH = 150

STATUS_COLOURS = {
    "met": "#18753c",
    "partial": "#b34000",
    "not_met": "#ce0500",
    "missing_evidence": "#0063cb",
    "not_applicable": "#929292",
}
SEVERITY_COLOURS = {
    "critical": "#6e0000",
    "high": "#ce0500",
    "medium": "#b34000",
    "low": "#0063cb",
    "info": "#929292",
}


def stacked_bars(
    rows: list[tuple[str, dict[str, int]]], keys: list[tuple[str, str]], colours: dict[str, str]
) -> dict[str, Any]:
    """Horizontal 100 % stacked bars, one per row (label, {key: count})."""
    span = WIDTH - LABEL_WIDTH - 10
    bars = []
    for i, (label, counts) in enumerate(rows):
        total = sum(counts.values()) or 1
        x = float(LABEL_WIDTH)
        parts = []
        for key, key_label in keys:
            n = counts.get(key, 0)
            if not n:
                continue
            width = round(span * n / total, 1)
            parts.append(
                {
                    "x": round(x, 1),
                    "width": width,
                    "colour": colours[key],
                    "label": key_label,
                    "n": n,
                }
            )
            x += width
        bars.append({"label": label, "y": 4 + i * 28, "ty": 19 + i * 28, "parts": parts})
    return {
        "height": 8 + 28 * len(rows),
        "bars": bars,
        "legend": [(label, colours[key]) for key, label in keys],
        "width": WIDTH,
    }


def stacked_columns(
    periods: list[str], series: dict[str, dict[str, int]], keys: list[tuple[str, str]], colours
) -> dict[str, Any]:
    """Vertical stacked columns: one column per period, one segment per key."""
    height, base = 180, 190
    top = max((sum(series.get(p, {}).values()) for p in periods), default=0) or 1
    step = (WIDTH - 40) / max(len(periods), 1)
    columns = []
    for i, period in enumerate(periods):
        counts = series.get(period, {})
        y = float(base)
        parts = []
        for key, key_label in keys:
            n = counts.get(key, 0)
            if not n:
                continue
            h = round(height * n / top, 1)
            y -= h
            parts.append(
                {"y": round(y, 1), "h": h, "colour": colours[key], "label": key_label, "n": n}
            )
        x = 30 + i * step
        columns.append(
            {
                "label": period,
                "x": round(x + step * 0.15, 1),
                "w": round(step * 0.7, 1),
                "tx": round(x + step / 2, 1),
                "total": sum(counts.values()),
                "parts": parts,
            }
        )
    return {
        "height": base + 24,
        "base": base,
        "top": top,
        "columns": columns,
        "legend": [(label, colours[key]) for key, label in keys],
        "width": WIDTH,
    }


def line(points: list[tuple[str, float | None]], lowest: float = 0, highest: float = 5) -> dict:
    """A line over periods (label, value), the y axis from ``lowest`` to ``highest``."""
    height, base = 150, 165
    step = (WIDTH - 60) / max(len(points) - 1, 1)
    drawn = []
    for i, (label, value) in enumerate(points):
        x = round(40 + i * step, 1)
        y = (
            None
            if value is None
            else round(base - height * (value - lowest) / (highest - lowest), 1)
        )
        drawn.append({"label": label, "value": value, "x": x, "y": y})
    path = " ".join(f"{p['x']},{p['y']}" for p in drawn if p["y"] is not None)
    ticks = [
        {"value": v, "y": round(base - height * (v - lowest) / (highest - lowest), 1)}
        for v in range(int(lowest), int(highest) + 1)
    ]
    return {
        "height": base + 24,
        "base": base,
        "points": drawn,
        "path": path,
        "ticks": ticks,
        "width": WIDTH,
    }
