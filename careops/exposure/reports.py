"""Audit reports in the CERT Santé cyber-surveillance form: scope, management summary, findings
by criticality, prioritised remediation plan; as a page, JSON, CSV and PDF."""

from __future__ import annotations

import io

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from careops.core.spreadsheet import csv_writer
from careops.exposure.engine import rules
from careops.exposure.models import Finding, ScanRun, Severity

SEVERITY_LABELS = dict(Severity.choices)  # translated labels (lazy)
CONFIDENCE_LABELS = {
    "high": _("élevée"),
    "medium": _("moyenne"),
    "low": _("faible"),
    "confirmed": _("confirmée"),
    "version": _("d'après la version"),
    "potential": _("potentielle (correctif peut-être rétroporté)"),
    "family": _("famille d'équipement"),
}
CSV_COLUMNS = [
    "priorite",
    "criticite",
    "type",
    "systeme_concerne",
    "port",
    "regle",
    "titre",
    "description",
    "constat",
    "recommandation",
    "cves",
    "kev",
    "confiance",
    "statut",
    "responsable",
    "echeance",
]


def _confidence(code: str) -> str:
    return str(CONFIDENCE_LABELS.get(code, code))


def _plan(findings: list[dict]) -> list[dict]:
    """Prioritised plan: KEV first, then severity, then the rest; one line per finding."""
    order = rules.SEVERITIES
    ranked = sorted(
        (f for f in findings if f["severity"] != "info"),
        key=lambda f: (not f["kev"], order.index(f["severity"]), f["host"], f["port"] or 0),
    )
    return [{"priority": i + 1, **f} for i, f in enumerate(ranked)]


def report_data(run: ScanRun) -> dict:
    """Everything a report shows, as plain data (the JSON export is exactly this)."""
    result = run.result or {}
    findings = [dict(f) for f in result.get("findings", [])]
    tracked = {
        f.fingerprint: f
        for f in Finding.objects.filter(
            organisation=run.organisation, fingerprint__in=[x.get("fingerprint") for x in findings]
        )
    }
    for item in findings:
        tracked_item = tracked.get(item.get("fingerprint"))
        item["severity_label"] = str(SEVERITY_LABELS[item["severity"]])
        item["confidence_label"] = _confidence(item.get("confidence", ""))
        item["status"] = tracked_item.get_status_display() if tracked_item else ""
        item["finding_id"] = tracked_item.pk if tracked_item else None
        item["owner"] = tracked_item.owner if tracked_item else ""
        item["due_date"] = (
            tracked_item.due_date.isoformat() if tracked_item and tracked_item.due_date else ""
        )
    counts = dict.fromkeys(rules.SEVERITIES, 0)
    for item in findings:
        counts[item["severity"]] += 1
    hosts = [
        {
            **host,
            "services": [
                {**svc, "confidence_label": _confidence(svc.get("confidence", ""))}
                for svc in host.get("services", [])
            ],
        }
        for host in result.get("hosts", [])
    ]
    services = sum(len(h.get("services", [])) for h in hosts)
    kev = sum(1 for f in findings if f["kev"])
    level = run.exposure_level or result.get("exposure_level", "")
    summary = (
        f"{len(hosts)} adresse(s) analysée(s), {services} service(s) exposé(s), {len(findings)} constat(s) "
        f"dont {counts['critical']} critique(s) et {counts['high']} élevé(s)"
        + (f", {kev} lié(s) à des vulnérabilités activement exploitées (KEV)" if kev else "")
        + (
            f". Niveau d'exposition : {level} ({rules.level_label(level)}), niveau minimal "
            + ("atteint." if run.minimum_level_met else "non atteint.")
            if level
            else f". {rules.NO_HOST_MESSAGE}"
        )
    )
    return {
        "title": f"Audit d'exposition sur internet — {run.organisation.name}",
        "organisation": {"name": run.organisation.name, "finess": run.organisation.finess or ""},
        "run": run.pk,
        "status": run.status,
        "requested_by": run.requested_by.get_username()
        if run.requested_by
        else "planification mensuelle",
        "created_at": run.created_at.isoformat(),
        "started_at": result.get("started_at", ""),
        "finished_at": result.get("finished_at", ""),
        "scope": run.scope,
        "catalogues": result.get("catalogues", {}),
        "management_summary": summary,
        "exposure_level": level,
        "exposure_level_label": rules.level_label(level) if level else "",
        "minimum_level_met": run.minimum_level_met,
        "counts": counts,
        "counts_list": [
            {"severity": k, "label": str(SEVERITY_LABELS[k]), "count": v} for k, v in counts.items()
        ],
        "diff": {k: len(v) for k, v in (run.diff or {}).items()},
        "hosts": hosts,
        "findings": findings,
        "remediation_plan": _plan(findings),
        "errors": run.errors or [],
        "generated_at": timezone.now().isoformat(),
    }


def to_csv(run: ScanRun) -> str:
    """One line per finding (prioritised plan order, then information findings)."""
    data = report_data(run)
    plan = data["remediation_plan"]
    info = [f for f in data["findings"] if f["severity"] == "info"]
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(CSV_COLUMNS)
    for item in [*plan, *info]:
        writer.writerow(
            [
                item.get("priority", ""),
                item["severity_label"],
                item.get("category", ""),
                item["host"],
                item["port"] or "",
                item["rule"],
                item["title"],
                item.get("description", ""),
                item["evidence"],
                item["remediation"],
                " ".join(item["cves"]),
                "oui" if item["kev"] else "non",
                item.get("confidence", ""),
                item["status"],
                item["owner"],
                item["due_date"],
            ]
        )
    return out.getvalue()


def to_html(run: ScanRun, standalone: bool = True) -> str:
    return render_to_string(
        "exposure/report.html", {"report": report_data(run), "standalone": standalone}
    )


def pdf_available() -> bool:
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def to_pdf(run: ScanRun) -> bytes:
    """The report page rendered by WeasyPrint (no network: the stylesheet is inline)."""
    import weasyprint

    return weasyprint.HTML(string=to_html(run)).write_pdf()
