"""Server-side SVG charts: freshness against RPO per system, restore durations over time."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

WIDTH = 640


def _fr(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


COLOURS = {"ok": "#18753c", "failed": "#ce0500", "error": "#716043", "warning": "#b34000"}


def freshness_chart(systems, now) -> SafeString:
    """One horizontal bar per system: age of its newest backup as a share of its RPO.

    The bar is capped at 200 % of the RPO; the dashed line marks the RPO itself. The figures
    also appear as text, so the chart is readable without colours.
    """
    from careops.backups.objectives import objectives_of

    rows = [(s, objectives_of(s).rpo_hours) for s in systems if s.last_backup_at]
    rows = [(s, rpo) for s, rpo in rows if rpo]
    if not rows:
        return mark_safe("")  # noqa: S308 - constant
    bar_h, gap, left, right = 22, 10, 200, 150
    height = len(rows) * (bar_h + gap) + 30
    scale = (WIDTH - left - right) / 2.0  # 2.0 = 200 % of the RPO
    rpo_x = left + scale
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'aria-labelledby="fresh-title fresh-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="fresh-title">{escape(_("Âge de la dernière sauvegarde rapporté à la PDMA"))}</title>',
        f'<desc id="fresh-desc">{escape(_("Une barre par système ; le trait vertical marque la PDMA (100 %)."))}</desc>',
    ]
    for i, (system, rpo_hours) in enumerate(rows):
        age_h = (now - system.last_backup_at).total_seconds() / 3600
        ratio = age_h / rpo_hours
        y = 10 + i * (bar_h + gap)
        colour = COLOURS["ok"] if ratio <= 1 else COLOURS["failed"]
        width = max(2.0, min(ratio, 2.0) * scale)
        label = f"{age_h:.1f} h / {rpo_hours:g} h ({ratio:.0%})".replace(".", ",", 1)
        parts += [
            f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" font-size="13">'
            f"{escape(system.name[:28])}</text>",
            f'<rect x="{left}" y="{y}" width="{width:.1f}" height="{bar_h}" fill="{colour}"/>',
            f'<text x="{left + width + 6:.1f}" y="{y + 15}" font-size="12">{escape(label)}</text>',
        ]
    parts += [
        f'<line x1="{rpo_x:.1f}" x2="{rpo_x:.1f}" y1="4" y2="{height - 20}" stroke="#161616" '
        'stroke-dasharray="4 3"/>',
        f'<text x="{rpo_x:.1f}" y="{height - 6}" text-anchor="middle" font-size="12">'
        f"{escape(_('PDMA'))}</text>",
        "</svg>",
    ]
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped or numeric


def restore_chart(runs) -> SafeString:
    """Restore durations (seconds) of successive restore tests, as vertical bars."""
    rows = [r for r in runs if r.restore_seconds is not None][-20:]
    if not rows:
        return mark_safe("")  # noqa: S308 - constant
    height, bottom, left = 180, 40, 60
    peak = max(r.restore_seconds for r in rows) or 1.0
    step = (WIDTH - left - 10) / len(rows)
    plot = height - bottom - 10
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'aria-labelledby="rst-title" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="rst-title">{escape(_("Durée des tests de restauration (secondes)"))}</title>',
        f'<line x1="{left}" x2="{WIDTH - 10}" y1="{height - bottom}" y2="{height - bottom}" stroke="#161616"/>',
        f'<text x="{left - 6}" y="16" text-anchor="end" font-size="11">{_fr(peak)} s</text>',
    ]
    for i, run in enumerate(rows):
        h = max(1.0, run.restore_seconds / peak * plot)
        bar = min(step * 0.7, 48.0)
        x = left + i * step + (step - bar) / 2
        colour = COLOURS.get(run.outcome, COLOURS["error"])
        parts += [
            f'<rect x="{x:.1f}" y="{height - bottom - h:.1f}" width="{bar:.1f}" '
            f'height="{h:.1f}" fill="{colour}"><title>{escape(run.protected_system or "")} — '
            f"{_fr(run.restore_seconds)} s</title></rect>",
            f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 14}" text-anchor="middle" '
            f'font-size="10">{run.created_at:%d/%m}</text>',
        ]
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped or numeric
