"""PCRA documents: the content gathered once, written to Word (python-docx) or PDF (WeasyPrint)."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string

from careops.compliance.services import today_in_paris
from careops.continuity import services
from careops.continuity.engine.model import format_duration
from careops.continuity.engine.pcra import build_docx
from careops.continuity.engine.report import GAP_LABELS
from careops.continuity.models import ACTIVITY_LABELS, Campaign
from careops.core.pdf import offline_pdf

NO = "non"


def pcra_content(campaign: Campaign) -> dict[str, Any]:
    """Everything the PCRA document shows, as plain data."""
    bia, analysis = services.analysed(campaign)
    mbco = {a.code: a.mbco for a in bia.activities}
    org = campaign.organisation
    validated = (
        f"Validé par {campaign.validated_by} le {campaign.validated_at:%d/%m/%Y}."
        if campaign.validated_at
        else "Version non validée."
    )
    return {
        "title": f"Plan de continuité et de reprise d'activité — {campaign.title}",
        "organisation": org.name,
        "finess": org.finess,
        "version": campaign.version,
        "status": campaign.get_status_display(),
        "validated": validated,
        "generated": f"{today_in_paris():%d/%m/%Y}",
        "governance": campaign.governance,
        "activation_criteria": campaign.activation_criteria,
        "white_plan_link": campaign.white_plan_link,
        "communication_plan": campaign.communication_plan,
        "pcri_reference": campaign.pcri_reference,
        "activities": [
            {
                "code": a.code,
                "name": a.name,
                "kind": ACTIVITY_LABELS.get(a.kind, a.kind),
                "dmia": a.dmia_label,
                "priority": a.priority,
                "rto": format_duration(a.rto_seconds),
                "rpo": format_duration(a.rpo_seconds),
                "mbco": mbco.get(a.code, ""),
            }
            for a in analysis.activities
        ],
        "resources": [
            {
                "name": f"{r.code} — {r.name}",
                "rto": format_duration(r.required_rto_seconds, "—"),
                "rpo": format_duration(r.required_rpo_seconds, "—"),
                "activities": ", ".join(r.activities),
                "gap": GAP_LABELS[r.rto_gap],
            }
            for r in analysis.resources
        ],
        "waves": [
            {"label": w.label, "items": w.items, "end": format_duration(w.end_seconds)}
            for w in analysis.waves
        ],
        "scenarios": [
            {
                "kind": s.get_kind_display(),
                "title": s.title,
                "description": s.description,
                "strategy": s.strategy,
            }
            for s in campaign.scenarios.all()
        ],
        "crisis_cell": [
            {"role": c.role, "holder": c.holder, "deputy": c.deputy, "contact": c.contact}
            for c in campaign.crisis_roles.all()
        ],
        "procedures": [
            {
                "kind": p.get_kind_display(),
                "title": p.title,
                "version": p.version,
                "owner": p.owner,
                "body": p.body,
            }
            for p in campaign.procedures.all()
        ],
        "needs": [
            {
                "activity": n.activity,
                "kind": "matériel" if n.kind == "material" else "humain",
                "item": n.item,
                "quantity": f"{n.quantity:g} / {n.per}" if n.quantity is not None else "",
                "location": n.location,
                "ready": "oui" if n.ready else NO,
            }
            for n in bia.needs
        ],
        "exercises": [
            {
                "kind": e.get_kind_display(),
                "date": f"{e.held_on:%d/%m/%Y}",
                "perimeter": e.perimeter,
                "scenario": e.scenario.title if e.scenario else "",
                "results": e.results,
                "retex": e.retex,
                "actions": [
                    [a.description, a.owner, f"{a.due_on:%d/%m/%Y}", a.get_status_display()]
                    for a in e.actions.all()
                ],
            }
            for e in campaign.exercises.select_related("scenario")
        ],
    }


def pcra_docx(campaign: Campaign) -> bytes:
    """The PCRA as a Word document."""
    return build_docx(pcra_content(campaign))


def pcra_pdf(campaign: Campaign) -> bytes:
    """The PCRA as a PDF (HTML rendered by WeasyPrint, no network access)."""
    html = render_to_string("continuity/pcra_pdf.html", {"c": pcra_content(campaign)})
    return offline_pdf(html)
