"""/api/hospiconnect: measurements (exports in, indicators out) and identification means.

Reads go through the restriction helper; writes go through ``careops.hospiconnect.services``.
"""

import datetime as dt
from typing import Any

from django.db import transaction
from ninja import File, Form, Router, Schema, Status, UploadedFile
from ninja.pagination import paginate

from careops.core.api import READ_ERRORS, WRITE_ERRORS, current_user, service_errors, visible_or_404
from careops.hospiconnect import services
from careops.hospiconnect.models import IdentificationMeans, IndicatorImport, Source
from careops.tenancy import scope
from careops.tenancy.models import Organisation

router = Router(tags=["hospiconnect"])


class HospiconnectMeasurementOut(Schema):
    id: int
    organisation_id: int
    as_of: dt.date
    status: str
    progress: int
    error: str
    files: dict[str, Any]
    evidence_ids: list[int]
    result: dict[str, Any]

    @staticmethod
    def resolve_files(obj) -> dict[str, Any]:
        """The names of the exports given, never where the server keeps them."""
        return {source: {"name": f.get("name", "")} for source, f in (obj.files or {}).items()}


class HospiconnectMeasurementIn(Schema):
    organisation_id: int
    as_of: dt.date
    create_review: bool = False
    review_automatic: bool = False


class HospiconnectMeansOut(Schema):
    id: int
    organisation_id: int
    kind: str
    holder_account: str
    holder_name: str
    serial: str
    issued_on: dt.date | None
    revoked_on: dt.date | None


@router.get("/measurements", response=list[HospiconnectMeasurementOut])
@paginate
def list_measurements(request, organisation_id: int | None = None):
    """Measurements in the caller's scope, newest first (indicators in `result`)."""
    queryset = scope.restrict(IndicatorImport.objects.all(), current_user(request))
    if organisation_id is not None:
        queryset = queryset.filter(organisation_id=organisation_id)
    return queryset.order_by("-as_of", "-pk")


@router.get(
    "/measurements/{measurement_id}", response={200: HospiconnectMeasurementOut, **READ_ERRORS}
)
def get_measurement(request, measurement_id: int):
    """One measurement with its indicators, failing accounts and problems."""
    return visible_or_404(IndicatorImport.objects.all(), request, measurement_id)


@router.post("/measurements", response={202: HospiconnectMeasurementOut, **WRITE_ERRORS})
@service_errors
def create_measurement(
    request,
    form: Form[HospiconnectMeasurementIn],
    dpi: File[UploadedFile],
    mfa: File[UploadedFile] = None,
    dmp: File[UploadedFile] = None,
    ad: File[UploadedFile] = None,
):
    """Upload the exports (multipart) and queue the computation; poll the measurement for its
    status. The remembered column mapping of each export is used."""
    organisation = visible_or_404(
        Organisation.objects.all(), request, form.organisation_id, "change"
    )
    mappings = {
        source: services.remembered_mapping(organisation, source)
        for source in services.COLUMN_SOURCES
    }
    with transaction.atomic():
        run = services.start_import(
            current_user(request),
            organisation,
            form.as_of,
            {Source.DPI: dpi, Source.MFA: mfa, Source.DMP: dmp, Source.AD: ad},
            mappings,
            create_review=form.create_review,
            review_automatic=form.review_automatic,
        )
    run.refresh_from_db()
    return Status(202, run)


@router.get("/means", response=list[HospiconnectMeansOut])
@paginate
def list_means(request, organisation_id: int | None = None):
    """Electronic identification means (MIE) in the caller's scope."""
    queryset = scope.restrict(IdentificationMeans.objects.all(), current_user(request))
    if organisation_id is not None:
        queryset = queryset.filter(organisation_id=organisation_id)
    return queryset
