"""/api/directory: AD domains, their audits and results (reads restricted by scope)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Router, Schema

from careops.core.api import READ_ERRORS, WRITE_ERRORS, current_user, service_errors, visible_or_404
from careops.directory import services
from careops.directory.models import Audit, AuditSource, Domain
from careops.tenancy import scope

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
def list_domains(request):
    """Domains the user may see."""
    return list(scope.restrict(Domain.objects.all(), current_user(request)))


@router.get("/domains/{domain_id}/audits", response={200: list[AuditOut], **READ_ERRORS})
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
