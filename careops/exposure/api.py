"""/api/exposure: assets, audits (start, progress, report) and findings (remediation).

Reads go through the restriction helper; writes go through ``careops.exposure.services``.
"""

import datetime as dt
from typing import Any

from ninja import Router, Schema
from ninja.pagination import paginate

from careops.core.api import READ_ERRORS, WRITE_ERRORS, current_user, service_errors, visible_or_404
from careops.exposure import reports, services
from careops.exposure.models import Asset, Finding, ScanRun
from careops.tenancy import scope
from careops.tenancy.models import Organisation

router = Router(tags=["exposition"])


class AssetIn(Schema):
    organisation: int
    value: str


class AssetOut(Schema):
    id: int
    organisation_id: int
    kind: str
    value: str
    status: str
    txt_name: str
    txt_value: str
    holder: str  # the range's holder as the approver saw it
    resolved_from_id: int | None  # the verified name this address was found behind


class ExposureRunIn(Schema):
    organisation: int


class ExposureRunOut(Schema):
    id: int
    organisation_id: int
    status: str
    hosts_total: int
    hosts_done: int
    progress: float
    exposure_level: str
    minimum_level_met: bool | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
    scope: dict[str, Any]


class FindingOut(Schema):
    id: int
    organisation_id: int
    rule: str
    severity: str
    host: str
    port: int | None
    title: str
    status: str
    owner: str
    due_date: dt.date | None
    cves: list[str]
    kev: bool


class FindingIn(Schema):
    status: str
    owner: str = ""
    due_date: dt.date | None = None
    justification: str = ""
    risk_expires_on: dt.date | None = None


@router.get("/assets", response=list[AssetOut])
@paginate
def list_assets(request):
    """Declared assets in the caller's scope, with their DNS TXT challenge."""
    return scope.restrict(Asset.objects.all(), current_user(request))


@router.post("/assets", response={201: AssetOut, **WRITE_ERRORS})
@service_errors
def create_asset(request, payload: AssetIn):
    """Declare a domain, host name or IP range (to be verified)."""
    organisation = visible_or_404(Organisation.objects.all(), request, payload.organisation)
    return 201, services.declare_asset(current_user(request), organisation, payload.value)


@router.get("/runs", response=list[ExposureRunOut])
@paginate
def list_runs(request):
    """Audits in the caller's scope, newest first."""
    return scope.restrict(ScanRun.objects.all(), current_user(request))


@router.post("/runs", response={201: ExposureRunOut, **WRITE_ERRORS})
@service_errors
def create_run(request, payload: ExposureRunIn):
    """Queue an audit of the organisation's verified scope; poll ``/runs/{id}``."""
    organisation = visible_or_404(Organisation.objects.all(), request, payload.organisation)
    return 201, services.start_run(current_user(request), organisation)


@router.get("/runs/{run_id}", response={200: ExposureRunOut, **READ_ERRORS})
def get_run(request, run_id: int):
    """One audit and its progress."""
    return visible_or_404(ScanRun.objects.all(), request, run_id)


@router.get("/runs/{run_id}/report", response={200: dict[str, Any], **READ_ERRORS})
def get_report(request, run_id: int):
    """The audit report (scope, summary, findings by criticality, prioritised plan)."""
    return reports.report_data(visible_or_404(ScanRun.objects.all(), request, run_id))


@router.get("/findings", response=list[FindingOut])
@paginate
def list_findings(request, status: str | None = None):
    """Tracked findings in the caller's scope."""
    findings = scope.restrict(Finding.objects.all(), current_user(request))
    return findings.filter(status=status) if status else findings


@router.patch("/findings/{finding_id}", response={200: FindingOut, **WRITE_ERRORS})
@service_errors
def update_finding(request, finding_id: int, payload: FindingIn):
    """Remediation: owner, due date, status, or an accepted risk with justification and expiry."""
    finding = visible_or_404(Finding.objects.all(), request, finding_id)
    return services.update_finding(current_user(request), finding, **payload.dict())
