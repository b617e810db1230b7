"""Server-side SVG of an indicator over time, against its target."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _


def _pct(value: float) -> str:
    return f"{value * 100:.0f} %"


def ratio_chart(title: str, points: list[tuple[str, float]], target: float | None, key: str) -> str:
    """A line of ``points`` (label, ratio 0–1), oldest first, with the target as a dashed line."""
    if not points:
        return ""
    width, height, left, bottom, top = 560, 200, 44, 36, 14
    plot_w, plot_h = width - left - 12, height - bottom - top
    step = plot_w / len(points)

    def y_of(ratio: float) -> float:
        return top + plot_h * (1 - max(0.0, min(1.0, ratio)))

    description = "; ".join(f"{label} : {_pct(ratio)}" for label, ratio in points)
    if target is not None:
        description += "; " + _("cible %(t)s") % {"t": _pct(target)}
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="{key}-title {key}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{key}-title">{escape(title)}</title>',
        f'<desc id="{key}-desc">{escape(description)}</desc>',
    ]
    for tick in (0, 0.5, 1):
        y = y_of(tick)
        parts.append(
            f'<line x1="{left}" x2="{width - 12}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{_pct(tick)}</text>'
        )
    if target is not None:
        y = y_of(target)
        parts.append(
            f'<line x1="{left}" x2="{width - 12}" y1="{y:.1f}" y2="{y:.1f}" stroke="#b34000" '
            'stroke-dasharray="6 4" stroke-width="1.5"/>'
        )
    coordinates = []
    for index, (label, ratio) in enumerate(points):
        x = left + step * (index + 0.5)
        coordinates.append(f"{x:.1f},{y_of(ratio):.1f}")
        parts.append(f'<circle cx="{x:.1f}" cy="{y_of(ratio):.1f}" r="4" fill="#000091"/>')
        parts.append(
            f'<text x="{x:.1f}" y="{height - 18}" text-anchor="middle" font-size="11">'
            f"{escape(label)}</text>"
        )
    parts.append(
        f'<polyline points="{" ".join(coordinates)}" fill="none" stroke="#000091" stroke-width="2"/>'
    )
    parts.append(
        f'<text x="{left}" y="{height - 3}" font-size="11">'
        + escape(_("ligne : valeur mesurée ; pointillés : cible"))
        + "</text></svg>"
    )
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
