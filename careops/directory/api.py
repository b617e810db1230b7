"""/api/directory: AD domains, their audits and results (reads restricted by scope)."""

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from careops.core.api import (
    FORBIDDEN,
    READ_ERRORS,
    WRITE_ERRORS,
    current_user,
    service_errors,
    visible_or_404,
)
from careops.directory import services
from careops.directory.models import Audit, AuditSource, Domain
from careops.tenancy import scope
from careops.tenancy.models import Organisation

router = Router(tags=["annuaires"])


class DomainOut(Schema):
    id: int
    organisation_id: int
    name: str
    server_url: str
    dedicated_backup: bool
    convergence_status: str
    target_forest: str
    has_credentials: bool


class AuditOut(Schema):
    id: int
    domain_id: int
    source: str
    status: str
    progress: int
    message: str
    level: int | None
    level_complete: bool
    failing_count: int
    collected_at: dt.datetime | None
    evidence_id: int | None


class AuditResultOut(AuditOut):
    result: dict[str, Any]


@router.get("/domains", response=list[DomainOut])
@paginate
def list_domains(request):
    """Domains the user may see."""
    return list(scope.restrict(Domain.objects.all(), current_user(request)))


@router.get("/domains/{domain_id}/audits", response={200: list[AuditOut], **READ_ERRORS})
@paginate
def list_audits(request, domain_id: int):
    """Audits of one domain, newest first."""
    domain = visible_or_404(Domain.objects.all(), request, domain_id)
    return list(domain.audits.all())


@router.post("/domains/{domain_id}/audits", response={201: AuditOut, **WRITE_ERRORS})
@service_errors
def start_audit(request, domain_id: int):
    """Queue an LDAP audit of the domain (its stored read-only account is used)."""
    domain = visible_or_404(Domain.objects.all(), request, domain_id)
    return 201, services.start_audit(current_user(request), domain, AuditSource.LDAP)


@router.get("/audits/{audit_id}", response={200: AuditResultOut, **READ_ERRORS})
def get_audit(request, audit_id: int):
    """One audit with its full result (points, objects, paths, completeness)."""
    return visible_or_404(Audit.objects.all(), request, audit_id)


class MilestoneOut(Schema):
    id: int
    organisation_id: int
    title: str
    due_date: dt.date
    done_on: dt.date | None
    state: str
    domain_ids: list[int]
    note: str


class MilestoneIn(Schema):
    title: str
    due_date: dt.date
    done_on: dt.date | None = None
    domain_ids: list[int] = []
    note: str = ""


def _milestone_out(row: dict) -> dict[str, Any]:
    m = row["milestone"]
    return {
        "id": m.pk,
        "organisation_id": m.organisation_id,
        "title": m.title,
        "due_date": m.due_date,
        "done_on": m.done_on,
        "state": row["state"],
        "domain_ids": [d.pk for d in row["domains"]],
        "note": m.note,
    }


@router.get("/ghts/{ght_id}/milestones", response={200: list[MilestoneOut], **READ_ERRORS})
@paginate
def list_milestones(request, ght_id: int):
    """Milestones of a GHT's AD convergence trajectory, by due date, with their state today
    (done, late, upcoming)."""
    ght = visible_or_404(Organisation.objects.all(), request, ght_id)
    return [_milestone_out(r) for r in services.milestone_rows(current_user(request), ght)]


@router.post("/ghts/{ght_id}/milestones", response={201: MilestoneOut, **WRITE_ERRORS})
@service_errors
def add_milestone(request, ght_id: int, payload: MilestoneIn):
    """Add a milestone to the GHT's trajectory; its domains must lie under the GHT."""
    user = current_user(request)
    ght = visible_or_404(Organisation.objects.all(), request, ght_id)
    if not scope.can(user, "change", ght):  # before looking at the domains it names
        raise PermissionDenied(FORBIDDEN)
    domains = list(scope.restrict(Domain.objects.all(), user).filter(pk__in=payload.domain_ids))
    if len(domains) != len(set(payload.domain_ids)):
        raise ValidationError({"domains": ["Domaine inconnu ou hors de votre périmètre."]})
    milestone = services.add_milestone(
        user,
        ght,
        payload.title,
        payload.due_date,
        domains=domains,
        note=payload.note,
        done_on=payload.done_on,
    )
    row = next(r for r in services.milestone_rows(user, ght) if r["milestone"].pk == milestone.pk)
    return Status(201, _milestone_out(row))
