"""Business rules of the directory app: every write goes through these functions."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import tempfile
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import timezone

from careops.compliance import services as compliance
from careops.core import audit, crypto
from careops.core.egress import policy_for
from careops.core.storage import local_path
from careops.directory.engine import analysis, collect, imports
from careops.directory.engine.dump import DumpError, load_dump
from careops.directory.models import (
    ACTIVE_AUDIT_STATUSES,
    Audit,
    AuditSource,
    AuditStatus,
    ConvergenceMilestone,
    Domain,
    MilestoneState,
    Waiver,
)
from careops.egress import EgressRefused
from careops.tenancy import scope
from careops.tenancy.choices import OrgKind

logger = logging.getLogger("careops.directory")

# Objectives that an AD audit proves (kinds and attribute as in the referential YAML files).
EVIDENCE_KIND = "ads_audit"
D1_ITEMS = ["D1.O1.A", "D1.O1.B"]
D2_ITEMS = ["D2.O3.A"]
# Reason given to an audit whose worker went silent (stored like the other failure reasons).
INTERRUPTED = "audit interrompu : le processus de collecte s'est arrêté (durée maximale dépassée)"
EMPTY_TRAJECTORY = (
    "La trajectoire de convergence est vide : déclarez une forêt cible sur un domaine ou au "
    "moins un jalon avant de la déposer (D1.O6.A)."
)


def _require(user, action: str, obj) -> None:
    if user is not None and not scope.can(user, action, obj):
        raise PermissionDenied("Vous n'avez pas les droits nécessaires sur ce domaine.")


# Where the stored password is sent: changing one of these clears it (to be entered again).
TARGET_FIELDS = ("server_url", "ca_certificate", "tls_name")


def save_domain(user, domain: Domain, password: str | None = None) -> Domain:
    """Create or update a domain; a new password is stored encrypted, never in clear.

    Changing where the stored password is sent (server URL — host and port —, CA, TLS name)
    needs the RSSI role, clears the stored password unless a new one is given in the same
    change, and is journalled with the old and new values.
    """
    _require(user, "change", domain.organisation)
    creating = domain.pk is None
    old = None if creating else Domain.objects.filter(pk=domain.pk).first()
    changes = {}
    if old is not None:
        if old.organisation_id != domain.organisation_id:
            _require(user, "manage", old.organisation)
        changes = {
            f: [getattr(old, f), getattr(domain, f)]
            for f in TARGET_FIELDS
            if (getattr(old, f) or "") != (getattr(domain, f) or "")
        }
        if changes:
            if user is not None and not scope.can(user, "manage", domain.organisation):
                raise PermissionDenied(
                    "Seul un RSSI peut changer le serveur, l'autorité ou le nom TLS d'un domaine."
                )
            domain.bind_password_encrypted = ""
    if password:
        domain.bind_password_encrypted = crypto.encrypt(password)
    domain.full_clean()
    domain.save()
    summary = f"domaine AD {domain.name}" + (" (mot de passe changé)" if password else "")
    if changes:
        shown = {
            f: [v if f != "ca_certificate" else _fingerprint(v) for v in values]
            for f, values in changes.items()
        }
        summary += " ; " + " ; ".join(
            f"{f} : {a or '—'} → {b or '—'}" for f, (a, b) in shown.items()
        )
        if not password:
            summary += " ; mot de passe effacé, à saisir de nouveau"
        changes = shown
    if password:
        changes["password_changed"] = True
    audit.record(
        user,
        "directory.domain.create" if creating else "directory.domain.update",
        domain,
        domain.organisation,
        summary[:1000],
        changes=changes,
    )
    return domain


def _fingerprint(pem: str) -> str:
    """A short SHA-256 of a CA certificate, for the journal."""
    import hashlib

    return "sha256:" + hashlib.sha256(pem.strip().encode()).hexdigest()[:16] if pem else ""


def start_audit(user, domain: Domain, source: str = AuditSource.LDAP, upload=None) -> Audit:
    """Queue an audit (LDAP collection or import of an uploaded file) as a Huey task."""
    _require(user, "change", domain)
    if source == AuditSource.LDAP and not (domain.server_url and domain.has_credentials):
        raise ValidationError(
            "Renseignez le serveur, le compte de lecture et son mot de passe avant de lancer un audit."
        )
    if source != AuditSource.LDAP and upload is None:
        raise ValidationError("Joignez le fichier à importer.")
    with transaction.atomic():
        # One audit of a domain at a time (the row lock orders two clicks or two API calls).
        Domain.objects.select_for_update().filter(pk=domain.pk).first()
        if Audit.objects.filter(domain=domain, status__in=ACTIVE_AUDIT_STATUSES).exists():
            raise ValidationError(
                "Un audit de ce domaine est déjà en cours : attendez sa fin (ou son échec) "
                "avant d'en lancer un autre."
            )
        run = Audit(domain=domain, source=source, requested_by=user)
        if upload is not None:
            run.upload.save(f"import-{domain.pk}-{timezone.now():%Y%m%d%H%M%S}", upload, save=False)
        run.save()
    audit.record(
        user,
        "directory.audit.start",
        run,
        domain.organisation,
        f"audit AD de {domain.name} ({run.get_source_display()})",
    )
    from careops.directory.tasks import run_audit

    transaction.on_commit(lambda: run_audit(run.pk))
    return run


def _progress(audit_id: int, value: int, message: str = "") -> None:
    """Record progress and a sign of life; an audit already failed by the sweeper keeps its
    reason (a worker that comes back late writes nothing over it)."""
    Audit.objects.filter(pk=audit_id, status=AuditStatus.RUNNING).update(
        progress=min(value, 100), message=message[:500], heartbeat_at=timezone.now()
    )


def _target(domain: Domain, ca_path: str | None) -> collect.Target:
    """The collection target, connected to an address the organisation's egress policy allows
    (resolved once: the connection goes to the checked address, not to a second lookup)."""
    host, port = collect.host_port(domain.server_url)
    try:
        address = policy_for(domain.organisation).resolve(host, port)[0]
    except EgressRefused as exc:
        raise collect.CollectError(str(exc)) from exc
    return collect.Target(
        url=domain.server_url,
        address=address,
        user=domain.bind_user,
        password=crypto.decrypt(domain.bind_password_encrypted),
        base=domain.base_dn or None,
        ca_file=ca_path,
        tls_name=domain.tls_name or None,
        authentication=domain.authentication,
    )


def _load(run: Audit, now: dt.datetime):
    """Collect or import; returns an AnalysisResult (raises CollectError / DumpError)."""
    domain = run.domain
    waivers = [
        analysis.Waiver(w.point, w.justification, w.expires_on, str(w.author or ""))
        for w in domain.waivers.all()
    ]
    if run.source == AuditSource.PINGCASTLE:
        with local_path(run.upload) as path:  # the verified file, wherever the store keeps it
            return analysis.from_pingcastle(imports.load_pingcastle(path))
    if run.source == AuditSource.DUMP:
        with local_path(run.upload) as path:
            dump = load_dump(path)
    elif run.source == AuditSource.ORADAD:
        with local_path(run.upload) as path:
            dump = _oradad(path)
    else:
        previous = domain.latest_audit()
        expected = (previous.result.get("completeness", {}).get("objects") if previous else 0) or 0
        ca_path = None
        try:
            if domain.ca_certificate:
                fd, ca_path = tempfile.mkstemp(suffix=".pem")
                with os.fdopen(fd, "w") as handle:
                    handle.write(domain.ca_certificate)

            def progress(count: int) -> None:
                share = int(80 * count / expected) if expected else min(75, 5 + count // 1000)
                _progress(run.pk, max(5, min(share, 80)), f"{count} objets collectés")

            dump = collect.collect(_target(domain, ca_path), progress=progress)
        finally:
            if ca_path:
                os.unlink(ca_path)
    _progress(run.pk, 85, "analyse des points de contrôle")
    return analysis.analyze(dump, now, waivers=waivers)


def _oradad(path: str):
    """ORADAD output arrives as a ZIP (or tar) of its cleartext TSV folder; extracted within
    bounds into a temporary folder that is always removed (``careops.archives``)."""
    return imports.load_oradad(path)


def execute_audit(audit_id: int, now: dt.datetime | None = None) -> Audit | None:
    """Run a queued audit; idempotent (a finished audit is left alone, an interrupted one restarts).

    The collection is all-or-nothing and the evidence is created once (``audit.evidence``), so
    a worker killed mid-run loses nothing and duplicates nothing.
    """
    claimed_at = timezone.now()
    claimed = Audit.objects.filter(pk=audit_id, status__in=ACTIVE_AUDIT_STATUSES).update(
        status=AuditStatus.RUNNING, started_at=claimed_at, heartbeat_at=claimed_at, progress=1
    )
    if not claimed:
        return None
    run = Audit.objects.select_related("domain__organisation").get(pk=audit_id)
    try:
        result = _load(run, now or timezone.now())
    except (collect.CollectError, DumpError, crypto.SecretUnreadable) as exc:
        return _fail(run, str(exc))
    except Exception as exc:  # an engine bug must not leave the audit "running" forever
        logger.exception("directory audit %s failed", audit_id)
        return _fail(run, f"Erreur interne de l'analyse ({type(exc).__name__}) : signalez-la.")
    return _record(run, result)


def _fail(run: Audit, message: str) -> Audit:
    failed = Audit.objects.filter(pk=run.pk, status__in=ACTIVE_AUDIT_STATUSES).update(
        status=AuditStatus.FAILED, message=message, finished_at=timezone.now()
    )
    run.refresh_from_db()
    if failed:  # else the sweeper already failed it, with its own reason
        audit.record(None, "directory.audit.fail", run, run.domain.organisation, message[:200])
    return run


def _record(run: Audit, result: analysis.AnalysisResult) -> Audit:
    doc = result.to_json()
    by_level: dict[str, int] = {}
    for p in result.failing():
        by_level[str(p.level)] = by_level.get(str(p.level), 0) + 1
    collected = None
    if result.collected_at:
        try:
            collected = dt.datetime.fromisoformat(result.collected_at)
        except ValueError:
            collected = None
    if collected is not None and collected.tzinfo is None:
        collected = collected.replace(tzinfo=dt.UTC)
    with transaction.atomic():
        current = Audit.objects.select_for_update().only("status").get(pk=run.pk)
        if current.status != AuditStatus.RUNNING:
            # Failed by the sweeper while this worker was silent: the audit stays failed (its
            # reason was shown and journalled) and a late result is not recorded over it.
            logger.warning("directory audit %s: late result discarded (%s)", run.pk, current.status)
            run.refresh_from_db()
            return run
        run.result = doc
        run.level = result.level
        run.level_complete = result.level_complete
        run.failing_count = len(result.failing())
        run.failing_by_level = by_level
        run.collected_at = collected or timezone.now()
        run.status = AuditStatus.DONE
        run.progress = 100
        run.finished_at = timezone.now()
        run.message = (
            ""
            if result.level_complete
            else "Collecte partielle ou points non évalués : le niveau n'est pas définitif."
        )
        run.save()
        audit.record(
            None,
            "directory.audit.done",
            run,
            run.domain.organisation,
            f"audit AD de {run.domain.name} : niveau {result.level}"
            + ("" if result.level_complete else " (incomplet)"),
        )
        if result.level_complete and run.evidence_id is None:
            attach_evidence(run)
    return run


def audit_timeout() -> dt.timedelta:
    """How long a queued or running audit may stay without a sign of life."""
    return dt.timedelta(minutes=max(1, int(settings.DIRECTORY_AUDIT_TIMEOUT_MINUTES)))


def _silent_since(cutoff: dt.datetime) -> Q:
    """Last sign of life (heartbeat, else start, else request) before ``cutoff``."""
    return (
        Q(heartbeat_at__lt=cutoff)
        | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
        | Q(heartbeat_at__isnull=True, started_at__isnull=True, created_at__lt=cutoff)
    )


def fail_stale_audits(now: dt.datetime | None = None) -> list[int]:
    """Fail the audits left queued or running by a worker that was killed or lost its task.

    An audit counts as abandoned when neither a claim nor a progress update was recorded for
    longer than ``DIRECTORY_AUDIT_TIMEOUT_MINUTES``. It is failed with a French reason and no
    level, so its partial data never reads as a result, and the domain can be audited again.
    Returns the ids of the audits failed.
    """
    now = now or timezone.now()
    stale = _silent_since(now - audit_timeout())
    candidates = Audit.objects.filter(stale, status__in=ACTIVE_AUDIT_STATUSES)
    failed = []
    for run in candidates.select_related("domain__organisation"):
        # The same condition again: a worker that spoke in the meantime keeps its audit.
        updated = Audit.objects.filter(stale, pk=run.pk, status__in=ACTIVE_AUDIT_STATUSES).update(
            status=AuditStatus.FAILED,
            message=INTERRUPTED,
            finished_at=now,
            level=None,
            level_complete=False,
        )
        if not updated:
            continue
        failed.append(run.pk)
        logger.warning("directory audit %s of %s interrupted (no sign of life)", run.pk, run.domain)
        audit.record(
            None,
            "directory.audit.fail",
            run,
            run.domain.organisation,
            f"audit AD de {run.domain.name} : {INTERRUPTED}",
        )
    return failed


def report_json(run: Audit) -> bytes:
    """The compact JSON report attached to the evidence (same shape as the CLI's --json)."""
    points = run.result.get("points", [])
    doc = {
        "domain": run.result.get("domain"),
        "level": run.level,
        "level_complete": run.level_complete,
        "collected_at": run.result.get("collected_at"),
        "points": [
            {
                "id": p["id"],
                "level": p["level"],
                "status": p["status"],
                "objects": p["objects"][:50],
                "details": p["details"],
            }
            for p in points
        ],
        "paths": run.result.get("paths", []),
        "completeness": run.result.get("completeness", {}),
    }
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")


def attach_evidence(run: Audit):
    """Turn a complete audit into the ``ads_audit`` evidence of the D1 AD objectives, and of
    D2.O3.A when the domain is the backup infrastructure's dedicated AD."""
    domain = run.domain
    items = D1_ITEMS + (D2_ITEMS if domain.dedicated_backup else [])
    day = (run.collected_at or timezone.now()).date()
    upload = SimpleUploadedFile(
        f"audit-ad-{domain.name}-{day:%Y%m%d}.json", report_json(run), "application/json"
    )
    evidence = compliance.create_evidence(
        None,
        domain.organisation,
        EVIDENCE_KIND,
        f"Audit AD {domain.name} du {day:%d/%m/%Y} — niveau {run.level}",
        compliance.RevisionInput(
            effective_date=day,
            attributes={"level": run.level, "domain": domain.name, "audit_id": run.pk},
            files=[upload],
            comment="Audit des points de contrôle ANSSI réalisé par careops.",
        ),
        item_codes=items,
        source="directory",
    )
    Audit.objects.filter(pk=run.pk).update(evidence=evidence)
    run.evidence = evidence
    return evidence


def add_waiver(user, domain: Domain, point: str, justification: str, expires_on: dt.date) -> Waiver:
    """Accept a failing point until a date; the computed level is never changed by it."""
    _require(user, "change", domain)
    known = {
        analysis.point_id(c, lvl) for c, s in analysis.catalogue().items() for lvl in s["levels"]
    }
    if point not in known:
        raise ValidationError({"point": ["Point de contrôle inconnu."]})
    if not justification.strip():
        raise ValidationError({"justification": ["La justification est obligatoire."]})
    if expires_on <= timezone.now().date():
        raise ValidationError({"expires_on": ["L'échéance doit être dans le futur."]})
    if expires_on > timezone.now().date() + dt.timedelta(days=366):
        raise ValidationError({"expires_on": ["Une dérogation dure au plus un an."]})
    waiver = Waiver.objects.create(
        domain=domain, point=point, justification=justification, expires_on=expires_on, author=user
    )
    audit.record(
        user,
        "directory.waiver.create",
        waiver,
        domain.organisation,
        f"dérogation {point} jusqu'au {expires_on:%d/%m/%Y}",
    )
    return waiver


def compare(older: Audit, newer: Audit) -> dict[str, Any]:
    """Points fixed, new failures and persisting failures between two audits of a domain."""

    def failing(run: Audit) -> dict[str, dict]:
        return {p["id"]: p for p in run.result.get("points", []) if p["status"] == "fail"}

    a, b = failing(older), failing(newer)
    return {
        "older": older,
        "newer": newer,
        "level_delta": (newer.level or 0) - (older.level or 0),
        "fixed": [a[k] for k in sorted(set(a) - set(b))],
        "new": [b[k] for k in sorted(set(b) - set(a))],
        "still": [b[k] for k in sorted(set(a) & set(b))],
    }


def convergence(user, ght) -> dict[str, Any]:
    """Every domain of every legal entity under a GHT, with its latest level and trajectory
    (target forests and milestones, ordered by due date, each with its state today)."""
    domains = (
        scope.restrict(Domain.objects.all(), user)
        .filter(organisation__in=ght.subtree())
        .select_related("organisation")
        .order_by("organisation__name", "name")
    )
    rows = []
    for d in domains:
        last = d.latest_audit()
        rows.append({"domain": d, "audit": last})
    forests = sorted({d.target_forest for d in domains if d.target_forest})
    converged = sum(1 for r in rows if r["domain"].convergence_status == "converged")
    milestones = milestone_rows(user, ght)
    return {
        "ght": ght,
        "rows": rows,
        "forests": forests,
        "converged": converged,
        "total": len(rows),
        "all_converged": bool(rows) and converged == len(rows),
        "milestones": milestones,
        "late": sum(1 for m in milestones if m["state"] == MilestoneState.LATE),
        "today": timezone.localdate(),
    }


def milestone_rows(user, ght) -> list[dict[str, Any]]:
    """The GHT's convergence milestones the user may see, by due date, with their state today
    (done, late: due date passed and not done, upcoming) and the domains they concern."""
    today = timezone.localdate()
    visible_domains = scope.restrict(Domain.objects.all(), user).order_by("name")
    milestones = (
        scope.restrict(ConvergenceMilestone.objects.filter(organisation=ght), user)
        .prefetch_related(Prefetch("domains", queryset=visible_domains))
        .order_by("due_date", "pk")
    )
    rows = []
    for m in milestones:
        state = MilestoneState(m.state_on(today))
        rows.append(
            {
                "milestone": m,
                "state": state.value,
                "state_label": state.label,
                "domains": list(m.domains.all()),
            }
        )
    return rows


def _milestone_errors(ght, title: str, due_date, done_on, domains) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if ght.kind != OrgKind.GHT:
        errors["__all__"] = ["Les jalons de convergence se déclarent au niveau d'un GHT."]
    if not (title or "").strip():
        errors["title"] = ["L'intitulé du jalon est obligatoire."]
    if due_date is None:
        errors["due_date"] = ["L'échéance du jalon est obligatoire."]
    if done_on is not None and done_on > timezone.localdate():
        errors["done_on"] = ["La date d'atteinte ne peut pas être dans le futur."]
    inside = set(ght.subtree().values_list("pk", flat=True))
    outside = sorted(d.name for d in domains if d.organisation_id not in inside)
    if outside:
        errors["domains"] = ["Domaine(s) hors du GHT refusé(s) : " + ", ".join(outside) + "."]
    return errors


def _milestone_summary(m: ConvergenceMilestone) -> str:
    return f"jalon de convergence « {m.title} » (échéance {m.due_date:%d/%m/%Y})"


def add_milestone(
    user,
    ght,
    title: str,
    due_date: dt.date,
    domains=(),
    note: str = "",
    done_on: dt.date | None = None,
) -> ConvergenceMilestone:
    """Add a milestone to the GHT's AD convergence trajectory (its domains stay under the GHT)."""
    _require(user, "change", ght)
    domains = list(domains)
    errors = _milestone_errors(ght, title, due_date, done_on, domains)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        milestone = ConvergenceMilestone.objects.create(
            organisation=ght,
            title=title.strip(),
            due_date=due_date,
            done_on=done_on,
            note=(note or "").strip(),
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        milestone.domains.set(domains)
        audit.record(
            user,
            "directory.milestone.create",
            milestone,
            ght,
            _milestone_summary(milestone),
            {"domains": [d.name for d in domains]},
        )
    return milestone


def update_milestone(
    user,
    milestone: ConvergenceMilestone,
    title: str,
    due_date: dt.date,
    domains=(),
    note: str = "",
    done_on: dt.date | None = None,
) -> ConvergenceMilestone:
    """Change a milestone (title, due date, domains, note, completion date)."""
    ght = milestone.organisation
    _require(user, "change", ght)
    domains = list(domains)
    errors = _milestone_errors(ght, title, due_date, done_on, domains)
    if errors:
        raise ValidationError(errors)
    before = {
        "title": milestone.title,
        "due_date": milestone.due_date.isoformat(),
        "done_on": milestone.done_on.isoformat() if milestone.done_on else None,
    }
    with transaction.atomic():
        milestone.title = title.strip()
        milestone.due_date = due_date
        milestone.done_on = done_on
        milestone.note = (note or "").strip()
        milestone.save()
        milestone.domains.set(domains)
        audit.record(
            user,
            "directory.milestone.update",
            milestone,
            ght,
            _milestone_summary(milestone),
            {"before": before, "domains": [d.name for d in domains]},
        )
    return milestone


def mark_milestone_done(
    user, milestone: ConvergenceMilestone, done_on: dt.date | None = None
) -> ConvergenceMilestone:
    """Record that a milestone was reached (today unless a past date is given)."""
    ght = milestone.organisation
    _require(user, "change", ght)
    done_on = done_on or timezone.localdate()
    if done_on > timezone.localdate():
        raise ValidationError({"done_on": ["La date d'atteinte ne peut pas être dans le futur."]})
    milestone.done_on = done_on
    milestone.save(update_fields=["done_on"])
    audit.record(
        user,
        "directory.milestone.done",
        milestone,
        ght,
        _milestone_summary(milestone) + f" atteint le {done_on:%d/%m/%Y}",
    )
    return milestone


def delete_milestone(user, milestone: ConvergenceMilestone) -> None:
    """Remove a milestone from the trajectory (journalled with its title and due date)."""
    ght = milestone.organisation
    _require(user, "change", ght)
    with transaction.atomic():
        audit.record(
            user, "directory.milestone.delete", milestone, ght, _milestone_summary(milestone)
        )
        milestone.delete()


def convergence_csv(data: dict[str, Any]) -> bytes:
    import io

    from careops.core.spreadsheet import csv_writer

    buf = io.StringIO()
    w = csv_writer(buf)
    w.writerow(
        [
            "organisation",
            "finess",
            "domaine",
            "forêt cible",
            "état",
            "échéance",
            "dernier niveau",
            "date du dernier audit",
        ]
    )
    for r in data["rows"]:
        d, a = r["domain"], r["audit"]
        w.writerow(
            [
                d.organisation.name,
                d.organisation.finess or "",
                d.name,
                d.target_forest,
                d.get_convergence_status_display(),
                d.convergence_due.isoformat() if d.convergence_due else "",
                a.level if a else "",
                a.collected_at.date().isoformat() if a else "",
            ]
        )
    return buf.getvalue().encode("utf-8")


def milestones_csv(data: dict[str, Any]) -> bytes:
    """The trajectory's milestones: title, due date, state, completion date, domains."""
    import io

    from careops.core.spreadsheet import csv_writer

    buf = io.StringIO()
    w = csv_writer(buf)
    w.writerow(["jalon", "échéance", "état", "atteint le", "domaines", "commentaire"])
    for row in data["milestones"]:
        m = row["milestone"]
        w.writerow(
            [
                m.title,
                m.due_date.isoformat(),
                row["state_label"],
                m.done_on.isoformat() if m.done_on else "",
                ", ".join(d.name for d in row["domains"]),
                m.note,
            ]
        )
    return buf.getvalue().encode("utf-8")


def convergence_evidence(user, ght):
    """File the GHT's convergence state as evidence of D1.O6.A/B (kind chosen by the state).

    The D1.O6.A trajectory carries two files: the domains (target forest, state, due date) and
    the milestones. An empty trajectory (no target forest, no milestone) is refused, and then
    nothing is filed.
    """
    _require(user, "change", ght)
    data = convergence(user, ght)
    if not data["rows"]:
        raise ValidationError("Aucun domaine AD déclaré dans ce GHT.")
    if not data["forests"] and not data["milestones"]:
        raise ValidationError(EMPTY_TRAJECTORY)
    today = timezone.now().date()
    kind = "converged_ad_description" if data["all_converged"] else "ad_convergence_progress"
    domains_csv = convergence_csv(data)  # the same table for both items
    upload = SimpleUploadedFile(f"convergence-ad-{today:%Y%m%d}.csv", domains_csv, "text/csv")
    title = (
        "Description de l'AD convergé"
        if data["all_converged"]
        else "État d'avancement de la convergence AD"
    ) + f" du {today:%d/%m/%Y}"
    with transaction.atomic():
        evidence = compliance.create_evidence(
            user,
            ght,
            kind,
            title,
            compliance.RevisionInput(effective_date=today, files=[upload]),
            item_codes=["D1.O6.B"],
            source="directory",
        )
        trajectory = compliance.create_evidence(
            user,
            ght,
            "ad_convergence_trajectory",
            f"Trajectoire de convergence AD du {today:%d/%m/%Y}",
            compliance.RevisionInput(
                effective_date=today,
                attributes={
                    "target_forests": data["forests"],
                    "milestones": len(data["milestones"]),
                    "late_milestones": data["late"],
                },
                files=[
                    SimpleUploadedFile(
                        f"trajectoire-ad-{today:%Y%m%d}.csv", domains_csv, "text/csv"
                    ),
                    SimpleUploadedFile(
                        f"jalons-ad-{today:%Y%m%d}.csv", milestones_csv(data), "text/csv"
                    ),
                ],
            ),
            item_codes=["D1.O6.A"],
            source="directory",
        )
    return evidence, trajectory
