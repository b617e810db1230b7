"""Server-side SVG: level trend of a domain, and the control paths of an audit."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _


def trend_chart(audits: list) -> str:
    """Level (line, 1–5) and failing points (bars) of the finished audits, oldest first."""
    if not audits:
        return ""
    width, height, left, bottom, top = 640, 220, 48, 40, 16
    plot_w, plot_h = width - left - 16, height - bottom - top
    step = plot_w / max(len(audits), 1)
    most = max((a.failing_count for a in audits), default=1) or 1
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="trend-title trend-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="trend-title">{escape(_("Évolution du niveau ANSSI"))}</title>',
        '<desc id="trend-desc">'
        + escape(
            "; ".join(
                f"{a.collected_at:%d/%m/%Y} : "
                + _("niveau %(l)s, %(n)s point(s) en échec") % {"l": a.level, "n": a.failing_count}
                for a in audits
            )
        )
        + "</desc>",
    ]
    for lvl in range(1, 6):
        y = top + plot_h - (lvl - 1) * plot_h / 4
        parts.append(
            f'<line x1="{left}" x2="{width - 16}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#ddd" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="12">{lvl}</text>'
        )
    points = []
    for i, a in enumerate(audits):
        x = left + step * (i + 0.5)
        bar_h = plot_h * a.failing_count / most * 0.9
        parts.append(
            f'<rect x="{x - step * 0.3:.1f}" y="{top + plot_h - bar_h:.1f}" '
            f'width="{step * 0.6:.1f}" height="{bar_h:.1f}" fill="#cfd8ea"/>'
        )
        y = top + plot_h - ((a.level or 1) - 1) * plot_h / 4
        points.append(f"{x:.1f},{y:.1f}")
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#000091"/>')
        parts.append(
            f'<text x="{x:.1f}" y="{height - 22}" text-anchor="middle" font-size="11">'
            f"{a.collected_at:%d/%m/%y}</text>"
        )
    parts.append(
        f'<polyline points="{" ".join(points)}" fill="none" stroke="#000091" stroke-width="2"/>'
    )
    parts.append(
        f'<text x="{left}" y="{height - 4}" font-size="11">'
        + escape(_("ligne : niveau (1 à 5) ; barres : points en échec (max. %(m)s)") % {"m": most})
        + "</text>"
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def paths_graph(paths: list[dict], limit: int = 12) -> str:
    """The union of the first control paths, drawn left (source) to right (privileged target)."""
    shown = paths[:limit]
    if not shown:
        return ""
    depth: dict[str, int] = {}
    edges: dict[tuple[str, str], str] = {}
    for p in shown:
        nodes = [p["source"]] + [s["to"] for s in p["steps"]]
        for i, node in enumerate(nodes):
            depth[node] = max(depth.get(node, 0), len(nodes) - 1 - i)
        for s in p["steps"]:
            edges[(s["from"], s["to"])] = s["rel"]
    max_depth = max(depth.values())
    columns: dict[int, list[str]] = {}
    order: list[str] = []  # first appearance, path by path: keeps most edges horizontal
    for p in shown:
        for node in [p["source"]] + [s["to"] for s in p["steps"]]:
            if node not in order:
                order.append(node)
    for node in order:
        columns.setdefault(max_depth - depth[node], []).append(node)
    col_w, row_h, box_w, box_h = 380, 56, 220, 30
    rows = max(len(v) for v in columns.values())
    width, height = (max_depth + 1) * col_w + 20, rows * row_h + 40
    pos = {}
    for col, nodes in columns.items():
        for row, node in enumerate(nodes):
            pos[node] = (10 + col * col_w, 20 + row * row_h)
    title = _("Chemins de contrôle vers les comptes privilégiés")
    desc = "; ".join(
        p["source"] + " → " + " → ".join(f"[{s['rel']}] {s['to']}" for s in p["steps"])
        for p in shown
    )
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="paths-title paths-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="paths-title">{escape(title)}</title><desc id="paths-desc">{escape(desc)}</desc>',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#555"/></marker></defs>',
    ]
    for (a, b), rel in edges.items():
        x1, y1 = pos[a][0] + box_w, pos[a][1] + box_h / 2
        x2, y2 = pos[b][0], pos[b][1] + box_h / 2
        parts.append(
            f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#555" '
            'marker-end="url(#arrow)"/>'
        )
        parts.append(
            f'<text x="{(x1 + x2) / 2:.0f}" y="{(y1 + y2) / 2 - 4:.0f}" '
            f'text-anchor="middle" font-size="10" fill="#ce0500">{escape(rel)}</text>'
        )
    targets = {p["target"] for p in shown}
    sources = {p["source"] for p in shown}
    for node, (x, y) in pos.items():
        fill = "#fee9e9" if node in targets else ("#fff4d6" if node in sources else "#eef")
        label = node if len(node) <= 34 else node[:31] + "…"
        parts.append(
            f'<rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="4" '
            f'fill="{fill}" stroke="#333"/>'
        )
        parts.append(f'<text x="{x + 8}" y="{y + 19}" font-size="12">{escape(label)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def milestone_timeline(rows: list[dict], today) -> str:
    """The convergence milestones on a horizontal time axis: done ones filled, late ones in the
    danger colour (and square), upcoming ones hollow; a dashed line marks today."""
    if not rows:
        return ""
    width, height, left, right = 720, 150, 24, 24
    axis_y = 70
    dates = [r["milestone"].due_date for r in rows] + [today]
    first, last = min(dates), max(dates)
    span = max((last - first).days, 1)
    plot_w = width - left - right

    def x_of(day) -> float:
        return left + plot_w * (day - first).days / span

    counts = {state: sum(1 for r in rows if r["state"] == state) for state in ("done", "late")}
    label = _(
        "Frise des jalons de la trajectoire : %(n)s jalon(s), %(done)s atteint(s), "
        "%(late)s en retard, du %(first)s au %(last)s"
    ) % {
        "n": len(rows),
        "done": counts["done"],
        "late": counts["late"],
        "first": f"{first:%d/%m/%Y}",
        "last": f"{last:%d/%m/%Y}",
    }
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(label)}</title>",
        f'<line x1="{left}" x2="{width - right}" y1="{axis_y}" y2="{axis_y}" '
        'stroke="#3a3a3a" stroke-width="2"/>',
    ]
    # one tick per year boundary inside the range, plus both ends
    ticks = {first, last}
    for year in range(first.year + 1, last.year + 1):
        boundary = first.replace(year=year, month=1, day=1)
        if min(x_of(boundary) - x_of(first), x_of(last) - x_of(boundary)) > 70:
            ticks.add(boundary)
    for day in sorted(ticks):
        x = x_of(day)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{axis_y - 4}" y2="{axis_y + 4}" stroke="#3a3a3a"/>'
        )
        anchor = "start" if day == first else ("end" if day == last else "middle")
        parts.append(
            f'<text x="{x:.1f}" y="{axis_y + 20}" text-anchor="{anchor}" font-size="11">'
            f"{day:%d/%m/%Y}</text>"
        )
    tx = x_of(today)
    today_label = escape(_("aujourd'hui"))
    parts.append(
        f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{axis_y - 40}" y2="{axis_y + 26}" '
        'stroke="#0063cb" stroke-dasharray="4 3"/>'
        f'<text x="{tx:.1f}" y="{axis_y - 44}" text-anchor="middle" font-size="11" '
        f'fill="#0063cb">{today_label}</text>'
    )
    for i, r in enumerate(rows):
        m = r["milestone"]
        x = x_of(m.due_date)
        y = axis_y - 14 - (i % 2) * 12  # alternate heights so close milestones stay apart
        tip = f"{m.title} — {m.due_date:%d/%m/%Y} — {r['state_label']}"
        if m.done_on:
            tip += " " + _("(atteint le %(date)s)") % {"date": f"{m.done_on:%d/%m/%Y}"}
        parts.append(f'<g><title>{escape(tip)}</title><line x1="{x:.1f}" x2="{x:.1f}" ')
        parts.append(f'y1="{y:.1f}" y2="{axis_y}" stroke="#929292"/>')
        if r["state"] == "late":
            parts.append(
                f'<rect x="{x - 6:.1f}" y="{y - 6:.1f}" width="12" height="12" fill="#ce0500"/>'
            )
        elif r["state"] == "done":
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="#000091"/>')
        else:
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="#fff" stroke="#000091" '
                'stroke-width="2"/>'
            )
        parts.append("</g>")
    legend_y = height - 12
    parts.append(
        f'<circle cx="{left + 6}" cy="{legend_y - 4}" r="5" fill="#000091"/>'
        f'<text x="{left + 16}" y="{legend_y}" font-size="11">{escape(_("atteint"))}</text>'
        f'<circle cx="{left + 96}" cy="{legend_y - 4}" r="5" fill="#fff" stroke="#000091" '
        'stroke-width="2"/>'
        f'<text x="{left + 106}" y="{legend_y}" font-size="11">{escape(_("à venir"))}</text>'
        f'<rect x="{left + 181}" y="{legend_y - 9}" width="10" height="10" fill="#ce0500"/>'
        f'<text x="{left + 196}" y="{legend_y}" font-size="11">{escape(_("en retard"))}</text>'
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
