"""Business rules of the backups app: every write goes through these functions."""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from careops.backups import choices
from careops.backups.engine import errors as engine_errors
from careops.backups.engine.config import parse_config
from careops.backups.engine.jobreports import parse_job_report
from careops.backups.engine.verify import VerifyState, run_verification
from careops.backups.models import (
    Alert,
    BackupCopy,
    BackupSystem,
    JobRecord,
    ProtectedSystem,
    Repository,
    Trajectory,
    VerificationRun,
)
from careops.backups.objectives import ObjectiveResolver
from careops.compliance import services as compliance
from careops.continuity.engine.compute import reachable
from careops.core import audit, crypto
from careops.core.egress import policy_for
from careops.tenancy import scope
from careops.tenancy.models import Organisation, RoleAssignment

logger = logging.getLogger("careops.backups")

PROCEDURES = {
    choices.AlertKind.STALE: (
        "1. Vérifier dans la console de sauvegarde que la tâche a tourné et pourquoi elle n'a pas "
        "produit de point de restauration. 2. Relancer la sauvegarde et contrôler sa fin. "
        "3. Si la PDMA ne peut être tenue, prévenir le référent métier et le RSSI et consigner "
        "l'incident selon la procédure de traitement des incidents de sauvegarde."
    ),
    choices.AlertKind.INTEGRITY: (
        "1. Ne pas élaguer ni compacter le dépôt. 2. Relancer une vérification complète des "
        "données (restic check --read-data, borg check --verify-data). 3. Réparer depuis une "
        "autre copie (3-2-1) ; déclarer l'incident au RSSI."
    ),
    choices.AlertKind.RESTORE: (
        "1. Analyser le compte rendu (fichiers différents ou manquants, cible en erreur). "
        "2. Rejouer le test vers une autre cible. 3. Si la donnée est altérée, restaurer depuis "
        "une autre copie et déclarer l'incident."
    ),
    choices.AlertKind.ACCESS: (
        "1. Vérifier que le dépôt est joignable et que le secret enregistré est à jour. "
        "2. Si le dépôt est verrouillé, identifier le processus (ne supprimer un verrou qu'après "
        "s'être assuré qu'il est périmé). 3. Relancer la vérification."
    ),
    choices.AlertKind.JOB_FAILED: (
        "1. Lire le message d'erreur de la tâche dans l'outil. 2. Corriger (espace, média, "
        "agent) et relancer. 3. Consigner l'incident si la PDMA est menacée."
    ),
    choices.AlertKind.IMMUTABILITY: (
        "1. Rétablir la protection (Object Lock en mode COMPLIANCE avec rétention suffisante, "
        "dépôt borg en ajout seul). 2. Vérifier qu'aucun élagage automatique ne tourne depuis un "
        "client de production."
    ),
}
CHECK_ALERTS = {
    "access": (choices.AlertKind.ACCESS, choices.Severity.CRITICAL),
    "integrity": (choices.AlertKind.INTEGRITY, choices.Severity.CRITICAL),
    "restore": (choices.AlertKind.RESTORE, choices.Severity.CRITICAL),
    "append_only": (choices.AlertKind.IMMUTABILITY, choices.Severity.WARNING),
    "object_lock": (choices.AlertKind.IMMUTABILITY, choices.Severity.WARNING),
}
NOTIFIED_ROLES = ("es_rssi", "ght_rssi")
MAX_ATTEMPTS = 3  # the first try and Huey's two retries


# ---------------------------------------------------------------- inventory and 3-2-1


@dataclass
class Rule321:
    """3-2-1(-1) computed from copies, with the reasons of what is missing."""

    copies: int
    media: int
    offsite: int
    offline_or_immutable: int
    missing: list[str] = field(default_factory=list)

    @property
    def met(self) -> bool:
        return not self.missing

    @property
    def label(self) -> str:
        return (
            "3-2-1-1 atteint" if self.met else "3-2-1-1 non atteint : " + " ; ".join(self.missing)
        )


def assess_321(copies: list[BackupCopy]) -> Rule321:
    """≥ 3 copies, ≥ 2 media, ≥ 1 off-site, ≥ 1 offline or immutable."""
    result = Rule321(
        copies=len(copies),
        media=len({c.media for c in copies}),
        offsite=sum(c.offsite for c in copies),
        offline_or_immutable=sum(c.offline or c.immutable for c in copies),
    )
    if result.copies < 3:
        result.missing.append(f"{result.copies} copie(s) sur 3")
    if result.media < 2:
        result.missing.append(f"{result.media} support(s) sur 2")
    if result.offsite < 1:
        result.missing.append("aucune copie hors site")
    if result.offline_or_immutable < 1:
        result.missing.append("aucune copie hors ligne ou immuable")
    return result


def _require(user, action: str, obj) -> None:
    if not scope.can(user, action, obj):
        raise PermissionDenied("Action non autorisée sur cette organisation.")


def save_with_audit(
    user, obj, organisation: Organisation, verb: str, summary: str, action: str = "change"
):
    """Save an inventory object the user may change, and record it in the audit trail."""
    _require(user, action, organisation)
    obj.full_clean()
    obj.save()
    audit.record(user, f"backups.{verb}", obj, organisation, summary)
    return obj


def set_repository_password(repository: Repository, password: str) -> None:
    """Store a repository password, encrypted (never in clear, never logged)."""
    repository.password_encrypted = crypto.encrypt(password)


def save_repository(
    user,
    repository: Repository,
    organisation: Organisation,
    *,
    password: str = "",
    s3_access_key: str = "",
    s3_secret_key: str = "",
) -> Repository:
    """Create or update a repository (RSSI only), its secrets encrypted.

    Where a secret is sent is part of the secret: when the location changes the stored password
    is cleared, when the S3 endpoint changes the S3 keys are cleared, unless new ones are given
    in the same change. Both changes are journalled with their old and new values.
    """
    _require(user, "manage", organisation)
    old = Repository.objects.filter(pk=repository.pk).first() if repository.pk else None
    changes: dict = {}
    if old is not None:
        if old.organisation_id != organisation.pk:
            _require(user, "manage", old.organisation)
        if old.location != repository.location:
            changes["location"] = [old.location, repository.location]
            repository.password_encrypted = ""
        old_endpoint = (old.s3_lock or {}).get("endpoint", "")
        new_endpoint = (repository.s3_lock or {}).get("endpoint", "")
        if old_endpoint != new_endpoint:
            changes["s3_endpoint"] = [old_endpoint, new_endpoint]
            repository.s3_access_key_encrypted = repository.s3_secret_key_encrypted = ""
    if password:
        set_repository_password(repository, password)
        changes["password_changed"] = True
    if s3_access_key and s3_secret_key:
        repository.s3_access_key_encrypted = crypto.encrypt(s3_access_key)
        repository.s3_secret_key_encrypted = crypto.encrypt(s3_secret_key)
        changes["s3_keys_changed"] = True
    if not repository.password_encrypted:
        raise ValidationError({"password": ["Saisir le mot de passe du dépôt."]})
    repository.full_clean()
    repository.save()
    summary = f"dépôt « {repository.name} » ({repository.driver})"
    if "location" in changes:
        summary += f" ; emplacement {changes['location'][0]} → {changes['location'][1]}"
    if "s3_endpoint" in changes:
        summary += f" ; point d'accès S3 {changes['s3_endpoint'][0] or '—'} → " + (
            changes["s3_endpoint"][1] or "—"
        )
    audit.record(
        user, "backups.repository_save", repository, organisation, summary, changes=changes
    )
    return repository


# ---------------------------------------------------------------- runs


def _scratch_root() -> str:
    root = os.path.join(str(settings.CONFIG.get("DATA_DIR") or tempfile.gettempdir()), "restore")
    os.makedirs(root, exist_ok=True)
    return root


def request_run(user, repository: Repository, kind: str, system=None, referent: str = ""):
    """Create a queued run the user may request, and enqueue its task."""
    _require(user, "change", repository)
    if kind == choices.RunKind.RESTORE:
        if system is None or system.repository_id != repository.pk:
            raise ValidationError({"protected_system": ["Choisir un système de ce dépôt."]})
    run = VerificationRun.objects.create(
        organisation=repository.organisation,
        repository=repository,
        protected_system=system,
        kind=kind,
        business_referent=referent.strip(),
        requested_by=user,
    )
    audit.record(
        user,
        "backups.run_request",
        run,
        repository.organisation,
        f"{run.get_kind_display()} de {repository}",
    )
    from careops.backups.tasks import execute_run_task

    transaction.on_commit(lambda: execute_run_task(run.pk))
    return run


def _system_config(system: ProtectedSystem, resolver: ObjectiveResolver) -> dict:
    objectives = resolver.objectives(system)
    return {
        "name": f"s{system.pk}",
        "rpo_hours": objectives.rpo_hours,
        "rto_hours": objectives.rto_hours,
        "repository": f"r{system.repository_id}",
        "match": {
            "host": system.match_host,
            "tags": [t.strip() for t in system.match_tags.split(",") if t.strip()],
            "path": system.match_path,
            "archive_glob": system.archive_glob,
        },
    }


def build_config(run: VerificationRun, scratch: str):
    """The engine configuration of a run (one repository, its protected systems)."""
    repo = run.repository
    checks: dict = {"structure": True}
    if run.kind == choices.RunKind.VERIFY:
        checks["data"] = {"cycle": max(1, repo.data_cycle)}
        checks["append_only"] = repo.append_only_expected and repo.driver == choices.Driver.BORG
        if repo.s3_lock.get("bucket"):
            # credentials never come from the configuration: the run passes the stored keys
            checks["object_lock"] = {
                k: v
                for k, v in repo.s3_lock.items()
                if k in ("bucket", "endpoint", "region", "min_retention_days", "probe_delete")
            }
    else:
        checks["structure"] = False
        system = run.protected_system
        restore = {"system": f"s{system.pk}", "target": os.path.join(scratch, "cible")}
        if system.manifest.strip():
            path = os.path.join(scratch, "manifest.sha256")
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(system.manifest)
            restore["manifest"] = path
        if system.match_path:
            restore["source_path"] = system.match_path
        checks["restore"] = restore
    resolver = ObjectiveResolver()
    systems = list(repo.systems.all()) if run.kind == choices.RunKind.VERIFY else []
    if run.kind == choices.RunKind.RESTORE:
        systems = [run.protected_system]
    # a system whose BIA lost its PDMA cannot be judged: left out, never counted as fresh
    systems = [s for s in systems if resolver.objectives(s).rpo_hours is not None]
    if run.kind == choices.RunKind.RESTORE and not systems:
        raise engine_errors.ConfigError(
            f"PDMA non définie pour « {run.protected_system.name} » : la saisir ou la renseigner "
            "dans le BIA."
        )
    data = {
        "repositories": [
            {
                "name": f"r{repo.pk}",
                "driver": repo.driver,
                "location": repo.location,
                "cache_dir": os.path.join(scratch, "cache"),
                "checks": checks,
            }
        ],
        "systems": [_system_config(s, resolver) for s in systems],
    }
    config = parse_config(data, base_dir=scratch, require_passwords=False, server_secrets=False)
    return config, systems


def execute_run(run_id: int) -> VerificationRun | None:
    """Run a verification or a restore test; idempotent (a finished run is left alone).

    A run interrupted by a killed worker is still ``running`` and simply starts again: every
    check is read-only for the repository and restores go to a fresh scratch folder.
    """
    claimed = VerificationRun.objects.filter(
        pk=run_id, status__in=[choices.RunStatus.QUEUED, choices.RunStatus.RUNNING]
    ).update(
        status=choices.RunStatus.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    run = VerificationRun.objects.select_related("repository", "protected_system").get(pk=run_id)
    repo = run.repository
    scratch = tempfile.mkdtemp(prefix=f"run{run.pk}-", dir=_scratch_root())
    try:
        try:
            password = crypto.decrypt(repo.password_encrypted)
            s3_keys = None
            if repo.s3_access_key_encrypted:
                s3_keys = (
                    crypto.decrypt(repo.s3_access_key_encrypted),
                    crypto.decrypt(repo.s3_secret_key_encrypted),
                )
        except crypto.SecretUnreadable as exc:
            return _finish_error(run, str(exc))
        config, systems = build_config(run, scratch)
        state = VerifyState(subsets={f"r{repo.pk}": list(repo.integrity_history)})

        def progress(done: int, total: int, label: str) -> None:
            VerificationRun.objects.filter(pk=run.pk).update(
                progress_done=done, progress_total=total, progress_label=label[:200]
            )

        report = run_verification(
            config,
            passwords={f"r{repo.pk}": password},
            progress=progress,
            state=state,
            s3_keys={f"r{repo.pk}": s3_keys or ("", "")},
            egress=policy_for(repo.organisation),
        )
    except engine_errors.ConfigError as exc:
        return _finish_error(run, str(exc))
    except Exception:
        # the task is retried (Huey retries=2); after the last attempt the run says so
        if run.attempts >= MAX_ATTEMPTS:
            VerificationRun.objects.filter(pk=run.pk).update(
                status=choices.RunStatus.CRASHED,
                outcome=choices.Outcome.ERROR,
                finished_at=timezone.now(),
                result={"error": "Erreur interne pendant la vérification : voir le journal."},
            )
        logger.exception("backup run %s failed", run.pk)
        raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return _record(run, report, systems, state)


def _finish_error(run: VerificationRun, message: str) -> VerificationRun:
    run.status = choices.RunStatus.DONE
    run.outcome = choices.Outcome.ERROR
    run.result = {"error": message}
    run.finished_at = timezone.now()
    run.save()
    return run


def _plain(report: dict, systems: list[ProtectedSystem], repo: Repository) -> dict:
    """Engine names (r12, s3) replaced by the user's names."""
    names = {f"s{s.pk}": s.name for s in systems}
    report["repositories"][0]["name"] = repo.name
    for system in report["systems"]:
        system["name"] = names.get(system["name"], system["name"])
    return report


@transaction.atomic
def _record(run, report, systems, state) -> VerificationRun:
    repo = run.repository
    data = _plain(report.to_dict(), systems, repo)
    repo_report = report.repositories[0]
    repo.integrity_history = state.subsets.get(f"r{repo.pk}", [])
    repo.save(update_fields=["integrity_history"])
    run.result = data
    run.outcome = report.status
    run.status = choices.RunStatus.DONE
    run.finished_at = timezone.now()
    run.refresh_from_db(fields=["progress_total"])
    run.progress_done = run.progress_total
    restore_check = next((c for c in repo_report.checks if c.name == "restore"), None)
    if restore_check and "restore_seconds" in restore_check.details:
        run.restore_seconds = restore_check.details["restore_seconds"]
    run.save()
    by_key = {f"s{s.pk}": s for s in systems}
    for sreport in report.systems:
        system = by_key[sreport.name]
        fresh = next((c for c in sreport.checks if c.name == "freshness"), None)
        if fresh is None:
            continue
        if fresh.status != "error":
            system.last_backup_at = sreport.newest
            system.backup_interval_hours = sreport.interval_hours
        system.freshness_status = fresh.status
        system.last_checked_at = run.finished_at
        system.save(
            update_fields=[
                "last_backup_at",
                "backup_interval_hours",
                "freshness_status",
                "last_checked_at",
            ]
        )
        _apply_check(
            repo.organisation,
            f"system:{system.pk}:freshness",
            fresh,
            choices.AlertKind.STALE,
            choices.Severity.CRITICAL,
            f"{system.name} : sauvegarde trop ancienne",
        )
    for check in repo_report.checks:
        if check.name not in CHECK_ALERTS:
            continue
        kind, severity = CHECK_ALERTS[check.name]
        if check.name == "integrity" and check.status == "error":
            kind = choices.AlertKind.ACCESS
        _apply_check(
            repo.organisation,
            f"repo:{repo.pk}:{check.name}",
            check,
            kind,
            severity,
            f"{repo.name} : {kind.label}",
        )
    audit.record(
        None,
        "backups.run_done",
        run,
        repo.organisation,
        f"{run.get_kind_display()} de {repo.name} : {run.get_outcome_display()}",
    )
    if run.kind == choices.RunKind.RESTORE and run.outcome == "ok" and run.business_referent:
        transaction.on_commit(lambda: _restore_evidence_safely(run.pk))
    return run


def _apply_check(organisation, key, check, kind, severity, subject) -> None:
    if check.status in ("ok", "skipped"):
        resolve_alerts(organisation, key)
    elif check.status in ("failed", "error", "warning"):
        raise_alert(
            organisation,
            key,
            kind,
            severity if check.status != "warning" else choices.Severity.WARNING,
            subject,
            check.message,
        )


# ---------------------------------------------------------------- alerts


def raise_alert(organisation, key, kind, severity, subject, message) -> Alert:
    """Open an alert (or refresh the open one with the same key); e-mail it when new."""
    alert = Alert.objects.filter(
        organisation=organisation, key=key, resolved_at__isnull=True
    ).first()
    if alert:
        alert.message = message
        alert.severity = severity
        alert.save(update_fields=["message", "severity", "last_seen_at"])
        return alert
    alert = Alert.objects.create(
        organisation=organisation,
        key=key,
        kind=kind,
        severity=severity,
        subject=subject[:255],
        message=message,
        procedure=PROCEDURES[kind],
    )
    audit.record(None, "backups.alert", alert, organisation, subject)
    transaction.on_commit(lambda: notify(alert.pk))
    return alert


def resolve_alerts(organisation, key) -> int:
    """Close the open alert of a key (the check passes again)."""
    return Alert.objects.filter(
        organisation=organisation, key=key, resolved_at__isnull=True
    ).update(resolved_at=timezone.now())


def recipients(organisation: Organisation) -> list[str]:
    """E-mail addresses of the RSSI responsible for an organisation (its own or its GHT's)."""
    ancestors = [organisation.pk, *organisation.ancestors().values_list("pk", flat=True)]
    assignments = RoleAssignment.objects.filter(
        role__in=NOTIFIED_ROLES, user__is_active=True
    ).filter(
        Q(organisation_id=organisation.pk) | Q(organisation_id__in=ancestors, include_subtree=True)
    )
    return sorted({a.user.email for a in assignments.select_related("user") if a.user.email})


def notify(alert_id: int) -> None:
    """E-mail a new alert once, with its procedure."""
    alert = Alert.objects.select_related("organisation").get(pk=alert_id)
    if alert.notified_at:
        return
    to = recipients(alert.organisation)
    if to:
        send_mail(
            f"[careops] Alerte sauvegarde — {alert.subject}",
            f"{alert.organisation.name}\n\n{alert.get_kind_display()} "
            f"({alert.get_severity_display()})\n{alert.message}\n\n"
            f"Procédure :\n{alert.procedure}\n",
            None,
            to,
        )
    Alert.objects.filter(pk=alert.pk).update(notified_at=timezone.now())


def acknowledge(user, alert: Alert, comment: str) -> Alert:
    """Acknowledge an alert with a comment (an RSSI of its organisation or GHT)."""
    _require(user, "manage", alert)
    if not comment.strip():
        raise ValidationError({"comment": ["Un commentaire est obligatoire pour acquitter."]})
    alert.acknowledged_by = user
    alert.acknowledged_at = timezone.now()
    alert.ack_comment = comment.strip()
    alert.save(update_fields=["acknowledged_by", "acknowledged_at", "ack_comment"])
    audit.record(
        user, "backups.alert_ack", alert, alert.organisation, f"alerte acquittée : {alert.subject}"
    )
    return alert


# ---------------------------------------------------------------- job reports


def import_job_report(user, organisation: Organisation, content: bytes, name: str, fmt="auto"):
    """Ingest a job report (JSON or CSV); duplicates are ignored. Returns (new, total)."""
    _require(user, "change", organisation)
    try:
        jobs = parse_job_report(content, fmt, name)
    except engine_errors.ConfigError as exc:
        logger.warning("job report refused for organisation %s: %s", organisation.pk, exc)
        raise ValidationError({"file": [str(exc)]}) from exc
    created = 0
    with transaction.atomic():
        for job in jobs:
            _, new = JobRecord.objects.get_or_create(
                organisation=organisation,
                system_name=job.system[:200],
                job=job.job[:200],
                finished_at=job.finished,
                defaults={
                    "status": job.status,
                    "started_at": job.started,
                    "size_bytes": job.size_bytes,
                    "message": job.message,
                    "source": name[:255],
                },
            )
            created += new
        audit.record(
            user,
            "backups.jobs_import",
            None,
            organisation,
            f"{name} : {created} tâche(s) nouvelle(s)",
        )
        evaluate_job_systems(organisation)
    return created, len(jobs)


def evaluate_job_systems(organisation: Organisation | None = None, now=None) -> int:
    """Freshness and failure alerts for systems fed by job reports. Returns systems checked."""
    from careops.backups.engine.freshness import freshness

    now = now or timezone.now()
    systems = ProtectedSystem.objects.exclude(job_name="").select_related("organisation")
    if organisation is not None:
        systems = systems.filter(organisation=organisation)
    count = 0
    resolver = ObjectiveResolver()
    for system in systems:
        jobs = JobRecord.objects.filter(
            organisation=system.organisation, system_name=system.job_name
        )
        rpo_hours = resolver.objectives(system).rpo_hours
        if rpo_hours is None:
            continue  # a BIA that lost its PDMA: nothing to judge, nothing counted as fresh
        successes = list(
            jobs.filter(status__in=["success", "warning"])
            .order_by("-finished_at")
            .values_list("finished_at", flat=True)[:2]
        )
        last_ok = jobs.filter(status__in=["success", "warning"]).order_by("-finished_at").first()
        result = freshness(
            last_ok.finished_at if last_ok else None, rpo_hours, now, "rapport de tâches"
        )
        system.last_backup_at = last_ok.finished_at if last_ok else None
        system.backup_interval_hours = (
            round((successes[0] - successes[1]).total_seconds() / 3600, 3)
            if len(successes) == 2
            else None
        )
        system.freshness_status = result.status
        system.last_checked_at = now
        system.save(
            update_fields=[
                "last_backup_at",
                "backup_interval_hours",
                "freshness_status",
                "last_checked_at",
            ]
        )
        _apply_check(
            system.organisation,
            f"system:{system.pk}:freshness",
            result,
            choices.AlertKind.STALE,
            choices.Severity.CRITICAL,
            f"{system.name} : sauvegarde trop ancienne",
        )
        failed = jobs.filter(status="failed")
        if last_ok:
            failed = failed.filter(finished_at__gt=last_ok.finished_at)
        key = f"system:{system.pk}:jobs"
        latest_failure = failed.order_by("-finished_at").first()
        if latest_failure:
            raise_alert(
                system.organisation,
                key,
                choices.AlertKind.JOB_FAILED,
                choices.Severity.WARNING,
                f"{system.name} : tâche « {latest_failure.job} » en échec",
                latest_failure.message or "échec signalé par le rapport de tâches",
            )
        else:
            resolve_alerts(system.organisation, key)
        count += 1
    return count


# ---------------------------------------------------------------- evidence


def _today() -> dt.date:
    return compliance.today_in_paris()


def supported_activities(system: ProtectedSystem) -> list[str]:
    """Codes of the BIA activities that need the resource the system is linked to, directly
    or through other resources (the D2.O1.C activities a restore test of it serves)."""
    resource = system.resource
    if resource is None:
        return []
    campaign = resource.campaign
    graph: dict[str, list[str]] = {}
    for source, target in campaign.dependencies.values_list("source", "target__code"):
        graph.setdefault(source, []).append(target)
    codes = campaign.activities.values_list("code", flat=True)
    return sorted(code for code in codes if resource.code in reachable(graph, code))


def restore_test_evidence(user, run: VerificationRun):
    """A successful restore test with its business referent → evidence of D2.O4."""
    if run.kind != choices.RunKind.RESTORE or run.outcome != "ok":
        raise ValidationError("Seul un test de restauration réussi peut servir de preuve.")
    if not run.business_referent:
        raise ValidationError({"business_referent": ["Le référent métier est obligatoire."]})
    if run.evidence_id:
        return run.evidence
    check = next(c for c in run.result["repositories"][0]["checks"] if c["name"] == "restore")
    when = timezone.localtime(run.finished_at).date()
    evidence = compliance.create_evidence(
        user,
        run.organisation,
        "restore_test",
        f"Test de restauration — {run.protected_system.name} ({run.repository.name})",
        compliance.RevisionInput(
            effective_date=when,
            attributes={
                "business_referent": run.business_referent,
                "scope": f"{run.protected_system.name} depuis {run.repository.name}",
                # D2.O4 (referential 1.1): the BIA activities the restored IS supports
                "activities": supported_activities(run.protected_system),
                "restore_seconds": run.restore_seconds,
                "files": check["details"].get("files"),
                "checksums": check["message"],
                "run_id": run.pk,
            },
            comment="Produit par careops (test de restauration automatisé).",
        ),
        item_codes=["D2.O4"],
        source="backups",
    )
    VerificationRun.objects.filter(pk=run.pk).update(evidence=evidence)
    run.evidence = evidence
    return evidence


def _restore_evidence_safely(run_id: int) -> None:
    run = VerificationRun.objects.select_related("protected_system", "repository").get(pk=run_id)
    try:
        restore_test_evidence(run.requested_by, run)
    except (PermissionDenied, ValidationError) as exc:
        logger.warning("restore run %s: no evidence (%s)", run_id, exc)


def system_evidence(user, system: BackupSystem) -> list:
    """The 2FA declaration and role description of a backup system → evidence of D2.O3.A."""
    attributes = {
        "status": system.twofa_status,
        "product": system.product,
        "version": system.version,
    }
    if system.twofa_status == choices.TwoFactor.IMPLEMENTED:
        attributes["proof"] = system.twofa_proof
    elif system.twofa_status == choices.TwoFactor.SUPPORTED_DISABLED:
        attributes["justification"] = system.twofa_justification
    made = [
        compliance.create_evidence(
            user,
            system.organisation,
            "backup_2fa",
            f"Déclaration 2FA — {system.name}",
            compliance.RevisionInput(effective_date=_today(), attributes=attributes),
            item_codes=["D2.O3.A"],
            source="backups",
        )
    ]
    if system.operator_roles.strip():
        made.append(
            compliance.create_evidence(
                user,
                system.organisation,
                "backup_roles",
                f"Rôles d'accès à la sauvegarde — {system.name}",
                compliance.RevisionInput(
                    effective_date=_today(),
                    attributes={
                        "auth_mode": system.auth_mode,
                        "operator_roles": system.operator_roles,
                    },
                ),
                item_codes=["D2.O3.A"],
                source="backups",
            )
        )
    return made


def trajectory_evidence(user, trajectory: Trajectory):
    """A trajectory with its milestones → evidence of D2.O3.B (isolation) or D2.O3.C (3-2-1)."""
    isolation = trajectory.kind == choices.TrajectoryKind.ISOLATION
    return compliance.create_evidence(
        user,
        trajectory.organisation,
        "backup_isolation_plan" if isolation else "backup_321_plan",
        trajectory.title,
        compliance.RevisionInput(
            effective_date=_today(),
            attributes={
                "target_date": trajectory.target_date.isoformat(),
                "target_reached": trajectory.target_reached,
                "milestones": [
                    {
                        "label": m.label,
                        "due_date": m.due_date.isoformat(),
                        "done_on": m.done_on.isoformat() if m.done_on else None,
                    }
                    for m in trajectory.milestones.all()
                ],
            },
        ),
        item_codes=["D2.O3.B" if isolation else "D2.O3.C"],
        source="backups",
    )


def monitoring_report_evidence(user, organisation: Organisation, days: int = 30):
    """A supervision report of the last ``days`` days → evidence of D2.O3.D."""
    since = timezone.now() - dt.timedelta(days=days)
    subtree = organisation.subtree()
    runs = VerificationRun.objects.filter(organisation__in=subtree, created_at__gte=since)
    alerts = Alert.objects.filter(organisation__in=subtree, opened_at__gte=since)
    systems = ProtectedSystem.objects.filter(organisation__in=subtree)
    if not systems.exists() and not runs.exists():
        raise ValidationError(
            _(
                "Rien à rapporter : aucun système protégé et aucune vérification sur les "
                "%(days)s derniers jours. Un rapport de supervision vide n'est pas une preuve : "
                "déclarez d'abord les systèmes protégés et leurs vérifications."
            )
            % {"days": days}
        )
    attributes = {
        "period_days": days,
        "runs": runs.count(),
        "runs_ok": runs.filter(outcome="ok").count(),
        "alerts": alerts.count(),
        "alerts_acknowledged": alerts.exclude(acknowledged_at=None).count(),
        "alerts_open": alerts.filter(resolved_at=None).count(),
        "systems": systems.count(),
        "systems_fresh": systems.filter(freshness_status="ok").count(),
    }
    return compliance.create_evidence(
        user,
        organisation,
        "backup_monitoring_report",
        f"Rapport de supervision des sauvegardes ({days} jours)",
        compliance.RevisionInput(effective_date=_today(), attributes=attributes),
        item_codes=["D2.O3.D"],
        source="backups",
    )


def backup_plan_evidence(user, organisation: Organisation):
    """The protected systems with RPO/RTO and repositories → evidence of D2.O2.B (plans)."""
    systems = ProtectedSystem.objects.filter(organisation__in=organisation.subtree())
    resolver = ObjectiveResolver()
    return compliance.create_evidence(
        user,
        organisation,
        "backup_plan",
        "Plan de sauvegarde (inventaire careops)",
        compliance.RevisionInput(
            effective_date=_today(),
            attributes={
                "systems": [
                    {
                        "name": s.name,
                        "rpo_hours": o.rpo_hours,
                        "rto_hours": o.rto_hours,
                        "objectives_source": o.label,
                        "repository": s.repository.name if s.repository else s.job_name,
                    }
                    for s in systems.select_related("repository", "resource__campaign")
                    for o in [resolver.objectives(s)]
                ]
            },
        ),
        item_codes=["D2.O2.B"],
        source="backups",
    )


# ---------------------------------------------------------------- for the continuity module


def _capability(system: ProtectedSystem, resolver: ObjectiveResolver) -> dict:
    last_restore = (
        system.runs.filter(kind=choices.RunKind.RESTORE, outcome=choices.Outcome.OK)
        .exclude(restore_seconds=None)
        .order_by("-finished_at")
        .first()
    )
    age = None
    if system.last_backup_at and system.last_checked_at:
        age = round((system.last_checked_at - system.last_backup_at).total_seconds() / 3600, 3)
    measured = [v for v in (age, system.backup_interval_hours) if v is not None]
    objectives = resolver.objectives(system)
    return {
        "system_id": system.pk,
        "name": system.name,
        "organisation_id": system.organisation_id,
        "rpo_hours": objectives.rpo_hours,
        "rto_hours": objectives.rto_hours,
        "objectives_source": objectives.label,
        "resource_id": system.resource_id,
        "resource_code": system.resource.code if system.resource_id else None,
        "backup_age_hours": age,
        "backup_interval_hours": system.backup_interval_hours,
        "achieved_rpo_hours": max(measured) if measured else None,
        "last_backup_at": system.last_backup_at,
        "last_checked_at": system.last_checked_at,
        "restore_hours": round(last_restore.restore_seconds / 3600, 4) if last_restore else None,
        "restore_tested_at": last_restore.finished_at if last_restore else None,
    }


def achieved_capabilities(organisation: Organisation) -> list[dict]:
    """Per protected system of an organisation's subtree: the achieved restore capability.

    ``restore_hours`` is the duration of the last successful restore test (the measured RTO
    capability the continuity module compares with the objective); ``backup_age_hours`` the age
    of the newest backup at the last check and ``backup_interval_hours`` the interval between
    the two newest restore points (their maximum, ``achieved_rpo_hours``, is compared with the
    RPO); ``rpo_hours``/``rto_hours`` are the effective objectives (inherited from the BIA when
    the system is linked to a resource).
    """
    systems = ProtectedSystem.objects.filter(organisation__in=organisation.subtree())
    resolver = ObjectiveResolver()
    return [
        _capability(system, resolver)
        for system in systems.select_related("organisation", "resource__campaign")
    ]


def linked_capabilities(organisation: Organisation, user=None) -> list[dict]:
    """The achieved capabilities of the protected systems linked to a BIA resource of one
    entity's campaigns (any version); with ``user``, only the systems the user may see."""
    systems = ProtectedSystem.objects.filter(resource__campaign__organisation=organisation)
    if user is not None:
        systems = scope.restrict(systems, user)
    resolver = ObjectiveResolver()
    return [
        _capability(system, resolver)
        for system in systems.select_related("organisation", "resource__campaign")
    ]
