"""The PCRA as a Word document (python-docx), built from plain data (see ``PCRA_KEYS``)."""

from __future__ import annotations

import io
from typing import Any

from docx import Document
from docx.shared import Pt

PCRA_KEYS = (
    "title, organisation, finess, version, status, validated, generated, governance, "
    "activation_criteria, white_plan_link, communication_plan, pcri_reference, activities, "
    "resources, waves, scenarios, crisis_cell, procedures, needs, exercises"
)


def _table(doc, headers: list[str], rows: list[list[Any]]) -> None:
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    for cell, header in zip(table.rows[0].cells, headers, strict=True):
        cell.text = header
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = "" if value is None else str(value)


def _text(doc, label: str, value: str) -> None:
    doc.add_heading(label, level=2)
    doc.add_paragraph(value or "Non renseigné.")


def build_docx(content: dict[str, Any]) -> bytes:
    """Write the PCRA document; ``content`` carries the keys listed in ``PCRA_KEYS``."""
    doc = Document()
    doc.styles["Normal"].font.size = Pt(10)
    doc.core_properties.title = content["title"]
    doc.core_properties.language = "fr-FR"
    doc.add_heading(content["title"], level=0)
    doc.add_paragraph(
        f"{content['organisation']} — FINESS {content['finess'] or 'non renseigné'} — "
        f"version {content['version']} ({content['status']}). {content['validated']}"
    )
    doc.add_paragraph(f"Document généré par careops le {content['generated']}.")

    doc.add_heading("1. Gouvernance et déclenchement", level=1)
    _text(doc, "Schéma de gouvernance", content["governance"])
    _text(doc, "Critères de déclenchement", content["activation_criteria"])
    _text(doc, "Articulation avec le plan blanc", content["white_plan_link"])
    _text(doc, "Plan de communication", content["communication_plan"])

    doc.add_heading("2. Cellule de crise", level=1)
    _table(
        doc,
        ["Rôle", "Titulaire", "Suppléant", "Contact hors SI"],
        [[c["role"], c["holder"], c["deputy"], c["contact"]] for c in content["crisis_cell"]],
    )

    doc.add_heading("3. Activités et objectifs (BIA)", level=1)
    _table(
        doc,
        ["Code", "Activité", "Type", "DMIA", "Priorité", "RTO", "PDMA", "Service minimal"],
        [
            [
                a["code"],
                a["name"],
                a["kind"],
                a["dmia"],
                a["priority"],
                a["rto"],
                a["rpo"],
                a["mbco"],
            ]
            for a in content["activities"]
        ],
    )

    doc.add_heading("4. Scénarios", level=1)
    for s in content["scenarios"]:
        doc.add_heading(f"{s['kind']} : {s['title']}", level=2)
        doc.add_paragraph(s["description"] or "")
        doc.add_paragraph(f"Stratégie : {s['strategy'] or 'non renseignée'}")

    doc.add_heading("5. Besoins en mode dégradé", level=1)
    _table(
        doc,
        ["Activité", "Nature", "Élément", "Quantité", "Lieu", "Prêt"],
        [
            [n["activity"], n["kind"], n["item"], n["quantity"], n["location"], n["ready"]]
            for n in content["needs"]
        ],
    )

    doc.add_heading("6. Reprise informatique (PCRI)", level=1)
    doc.add_paragraph(
        f"Plan de reprise informatique : {content['pcri_reference'] or 'non référencé'}."
    )
    _table(
        doc,
        ["Ressource", "RTO requis", "PDMA requise", "Activités servies", "Écart mesuré"],
        [[r["name"], r["rto"], r["rpo"], r["activities"], r["gap"]] for r in content["resources"]],
    )
    for wave in content["waves"]:
        doc.add_paragraph(
            f"{wave['label']} : {', '.join(wave['items'])} (fin au plus tôt {wave['end']})",
            style="List Bullet",
        )

    doc.add_heading("7. Procédures", level=1)
    for p in content["procedures"]:
        doc.add_heading(f"{p['kind']} : {p['title']}", level=2)
        doc.add_paragraph(f"Version {p['version'] or '—'}, responsable {p['owner'] or '—'}.")
        doc.add_paragraph(p["body"] or "")

    doc.add_heading("8. Exercices et retours d'expérience", level=1)
    for e in content["exercises"]:
        doc.add_heading(f"{e['kind']} du {e['date']} — {e['perimeter']}", level=2)
        doc.add_paragraph(f"Scénario : {e['scenario'] or '—'}. Résultats : {e['results'] or '—'}")
        doc.add_paragraph(f"RETEX : {e['retex'] or '—'}")
        if e["actions"]:
            _table(doc, ["Action", "Responsable", "Échéance", "Statut"], e["actions"])
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
