"""/api/remote-access: paths (list, detail, create/update), reviews, attestations.

Reads go through the restriction helper (a vendor sees only the paths they were invited on);
writes go through ``careops.remote_access.services``. Uploaded sources are sent as text.
"""

import base64
import datetime as dt
from typing import Any

from django.db import transaction
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from careops.core.api import READ_ERRORS, WRITE_ERRORS, current_user, service_errors, visible_or_404
from careops.remote_access import services
from careops.remote_access.forms import AccessPathForm
from careops.remote_access.models import AccessPath, Attestation, Review
from careops.tenancy import scope
from careops.tenancy.models import Organisation

router = Router(tags=["accès distants"])


class RemoteAccessPathOut(Schema):
    id: int
    organisation_id: int
    ref: str
    name: str
    population: str
    vendor: str
    technology: str
    entry_point: str
    internet_exposed: bool | None
    auth_factors: list[str]
    account_model: str
    accounts: list[str]
    directory: str
    activation: str
    session_recording: bool | None
    logs_to_siem: bool | None
    through_bastion: bool | None
    contract_security_clauses: bool | None
    workstation_requirements: bool | None
    targets: list[str]
    target_networks: list[str]
    last_access_review: dt.date | None
    status: str

    @staticmethod
    def resolve_targets(obj) -> list[str]:
        return [r.code for r in obj.targets.all()]


class RemoteAccessPathIn(Schema):
    organisation: int
    ref: str
    name: str
    population: str
    technology: str
    vendor: str = ""
    entry_point: str = ""
    internet_exposed: bool | None = None
    auth_factors: list[str] = []
    account_model: str = ""
    accounts: list[str] = []
    directory: str = ""
    activation: str = ""
    business_owner: str = ""
    technical_owner: str = ""
    justification: str = ""
    session_recording: bool | None = None
    recording_retention_days: int | None = None
    logs_to_siem: bool | None = None
    log_retention_days: int | None = None
    through_bastion: bool | None = None
    target_networks: list[str] = []
    vpn_connection: str = ""
    status: str = "active"


class RemoteAccessReviewOut(Schema):
    id: int
    organisation_id: int
    created_at: dt.datetime
    score: int | None
    band: str
    paths_count: int
    blocking_count: int
    undeclared_count: int
    evidence_id: int | None
    sources: dict[str, Any]


class RemoteAccessReviewDetailOut(RemoteAccessReviewOut):
    result: dict[str, Any]


class RemoteAccessFileIn(Schema):
    name: str
    content_base64: str


class RemoteAccessReviewIn(Schema):
    organisation: int
    exposure: dict[str, Any] | None = None
    use_latest_exposure: bool = True
    ad_dump_base64: str | None = None
    vpn_configs: list[RemoteAccessFileIn] = []
    bastion_logs: list[RemoteAccessFileIn] = []


class RemoteAccessImportIn(Schema):
    organisation: int
    workbook_base64: str


class RemoteAccessImportOut(Schema):
    created: int
    updated: int


class RemoteAccessAttestationIn(Schema):
    contract_security_clauses: bool
    workstation_requirements: bool
    technicians: str
    comment: str = ""


class RemoteAccessDecisionIn(Schema):
    accept: bool
    comment: str = ""


class RemoteAccessAttestationOut(Schema):
    id: int
    path_id: int
    submitted_at: dt.datetime
    contract_security_clauses: bool
    workstation_requirements: bool
    technicians: str
    status: str
    decision_comment: str
    evidence_id: int | None


def _decode(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except ValueError as exc:
        raise HttpError(422, f"{what} : base64 invalide.") from exc


@router.get("/paths", response=list[RemoteAccessPathOut])
@paginate
def list_paths(request):
    """Access paths the user may see (a vendor: only their own)."""
    return services.visible_paths(current_user(request)).prefetch_related("targets").order_by("pk")


@router.get("/paths/{path_id}", response={200: RemoteAccessPathOut, **READ_ERRORS})
def get_path(request, path_id: int):
    path = services.visible_paths(current_user(request)).filter(pk=path_id).first()
    if path is None:
        raise HttpError(404, "Objet introuvable.")
    return path


def _save_path(request, payload: RemoteAccessPathIn, instance=None):
    user = current_user(request)
    data = payload.dict()
    data["accounts"] = ", ".join(data["accounts"])
    data["target_networks"] = ", ".join(data["target_networks"])
    for key in ("internet_exposed", "session_recording", "logs_to_siem", "through_bastion"):
        data[key] = "" if data[key] is None else ("true" if data[key] else "false")
    if instance is not None:
        data["targets"] = [r.pk for r in instance.targets.all()]
    form = AccessPathForm(data, instance=instance, user=user)
    if not form.is_valid():
        raise HttpError(422, "; ".join(f"{k} : {' '.join(v)}" for k, v in form.errors.items()))
    if not scope.can(user, "change", form.cleaned_data["organisation"]):
        raise HttpError(403, "Vous ne pouvez pas modifier cette organisation.")
    return form.save()


@router.post("/paths", response={201: RemoteAccessPathOut, **WRITE_ERRORS})
@service_errors
def create_path(request, payload: RemoteAccessPathIn):
    """Declare an access path."""
    visible_or_404(Organisation.objects.all(), request, payload.organisation, "change")
    with transaction.atomic():
        path = _save_path(request, payload)
    return Status(201, path)


@router.put("/paths/{path_id}", response={200: RemoteAccessPathOut, **WRITE_ERRORS})
@service_errors
def update_path(request, path_id: int, payload: RemoteAccessPathIn):
    """Replace an access path's declared fields (its BIA targets are kept)."""
    path = visible_or_404(AccessPath.objects.all(), request, path_id, "change")
    with transaction.atomic():
        return _save_path(request, payload, path)


@router.post("/inventory/import", response={201: RemoteAccessImportOut, **WRITE_ERRORS})
@service_errors
def import_paths(request, payload: RemoteAccessImportIn):
    """Import an inventory workbook (.xlsx, base64); all or nothing, problems listed (422)."""
    organisation = visible_or_404(
        Organisation.objects.all(), request, payload.organisation, "change"
    )
    created, updated = services.import_inventory(
        current_user(request), organisation, _decode(payload.workbook_base64, "classeur")
    )
    return Status(201, {"created": created, "updated": updated})


@router.get("/reviews", response=list[RemoteAccessReviewOut])
@paginate
def list_reviews(request):
    """Reviews (engine runs), newest first: the trend between reviews."""
    return scope.restrict(Review.objects.all(), current_user(request)).order_by(
        "-created_at", "-pk"
    )


@router.get("/reviews/{review_id}", response={200: RemoteAccessReviewDetailOut, **READ_ERRORS})
def get_review(request, review_id: int):
    """One review with every path's checks, the undeclared paths and the remediation list."""
    return visible_or_404(Review.objects.all(), request, review_id)


@router.post("/reviews", response={201: RemoteAccessReviewDetailOut, **WRITE_ERRORS})
@service_errors
def create_review(request, payload: RemoteAccessReviewIn):
    """Evaluate an organisation's paths with the sources given (files in base64)."""
    organisation = visible_or_404(
        Organisation.objects.all(), request, payload.organisation, "change"
    )
    review = services.run_review(
        current_user(request),
        organisation,
        exposure_json=payload.exposure,
        ad_dump=_decode(payload.ad_dump_base64, "collecte AD") if payload.ad_dump_base64 else None,
        vpn_files=[(f.name, _decode(f.content_base64, f.name)) for f in payload.vpn_configs],
        bastion_files=[(f.name, _decode(f.content_base64, f.name)) for f in payload.bastion_logs],
        use_latest_exposure=payload.use_latest_exposure,
    )
    return Status(201, review)


@router.post(
    "/paths/{path_id}/attestations", response={201: RemoteAccessAttestationOut, **WRITE_ERRORS}
)
@service_errors
def create_attestation(request, path_id: int, payload: RemoteAccessAttestationIn):
    """A vendor attests one of their own paths."""
    path = services.visible_paths(current_user(request)).filter(pk=path_id).first()
    if path is None:
        raise HttpError(404, "Objet introuvable.")
    attestation = services.submit_attestation(current_user(request), path, **payload.dict())
    return Status(201, attestation)


@router.post(
    "/attestations/{attestation_id}/decision",
    response={200: RemoteAccessAttestationOut, **WRITE_ERRORS},
)
@service_errors
def decide_attestation(request, attestation_id: int, payload: RemoteAccessDecisionIn):
    """The RSSI accepts or rejects an attestation (a refusal needs its reason)."""
    attestation = visible_or_404(Attestation.objects.all(), request, attestation_id, "manage")
    return services.decide_attestation(
        current_user(request), attestation, payload.accept, payload.comment
    )
