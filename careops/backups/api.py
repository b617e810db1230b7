"""/api/backups: protected systems, alerts, runs (request, progress) and job-report import.

Reads go through the restriction helper; writes go through ``careops.backups.services``.
"""

import datetime as dt
from typing import Any

from django.db import transaction
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from careops.backups import choices, services
from careops.backups.models import Alert, ProtectedSystem, Repository, VerificationRun
from careops.backups.objectives import objectives_of
from careops.core.api import READ_ERRORS, WRITE_ERRORS, current_user, service_errors, visible_or_404
from careops.tenancy import scope
from careops.tenancy.models import Organisation

router = Router(tags=["sauvegardes"])


class ProtectedSystemOut(Schema):
    id: int
    organisation_id: int
    name: str
    rpo_hours: float | None  # effective: typed, or inherited from the linked BIA resource
    rto_hours: float | None
    typed_rpo_hours: float | None
    typed_rto_hours: float | None
    resource_id: int | None
    objectives_source: str
    repository_id: int | None
    job_name: str
    last_backup_at: dt.datetime | None
    last_checked_at: dt.datetime | None
    freshness_status: str

    @staticmethod
    def resolve_rpo_hours(obj) -> float | None:
        return objectives_of(obj).rpo_hours

    @staticmethod
    def resolve_rto_hours(obj) -> float | None:
        return objectives_of(obj).rto_hours

    @staticmethod
    def resolve_typed_rpo_hours(obj) -> float | None:
        return obj.rpo_hours

    @staticmethod
    def resolve_typed_rto_hours(obj) -> float | None:
        return obj.rto_hours

    @staticmethod
    def resolve_objectives_source(obj) -> str:
        return objectives_of(obj).label


class AlertOut(Schema):
    id: int
    organisation_id: int
    kind: str
    severity: str
    subject: str
    message: str
    procedure: str
    opened_at: dt.datetime
    resolved_at: dt.datetime | None
    acknowledged_at: dt.datetime | None
    ack_comment: str


class BackupRunOut(Schema):
    id: int
    organisation_id: int
    repository_id: int
    protected_system_id: int | None
    kind: str
    status: str
    outcome: str
    progress_done: int
    progress_total: int
    progress_label: str
    restore_seconds: float | None
    business_referent: str
    evidence_id: int | None
    result: dict[str, Any]
    created_at: dt.datetime
    finished_at: dt.datetime | None


class BackupRunIn(Schema):
    kind: str = "verify"
    protected_system: int | None = None
    business_referent: str = ""


class AckIn(Schema):
    comment: str


class JobReportIn(Schema):
    organisation: int
    name: str = "api"
    format: str = "auto"
    content: str


class ImportOut(Schema):
    created: int
    total: int


@router.get("/systems", response=list[ProtectedSystemOut])
@paginate
def list_systems(request):
    """Protected systems with their RPO/RTO and the freshness of their newest backup."""
    return (
        scope.restrict(ProtectedSystem.objects.all(), current_user(request))
        .select_related("resource__campaign")
        .order_by("pk")
    )


@router.get("/alerts", response=list[AlertOut])
@paginate
def list_alerts(request, open_only: bool = True):
    """Supervision alerts the user may see (a GHT's RSSI sees those of all its members)."""
    queryset = scope.restrict(Alert.objects.all(), current_user(request))
    if open_only:
        queryset = queryset.filter(resolved_at=None)
    return queryset.order_by("-opened_at", "pk")


@router.post("/alerts/{alert_id}/acknowledge", response={200: AlertOut, **WRITE_ERRORS})
@service_errors
def acknowledge_alert(request, alert_id: int, payload: AckIn):
    """Acknowledge an alert with a comment."""
    alert = visible_or_404(Alert.objects.all(), request, alert_id)
    return services.acknowledge(current_user(request), alert, payload.comment)


@router.post("/repositories/{repository_id}/runs", response={201: BackupRunOut, **WRITE_ERRORS})
@service_errors
def create_run(request, repository_id: int, payload: BackupRunIn):
    """Queue a verification or a restore test; poll ``/runs/{id}`` for its progress."""
    repository = visible_or_404(Repository.objects.all(), request, repository_id)
    if payload.kind not in choices.RunKind.values:
        raise HttpError(422, "Type de vérification inconnu (verify ou restore).")
    system = None
    if payload.kind == choices.RunKind.RESTORE:
        system = visible_or_404(
            ProtectedSystem.objects.all(), request, payload.protected_system or 0
        )
    with transaction.atomic():
        run = services.request_run(
            current_user(request), repository, payload.kind, system, payload.business_referent
        )
    run.refresh_from_db()
    return Status(201, run)


@router.get("/runs/{run_id}", response={200: BackupRunOut, **READ_ERRORS})
def get_run(request, run_id: int):
    """One run with its progress and, when finished, its checks."""
    return visible_or_404(VerificationRun.objects.all(), request, run_id)


@router.post("/job-reports", response={201: ImportOut, **WRITE_ERRORS})
@service_errors
def import_job_report(request, payload: JobReportIn):
    """Ingest another product's job report (JSON or CSV text); duplicates are ignored."""
    organisation = visible_or_404(Organisation.objects.all(), request, payload.organisation)
    created, total = services.import_job_report(
        current_user(request), organisation, payload.content.encode(), payload.name, payload.format
    )
    return Status(201, {"created": created, "total": total})
