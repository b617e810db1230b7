"""Server-side SVG radar of a self-assessment's themes (and the previous campaign's, dashed)."""

from __future__ import annotations

import math

from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _


def radar(themes: list[dict], previous: dict[str, float] | None = None) -> str:
    """``themes``: [{"id", "title", "score"}] (score 0–1 or None); ``previous``: id → score."""
    if len(themes) < 3:
        return ""
    size, centre, radius = 460, 230, 150
    margin = 110  # room left and right for the theme names, written whole on up to 3 lines
    count = len(themes)

    def point(index: int, value: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * index / count
        return centre + radius * value * math.cos(angle), centre + radius * value * math.sin(angle)

    def shown(score):
        return "—" if score is None else f"{score * 100:.0f} %"

    description = "; ".join(f"{t['title']} : {shown(t['score'])}" for t in themes)
    parts = [
        f'<svg class="chart chart--radar" role="img" '
        f'viewBox="{-margin} 0 {size + 2 * margin} {size}" '
        'aria-labelledby="radar-title radar-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="radar-title">{escape(_("Maturité par thème"))}</title>',
        f'<desc id="radar-desc">{escape(description)}</desc>',
    ]
    for ring in (0.25, 0.5, 0.75, 1.0):
        ring_points = " ".join(
            f"{x:.1f},{y:.1f}" for x, y in (point(i, ring) for i in range(count))
        )
        parts.append(f'<polygon points="{ring_points}" fill="none" stroke="#ddd"/>')
    for index, theme in enumerate(themes):
        x, y = point(index, 1.0)
        parts.append(f'<line x1="{centre}" y1="{centre}" x2="{x:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        lx, ly = point(index, 1.22)
        anchor = "middle" if abs(lx - centre) < 20 else ("start" if lx > centre else "end")
        lines = _wrap(theme["title"])
        ly -= 6.5 * (len(lines) - 1) if ly < centre else 0  # upper labels grow upwards
        spans = "".join(
            f'<tspan x="{lx:.1f}" dy="{0 if n == 0 else 13}">{escape(line)}</tspan>'
            for n, line in enumerate(lines)
        )
        parts.append(
            f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}" font-size="11">{spans}</text>'
        )
    if previous:
        old = " ".join(
            f"{x:.1f},{y:.1f}"
            for x, y in (point(i, previous.get(t["id"]) or 0) for i, t in enumerate(themes))
        )
        parts.append(f'<polygon points="{old}" fill="none" stroke="#666" stroke-dasharray="5 4"/>')
    now = " ".join(
        f"{x:.1f},{y:.1f}" for x, y in (point(i, t["score"] or 0) for i, t in enumerate(themes))
    )
    parts.append(
        f'<polygon points="{now}" fill="rgba(0,0,145,.15)" stroke="#000091" stroke-width="2"/>'
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def _wrap(title: str, width: int = 24) -> list[str]:
    """A theme's name on lines of about ``width`` characters, cut between words only (a long
    name was cut mid-word: « Réseau et exposition sur int »)."""
    lines: list[str] = []
    for word in title.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]
