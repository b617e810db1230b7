"""Downloads: the filed dossier (PDF and HTML summary, snapshot, evidence files, SHA-256
manifest) as a ZIP, and the candidacy lists as CSV and Excel."""

from __future__ import annotations

import hashlib
import io
import logging
import re
import zipfile
from typing import Any

from django.core.exceptions import PermissionDenied
from django.template.loader import render_to_string

from careops.compliance.choices import Status
from careops.compliance.models import EvidenceFile
from careops.core.pdf import offline_pdf
from careops.core.spreadsheet import append_row, csv_writer
from careops.declarations import services
from careops.declarations.models import Candidacy, Declaration, canonical_json
from careops.tenancy import scope
from careops.tenancy.choices import Category

logger = logging.getLogger("careops.declarations")
CATEGORY_LABELS = dict(Category.choices)
STATUS_LABELS = {code: str(label) for code, label in Status.choices}

COLUMNS = [
    ("region", "Région"),
    ("candidate", "Candidat"),
    ("finess", "FINESS"),
    ("category", "Catégorie"),
    ("domain", "Domaine"),
    ("state", "Étape"),
    ("applied_at", "Candidature"),
    ("filing_date", "Dépôt de la déclaration"),
    ("sha256", "Empreinte SHA-256"),
    ("decision", "Décision"),
    ("ceiling_eur", "Plafond (€)"),
    ("amount_eur", "Montant dû (€)"),
    ("paid", "Payé"),
]


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "fichier"


def summary_html(declaration: Declaration, candidacy: Candidacy) -> str:
    return render_to_string(
        "declarations/summary.html",
        {
            "declaration": declaration,
            "snap": declaration.snapshot,
            "labels": STATUS_LABELS,
            "candidacy": candidacy,
            "funding": services.funding_of(candidacy),
            "verified": declaration.verify(),
        },
    )


def summary_pdf(html: str) -> bytes | None:
    """The summary as PDF (WeasyPrint); None when WeasyPrint cannot run here."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError):  # pragma: no cover - depends on system libraries
        logger.warning("WeasyPrint unavailable: the dossier carries the HTML summary only")
        return None
    return HTML(string=html).write_pdf()


def prefiling_pdf(candidacy: Candidacy, review: dict[str, Any]) -> bytes:
    """The pre-filing review as PDF (WeasyPrint, no network access)."""
    html = render_to_string(
        "declarations/prefiling_pdf.html", {"candidacy": candidacy, "review": review}
    )
    return offline_pdf(html)


def write_dossier(declaration: Declaration, out, user) -> dict[str, str]:
    """Write the dossier ZIP to ``out`` (a path or a binary file); return path → SHA-256.

    Each evidence file goes through ``scope.restrict`` for ``user``, as on the evidence pages:
    a reader of the candidate's node alone gets no file of its establishments. The manifest
    says how many files were left out.
    """
    candidacy = declaration.candidacy
    if not scope.can(user, "view", candidacy):
        raise PermissionDenied("Vous ne pouvez pas exporter ce dossier.")
    entries: dict[str, bytes] = {}
    html = summary_html(declaration, candidacy)
    entries["resume.html"] = html.encode()
    pdf = summary_pdf(html)
    if pdf is not None:
        entries["resume.pdf"] = pdf
    entries["instantane.json"] = canonical_json(declaration.snapshot)
    frozen = declaration.snapshot["evidence"]
    visible = scope.restrict(
        EvidenceFile.objects.filter(revision__evidence_id__in=[e["evidence"] for e in frozen]),
        user,
    ).select_related("revision")
    stored: dict[tuple[int, int, str], EvidenceFile] = {}
    for record in visible.order_by("pk"):
        key = (record.revision.evidence_id, record.revision.number, record.sha256)
        stored.setdefault(key, record)
    withheld = 0
    for evidence in frozen:
        for meta in evidence["files"]:
            record = stored.get((evidence["evidence"], evidence["revision"], meta["sha256"]))
            if record is None:
                withheld += 1
                continue
            path = f"preuves/E{evidence['evidence']}r{evidence['revision']}-{_safe(meta['name'])}"
            with record.file.open("rb") as handle:
                content = handle.read()
            if hashlib.sha256(content).hexdigest() != meta["sha256"]:
                raise ValueError(f"le fichier {meta['name']} ne correspond plus à son empreinte")
            entries[path] = content
    digests = {path: hashlib.sha256(data).hexdigest() for path, data in entries.items()}
    manifest = [
        f"# careops — dossier {candidacy.candidate.name}, domaine {candidacy.domain}",
        f"# empreinte de la déclaration (instantané canonique) : {declaration.content_sha256}",
        "# vérifier : sha256sum -c MANIFEST.sha256",
    ]
    if withheld:
        manifest.append(
            f"# {withheld} fichier(s) de preuve hors de vos droits ou introuvable(s) : non inclus"
        )
    manifest += [f"{digest}  {path}" for path, digest in sorted(digests.items())]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in entries.items():
            archive.writestr(path, data)
        archive.writestr("MANIFEST.sha256", "\n".join(manifest) + "\n")
    return digests


def dossier_bytes(declaration: Declaration, user) -> bytes:
    """The dossier ZIP as bytes, with the files ``user`` may read (see ``write_dossier``)."""
    buffer = io.BytesIO()
    write_dossier(declaration, buffer, user)
    return buffer.getvalue()


def rows(candidacies) -> list[dict[str, Any]]:
    """One flat row per candidacy (one query)."""
    result = []
    for c in candidacies.select_related("candidate", "declaration").order_by(
        "region_code", "candidate__name"
    ):
        declaration = getattr(c, "declaration", None)
        result.append(
            {
                "region": c.region_code,
                "candidate": c.candidate.name,
                "finess": c.candidate.finess or "",
                "category": str(CATEGORY_LABELS.get(c.category, c.category)),
                "domain": c.domain,
                "state": str(c.get_state_display()),
                "applied_at": c.applied_at.date().isoformat(),
                "filing_date": declaration.filing_date.isoformat() if declaration else "",
                "sha256": declaration.content_sha256 if declaration else "",
                "decision": str(c.get_decision_display()) if c.decision else "",
                # Decimal (a number in Excel), "" when unknown
                "ceiling_eur": c.ceiling_eur if c.ceiling_eur is not None else "",
                "amount_eur": c.amount_eur if c.amount_eur is not None else "",
                "paid": "oui" if c.paid_at else "non",
            }
        )
    return result


def to_csv(data: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow([label for _, label in COLUMNS])
    for row in data:
        writer.writerow([row[key] for key, _ in COLUMNS])
    return "\ufeff" + buffer.getvalue()  # BOM: Excel opens the French accents right


def to_xlsx(data: list[dict[str, Any]], dashboard: dict[str, Any]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "Candidatures"
    append_row(sheet, [label for _, label in COLUMNS])
    for row in data:
        append_row(sheet, [row[key] for key, _ in COLUMNS])
    categories = book.create_sheet("Par catégorie")
    append_row(
        categories,
        ["Catégorie", "Candidats potentiels", "Candidatures", "Part", "Validées", "Déclarations"],
    )
    for c in dashboard["categories"]:
        append_row(
            categories,
            [
                c["label"],
                c["potential"],
                c["applied"],
                c["share_applied"],
                c["validated"],
                c["declared"],
            ],
        )
    regions = book.create_sheet("Par région")
    append_row(regions, ["Région", "Candidatures", "Validées", "Déclarations", "Décisions"])
    for r in dashboard["regions"]:
        append_row(regions, [r["name"], r["applied"], r["validated"], r["declared"], r["decided"]])
    objectives = book.create_sheet("Atteinte par objectif")
    append_row(objectives, ["Exigence", "Atteinte déclarée", "Applicable", "Part"])
    for o in dashboard["attainment"]:
        append_row(objectives, [o["id"], o["met"], o["applicable"], o["share"]])
    for ws in book.worksheets:
        for cell in ws[1]:
            cell.font = Font(bold=True)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
