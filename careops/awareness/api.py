"""/api/awareness/: training campaigns and the share of staff trained, staff headcounts,
phishing exercises (GoPhish), and the imports a security team automates (sign-in sheets or LMS
exports, headcount files, GoPhish « Results » exports, as multipart uploads).

Every list and object goes through ``scope.restrict`` exactly as the pages do; every write
goes through ``careops.awareness.services`` (the same checks, all-or-nothing imports and
French refusals as the pages).
"""

import datetime as dt

from django.core.exceptions import ValidationError
from ninja import Form, Query, Router, Schema, Status, UploadedFile
from ninja.errors import HttpError
from ninja.pagination import paginate
from ninja.params import File
from pydantic import Field

from careops.awareness import services
from careops.awareness.engine import training as engine
from careops.awareness.models import (
    Attendance,
    PhishingCampaign,
    SessionFormat,
    StaffHeadcount,
    TrainingCampaign,
    TrainingSession,
)
from careops.compliance.services import today_in_paris
from careops.core.api import (
    NOT_FOUND,
    READ_ERRORS,
    WRITE_ERRORS,
    ErrorOut,
    current_user,
    service_errors,
    visible_or_404,
)
from careops.tenancy import scope
from careops.tenancy.models import Organisation

router = Router(tags=["sensibilisation"])

RATES = ("opened", "clicked", "submitted", "reported")


def _split(text: str) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


# --- schemas -------------------------------------------------------------------------------------


class ShareOut(Schema):
    label: str
    trained: int
    headcount: int
    share: float | None


class StructureShareOut(ShareOut):
    organisation: int | None  # None: a structure frozen at closing before its id was kept
    professions: list[ShareOut]


class ReportOut(Schema):
    start: dt.date
    end: dt.date
    total: ShareOut
    structures: list[StructureShareOut]
    professions: list[ShareOut]
    warnings: list[str]


class TrainingCampaignOut(Schema):
    id: int
    organisation: int
    organisation_name: str
    title: str
    audience_professions: list[str]
    audience_services: list[str]
    starts_on: dt.date
    ends_on: dt.date
    status: str
    closed_at: dt.datetime | None
    evidence_id: int | None
    # one rule with the page: a closed campaign's share is the one frozen at closing
    # (``share_frozen`` true), an open one's is live
    trained: int
    headcount: int
    share: float | None
    share_frozen: bool

    @staticmethod
    def resolve_organisation(obj: TrainingCampaign) -> int:
        return obj.organisation_id

    @staticmethod
    def resolve_organisation_name(obj: TrainingCampaign) -> str:
        return obj.organisation.name

    @staticmethod
    def resolve_audience_professions(obj: TrainingCampaign) -> list[str]:
        return _split(obj.audience_professions)

    @staticmethod
    def resolve_audience_services(obj: TrainingCampaign) -> list[str]:
        return _split(obj.audience_services)

    @staticmethod
    def resolve_trained(obj: TrainingCampaign, context) -> int:
        return _figures(obj, context)[0].total.trained

    @staticmethod
    def resolve_headcount(obj: TrainingCampaign, context) -> int:
        return _figures(obj, context)[0].total.headcount

    @staticmethod
    def resolve_share(obj: TrainingCampaign, context) -> float | None:
        return _figures(obj, context)[0].total.share

    @staticmethod
    def resolve_share_frozen(obj: TrainingCampaign, context) -> bool:
        return _figures(obj, context)[1]


def _figures(campaign: TrainingCampaign, context) -> tuple[engine.Report, bool]:
    """``services.campaign_figures`` once per campaign and answer."""
    if not hasattr(campaign, "api_figures"):
        user = current_user(context["request"])
        campaign.api_figures = services.campaign_figures(user, campaign)
    return campaign.api_figures


class SessionOut(Schema):
    id: int
    date: dt.date
    trainer: str
    format: str
    topic: str
    source_name: str
    imported_at: dt.datetime | None
    attendances: int


class TrainingCampaignDetailOut(TrainingCampaignOut):
    sessions: list[SessionOut]
    report: ReportOut

    @staticmethod
    def resolve_sessions(obj: TrainingCampaign) -> list[dict]:
        return obj.api_sessions

    @staticmethod
    def resolve_report(obj: TrainingCampaign) -> dict:
        return obj.api_report


class CampaignIn(Schema):
    organisation: int
    title: str = Field(min_length=1, max_length=200)
    audience_professions: list[str] = []
    audience_services: list[str] = []
    starts_on: dt.date
    ends_on: dt.date


class SessionIn(Schema):
    date: dt.date
    trainer: str = Field("", max_length=200)
    format: SessionFormat = SessionFormat.IN_PERSON
    topic: str = Field("", max_length=200)


class AttendanceImportForm(Schema):
    default_structure: int | None = None


class AttendanceImportOut(Schema):
    session: int
    file: str
    rows: int
    present: int
    absent: int
    people: int
    merged: list[list[int]]
    outside: int


class HeadcountOut(Schema):
    id: int
    organisation: int
    organisation_name: str
    profession: str
    headcount: int
    updated_at: dt.datetime

    @staticmethod
    def resolve_organisation(obj: StaffHeadcount) -> int:
        return obj.organisation_id

    @staticmethod
    def resolve_organisation_name(obj: StaffHeadcount) -> str:
        return obj.organisation.name


class HeadcountIn(Schema):
    organisation: int
    profession: str = Field(min_length=1, max_length=150)
    headcount: int = Field(ge=0, le=1_000_000)


class HeadcountImportForm(Schema):
    organisation: int


class HeadcountImportOut(Schema):
    rows: int


class ReportQuery(Schema):
    organisation: int
    end: dt.date | None = None
    months: int = Field(services.DEFAULT_MONTHS, ge=1, le=120)


class CountsOut(Schema):
    delivered: int
    opened: int
    clicked: int
    submitted: int
    reported: int
    opened_rate: float | None
    clicked_rate: float | None
    submitted_rate: float | None
    reported_rate: float | None


class PhishingOut(CountsOut):
    id: int
    organisation: int
    organisation_name: str
    name: str
    started_on: dt.date | None
    targets: int
    evidence_id: int | None
    imported_at: dt.datetime
    replaced_at: dt.datetime | None
    imports: int


class PhishingDetailOut(PhishingOut):
    by_position: dict[str, CountsOut]
    unknown_statuses: dict[str, int]


class PhishingImportForm(Schema):
    organisation: int
    name: str = Field("", max_length=200)
    replace: bool = False


class PhishingImportOut(PhishingDetailOut):
    message: str


# --- helpers -------------------------------------------------------------------------------------


def _share(share: engine.Share) -> dict:
    return {
        "label": share.label,
        "trained": share.trained,
        "headcount": share.headcount,
        "share": share.share,
    }


def _report(report: engine.Report) -> dict:
    return {
        "start": report.start,
        "end": report.end,
        "total": _share(report.total),
        "structures": [
            {
                **_share(s.total),
                "label": s.label,
                "organisation": int(s.key) if s.key.isdigit() else None,
                "professions": [_share(p) for p in s.professions],
            }
            for s in report.structures
        ],
        "professions": [_share(p) for p in report.professions],
        "warnings": report.warnings,
    }


def _campaigns(request):
    return scope.restrict(
        TrainingCampaign.objects.select_related("organisation"), current_user(request)
    )


def _campaign_detail(request, campaign: TrainingCampaign) -> TrainingCampaign:
    """The campaign with its sessions and live share attached (``TrainingCampaignDetailOut``)."""
    user = current_user(request)
    sessions = scope.restrict(TrainingSession.objects.filter(campaign=campaign), user)
    attendances = scope.restrict(Attendance.objects.filter(session__campaign=campaign), user)
    counts: dict[int, int] = {}
    for session_id in attendances.values_list("session_id", flat=True):
        counts[session_id] = counts.get(session_id, 0) + 1
    campaign.api_sessions = [
        {
            "id": s.pk,
            "date": s.date,
            "trainer": s.trainer,
            "format": s.format,
            "topic": s.topic,
            "source_name": s.source_name,
            "imported_at": s.imported_at,
            "attendances": counts.get(s.pk, 0),
        }
        for s in sessions.order_by("date", "pk")
    ]
    campaign.api_figures = services.campaign_figures(user, campaign)
    campaign.api_report = _report(campaign.api_figures[0])
    return campaign


def _phishing(campaign: PhishingCampaign, detail: bool = False) -> dict:
    data = {
        "id": campaign.pk,
        "organisation": campaign.organisation_id,
        "organisation_name": campaign.organisation.name,
        "name": campaign.name,
        "started_on": campaign.started_on,
        "targets": campaign.targets,
        "delivered": campaign.delivered,
        **{k: getattr(campaign, k) for k in RATES},
        **{f"{k}_rate": campaign.rate(k) for k in RATES},
        "evidence_id": campaign.evidence_id,
        "imported_at": campaign.imported_at,
        "replaced_at": campaign.replaced_at,
        "imports": campaign.imports,
    }
    if detail:
        positions = {}
        for position, counts in sorted(campaign.by_position.items()):
            delivered = counts.get("delivered") or 0
            positions[position] = {
                "delivered": delivered,
                **{k: counts.get(k, 0) for k in RATES},
                **{f"{k}_rate": counts.get(k, 0) / delivered if delivered else None for k in RATES},
            }
        data["by_position"] = positions
        data["unknown_statuses"] = campaign.unknown_statuses
    return data


def _organisation(request, pk: int) -> Organisation:
    return visible_or_404(Organisation.objects.all(), request, pk)


# --- training campaigns --------------------------------------------------------------------------


@router.get("/training-campaigns", response=list[TrainingCampaignOut])
@paginate
def list_training_campaigns(request):
    """The training campaigns the user may see, newest first, with their share of staff
    trained: frozen at closing for a closed campaign (``share_frozen``), live for an open one."""
    return _campaigns(request).order_by("-starts_on", "-pk")


@router.get(
    "/training-campaigns/{campaign_id}", response={200: TrainingCampaignDetailOut, **READ_ERRORS}
)
def get_training_campaign(request, campaign_id: int):
    """One campaign: its sessions (attendance lines the user may see) and its share of staff
    trained per structure and profession (its attendance over its audience's headcount)."""
    return _campaign_detail(request, visible_or_404(_campaigns(request), request, campaign_id))


@router.post("/training-campaigns", response={201: TrainingCampaignDetailOut, **WRITE_ERRORS})
@service_errors
def create_training_campaign(request, payload: CampaignIn):
    """Create a training campaign for an organisation in the user's scope."""
    organisation = _organisation(request, payload.organisation)
    campaign = services.create_campaign(
        current_user(request),
        organisation,
        title=payload.title.strip(),
        audience_professions=", ".join(p.strip() for p in payload.audience_professions)[:500],
        audience_services=", ".join(s.strip() for s in payload.audience_services)[:500],
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
    )
    return Status(201, _campaign_detail(request, campaign))


@router.post(
    "/training-campaigns/{campaign_id}/sessions", response={201: SessionOut, **WRITE_ERRORS}
)
@service_errors
def create_session(request, campaign_id: int, payload: SessionIn):
    """Add a session to an open campaign."""
    campaign = visible_or_404(_campaigns(request), request, campaign_id)
    session = services.add_session(
        current_user(request),
        campaign,
        date=payload.date,
        trainer=payload.trainer.strip(),
        format=payload.format,
        topic=payload.topic.strip(),
    )
    return Status(
        201,
        {
            "id": session.pk,
            "date": session.date,
            "trainer": session.trainer,
            "format": session.format,
            "topic": session.topic,
            "source_name": session.source_name,
            "imported_at": session.imported_at,
            "attendances": 0,
        },
    )


@router.post(
    "/training-campaigns/{campaign_id}/sessions/{session_id}/attendance",
    response={200: AttendanceImportOut, **WRITE_ERRORS},
)
@service_errors
def import_attendance(
    request,
    campaign_id: int,
    session_id: int,
    form: Form[AttendanceImportForm],
    sheet: File[UploadedFile],
):
    """Import a session's sign-in sheet or LMS export (multipart ``sheet``: CSV or XLSX); it
    replaces the session's attendance, all or nothing (422 with every bad line in French).
    ``default_structure``: the structure of lines that name none (default: the campaign's)."""
    campaign = visible_or_404(_campaigns(request), request, campaign_id)
    session = visible_or_404(TrainingSession.objects.filter(campaign=campaign), request, session_id)
    default = None
    if form.default_structure is not None:
        default = _organisation(request, form.default_structure)
    summary = services.import_attendance(current_user(request), session, sheet, default)
    return {"session": session.pk, **summary}


@router.post(
    "/training-campaigns/{campaign_id}/close",
    response={200: TrainingCampaignDetailOut, **WRITE_ERRORS},
)
@service_errors
def close_training_campaign(request, campaign_id: int):
    """Close a campaign: its share is frozen and filed as AAPMS.O3 evidence."""
    campaign = visible_or_404(_campaigns(request), request, campaign_id)
    services.close_campaign(current_user(request), campaign)
    campaign.refresh_from_db()
    return _campaign_detail(request, campaign)


# --- headcounts and shares -----------------------------------------------------------------------


@router.get("/headcounts", response=list[HeadcountOut])
@paginate
def list_headcounts(request, organisation: int | None = None):
    """Staff headcounts per structure and profession (``organisation``: that node's subtree)."""
    found = scope.restrict(
        StaffHeadcount.objects.select_related("organisation"), current_user(request)
    )
    if organisation is not None:
        node = Organisation.objects.filter(pk=organisation).first()
        found = found.filter(organisation__path__startswith=node.path) if node else found.none()
    return found.order_by("organisation__path", "profession")


@router.post("/headcounts", response={200: HeadcountOut, **WRITE_ERRORS})
@service_errors
def save_headcount(request, payload: HeadcountIn):
    """Set a structure's headcount in a profession (replaces the same profession's)."""
    organisation = _organisation(request, payload.organisation)
    return services.save_headcount(
        current_user(request), organisation, payload.profession, payload.headcount
    )


@router.post("/headcounts/import", response={200: HeadcountImportOut, **WRITE_ERRORS})
@service_errors
def import_headcounts(request, form: Form[HeadcountImportForm], sheet: File[UploadedFile]):
    """Import a headcount file (multipart ``sheet``: Structure — optional —, Profession,
    Effectif; CSV or XLSX); each line replaces its structure's and profession's; all or nothing."""
    node = _organisation(request, form.organisation)
    return {"rows": services.import_headcounts(current_user(request), node, sheet)}


@router.get("/shares", response={200: ReportOut, 404: ErrorOut, 422: ErrorOut})
@service_errors
def shares(request, query: Query[ReportQuery]):
    """Share of staff trained over ``months`` months ending ``end`` (today by default) in the
    organisation's subtree, per structure and per profession, with the roll-up."""
    node = _organisation(request, query.organisation)
    end = query.end or today_in_paris()
    if end > today_in_paris() + dt.timedelta(days=366):
        raise ValidationError({"end": ["La fin de la période est à plus d'un an."]})
    return _report(services.report(current_user(request), node, end, query.months))


# --- phishing exercises --------------------------------------------------------------------------


def _phishing_campaigns(request):
    return scope.restrict(
        PhishingCampaign.objects.select_related("organisation"), current_user(request)
    )


@router.get("/phishing-campaigns", response=list[PhishingOut])
@paginate
def list_phishing_campaigns(request):
    """The phishing exercises the user may see, oldest first (their evolution), with rates over
    the e-mails delivered."""
    return [_phishing(c) for c in _phishing_campaigns(request).order_by("started_on", "pk")[:5000]]


@router.get("/phishing-campaigns/{campaign_id}", response={200: PhishingDetailOut, **READ_ERRORS})
def get_phishing_campaign(request, campaign_id: int):
    """One phishing exercise, with its rates per position (counts only, never a target)."""
    found = _phishing_campaigns(request).filter(pk=campaign_id).first()
    if found is None:
        raise HttpError(404, NOT_FOUND)
    return _phishing(found, detail=True)


@router.delete("/phishing-campaigns/{campaign_id}", response={204: None, **WRITE_ERRORS})
@service_errors
def delete_phishing_campaign(request, campaign_id: int):
    """Delete a phishing exercise imported by mistake (204). Its evidence is kept but receives a
    last revision expiring it: it no longer counts for AAPMS.O3. 404 out of scope, 403 without
    the right to change its organisation."""
    campaign = visible_or_404(_phishing_campaigns(request), request, campaign_id)
    services.delete_phishing(current_user(request), campaign)
    return Status(204, None)


@router.post(
    "/phishing-campaigns",
    response={200: PhishingImportOut, 201: PhishingImportOut, **WRITE_ERRORS},
)
@service_errors
def import_phishing(request, form: Form[PhishingImportForm], export: File[UploadedFile]):
    """Import a GoPhish « Results » export (multipart ``export``, CSV). The same campaign
    exported again replaces its earlier import (200, ``message`` says so) instead of being
    counted twice; it is recognised by its targets' GoPhish result ids, or — when the export
    lacks them — by its name, confirmed with ``replace=true`` (422 asks for it). ``name``: the
    campaign's name (default: the file name without « - Results »)."""
    organisation = _organisation(request, form.organisation)
    campaign = services.import_phishing(
        current_user(request), organisation, export, name=form.name, replace=form.replace
    )
    data = _phishing(campaign, detail=True) | {"message": campaign.outcome}
    return Status(200 if campaign.imports > 1 else 201, data)
