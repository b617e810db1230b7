"""/api/exposure: assets, audits (start, progress, report) and findings (remediation).

Reads go through the restriction helper; writes go through ``careops.exposure.services``.
"""

import datetime as dt
from typing import Any

from ninja import Field, Router, Schema
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
    # how the asset is proven: "dns_txt" for a name (publish txt_value at txt_name, then POST
    # /assets/{id}/verify), "attestation" for an address range (POST /assets/{id}/attest, then an
    # ARS instructor or an administrator approves it)
    verification: str
    txt_name: str | None
    txt_value: str | None
    verification_note: str
    holder: str  # the range's holder as the approver saw it
    resolved_from_id: int | None  # the verified name this address was found behind

    @staticmethod
    def resolve_verification(asset) -> str:
        return "attestation" if asset.is_network else "dns_txt"

    @staticmethod
    def resolve_txt_name(asset) -> str | None:
        return None if asset.is_network else asset.txt_name

    @staticmethod
    def resolve_txt_value(asset) -> str | None:
        return None if asset.is_network else asset.txt_value


class AttestationIn(Schema):
    attestation: str


class ApprovalIn(Schema):
    approve: bool = True
    holder: str = ""


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
    owner: str = Field("", max_length=150)  # the column's width (a 500 on PostgreSQL beyond)
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


@router.get("/assets/{asset_id}", response={200: AssetOut, **READ_ERRORS})
def get_asset(request, asset_id: int):
    """One declared asset and where its proof stands."""
    return visible_or_404(Asset.objects.all(), request, asset_id)


@router.post("/assets/{asset_id}/verify", response={200: AssetOut, **WRITE_ERRORS})
@service_errors
def verify_asset(request, asset_id: int):
    """Look the name's TXT token up in the DNS now; ``status`` says whether it was found and
    ``verification_note`` what was read."""
    asset = visible_or_404(Asset.objects.all(), request, asset_id)
    services.verify_domain(current_user(request), asset)
    return asset


@router.post("/assets/{asset_id}/attest", response={200: AssetOut, **WRITE_ERRORS})
@service_errors
def attest_asset(request, asset_id: int, payload: AttestationIn):
    """Attest that the organisation holds the address range (holder, RIPE reference, contract);
    an ARS instructor of the region or an administrator then approves it."""
    asset = visible_or_404(Asset.objects.all(), request, asset_id)
    return services.attest_range(current_user(request), asset, payload.attestation)


@router.post("/assets/{asset_id}/approve", response={200: AssetOut, **WRITE_ERRORS})
@service_errors
def approve_asset(request, asset_id: int, payload: ApprovalIn):
    """Approve (or reject, ``approve: false``) an attested range, with its holder as seen."""
    asset = visible_or_404(Asset.objects.all(), request, asset_id)
    return services.approve_range(
        current_user(request), asset, approve=payload.approve, holder=payload.holder
    )


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
