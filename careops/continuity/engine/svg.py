"""Server-side SVG drawings: the dependency graph (layered) and the recovery timeline (Gantt).
Each drawing carries a title and a description for assistive technologies."""

from __future__ import annotations

from html import escape

from careops.continuity.engine.compute import Analysis
from careops.continuity.engine.model import HOUR, Bia, format_duration

WAVE_COLOURS = ["#000091", "#1f8d49", "#b34000", "#6a6af4", "#a558a0", "#3a3a3a"]
NODE_W, NODE_H, GAP_X, GAP_Y = 190, 40, 70, 16


def _layers(bia: Bia) -> dict[str, int]:
    """Activities on layer 0, each resource one layer right of its deepest user (bounded on
    cycles)."""
    level = {a.code: 0 for a in bia.activities}
    codes = {r.code for r in bia.resources}
    for r in bia.resources:
        level.setdefault(r.code, 1)
    for _ in range(len(codes) + 1):
        changed = False
        for d in bia.dependencies:
            if d.source in level and d.target in codes and level[d.target] < level[d.source] + 1:
                if level[d.source] + 1 <= len(codes) + 1:
                    level[d.target] = level[d.source] + 1
                    changed = True
        if not changed:
            break
    return level


def _clip(text: str, size: int = 26) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def dependency_graph(bia: Bia, analysis: Analysis) -> str:
    """Activities on the left, the resources they need to the right; hard dependencies in solid
    lines, soft ones dashed; trust-core resources outlined thicker."""
    level = _layers(bia)
    columns: dict[int, list[str]] = {}
    names = {a.code: a.name for a in bia.activities} | {r.code: r.name for r in bia.resources}
    priority = {a.code: a.priority for a in analysis.activities}
    core = {r.code for r in bia.resources if r.trust_core}
    for code in [a.code for a in bia.activities] + [r.code for r in bia.resources]:
        columns.setdefault(level[code], []).append(code)
    pos = {}
    for col, codes in sorted(columns.items()):
        for row, code in enumerate(codes):
            pos[code] = (10 + col * (NODE_W + GAP_X), 10 + row * (NODE_H + GAP_Y))
    width = 20 + (max(columns) + 1 if columns else 1) * (NODE_W + GAP_X) - GAP_X
    height = 20 + max((len(c) for c in columns.values()), default=1) * (NODE_H + GAP_Y)
    count = len(bia.dependencies)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-labelledby="graph-title graph-desc" class="bia-graph">',
        '<title id="graph-title">Graphe des dépendances</title>',
        f'<desc id="graph-desc">{len(bia.activities)} activités, {len(bia.resources)} ressources, '
        f"{count} dépendances ; le tableau des dépendances donne le même contenu.</desc>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/>'
        "</marker></defs>",
    ]
    for d in bia.dependencies:
        if d.source not in pos or d.target not in pos:
            continue
        x1, y1 = pos[d.source]
        x2, y2 = pos[d.target]
        dash = "" if d.hard else ' stroke-dasharray="5 4"'
        parts.append(
            f'<path d="M{x1 + NODE_W},{y1 + NODE_H / 2} C{x1 + NODE_W + GAP_X / 2},{y1 + NODE_H / 2} '
            f'{x2 - GAP_X / 2},{y2 + NODE_H / 2} {x2},{y2 + NODE_H / 2}" fill="none" stroke="#555"'
            f'{dash} marker-end="url(#arrow)"/>'
        )
    for code, (x, y) in pos.items():
        is_activity = code in priority
        fill = "#e3e3fd" if is_activity else "#ffffff"
        stroke_w = 3 if code in core else 1
        label = f"{code} · {priority[code]}" if is_activity else code
        parts.append(
            f'<g><rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="4" fill="{fill}" '
            f'stroke="#000091" stroke-width="{stroke_w}"/>'
            f'<text x="{x + 8}" y="{y + 16}" font-size="12" font-weight="bold" fill="#161616">'
            f"{escape(label)}</text>"
            f'<text x="{x + 8}" y="{y + 32}" font-size="11" fill="#3a3a3a">'
            f"{escape(_clip(names.get(code, '')))}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def recovery_timeline(analysis: Analysis) -> str:
    """One bar per resource from its earliest start to its end, coloured by wave; a tick marks
    its required RTO; bars ending after it are hatched in red."""
    items = analysis.order
    if not items:
        return ""
    horizon = max(
        [i.end_seconds for i in items]
        + [i.required_rto_seconds for i in items if i.required_rto_seconds is not None]
        + [HOUR]
    )
    left, row_h, plot_w = 210, 24, 620
    width, height = left + plot_w + 30, 40 + len(items) * row_h + 30

    def x(seconds: int) -> float:
        return left + plot_w * min(seconds, horizon) / horizon

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-labelledby="timeline-title timeline-desc" '
        'class="bia-timeline">',
        '<title id="timeline-title">Chronologie de reprise informatique</title>',
        f'<desc id="timeline-desc">{len(items)} ressources en {len(analysis.waves)} vagues ; '
        f"reprise complète au plus tôt en {escape(format_duration(max(i.end_seconds for i in items)))}"
        f" ; {sum(1 for i in items if i.late)} ressource(s) en retard sur leur RTO.</desc>",
        '<defs><pattern id="late" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ce0500"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#fff" stroke-width="2"/></pattern></defs>',
    ]
    steps = 6
    for k in range(steps + 1):
        seconds = horizon * k // steps
        parts.append(
            f'<line x1="{x(seconds):.1f}" y1="30" x2="{x(seconds):.1f}" y2="{height - 25}" '
            f'stroke="#ddd"/><text x="{x(seconds):.1f}" y="{height - 10}" font-size="10" '
            f'text-anchor="middle" fill="#3a3a3a">{escape(format_duration(seconds))}</text>'
        )
    for index, item in enumerate(items):
        y = 34 + index * row_h
        colour = WAVE_COLOURS[item.wave % len(WAVE_COLOURS)]
        fill = "url(#late)" if item.late else colour
        bar = max(x(item.end_seconds) - x(item.start_seconds), 2)
        parts.append(
            f'<text x="{left - 8}" y="{y + 14}" font-size="11" text-anchor="end" fill="#161616">'
            f"{escape(_clip(f'V{item.wave} · {item.code} {item.name}', 30))}</text>"
            f'<rect x="{x(item.start_seconds):.1f}" y="{y}" width="{bar:.1f}" height="{row_h - 8}" '
            f'fill="{fill}"><title>{escape(item.code)} : {escape(format_duration(item.start_seconds))}'
            f" → {escape(format_duration(item.end_seconds))}</title></rect>"
        )
        if item.required_rto_seconds is not None:
            rx = x(item.required_rto_seconds)
            parts.append(
                f'<line x1="{rx:.1f}" y1="{y - 2}" x2="{rx:.1f}" y2="{y + row_h - 6}" '
                'stroke="#161616" stroke-width="2"/>'
            )
    parts.append(
        f'<text x="{left}" y="20" font-size="11" fill="#3a3a3a">Trait noir : RTO requis ; '
        "hachures rouges : reprise après le RTO.</text></svg>"
    )
    return "".join(parts)
