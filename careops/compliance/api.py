"""/api/assessments, /api/evidence and /api/files: assessments, evidence and its files.

Reads go through the restriction helper; writes go through ``careops.compliance.services``,
which check the rights and the input and answer in French.
"""

import datetime as dt
import json
from contextlib import contextmanager
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.db.models import Max, Prefetch
from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import FilterLookup, FilterSchema, Form, Query, Router, Schema, Status, UploadedFile
from ninja.errors import HttpError
from ninja.pagination import paginate
from ninja.params import File
from pydantic import field_validator

from careops.catalogue.engine.dossier import DossierError
from careops.catalogue.engine.schema import normalize_item_id
from careops.catalogue.models import ReferentialVersion
from careops.compliance import library, services
from careops.compliance.choices import Validator
from careops.compliance.models import (
    Assessment,
    Evidence,
    EvidenceFile,
    EvidenceRevision,
    ItemStatus,
)
from careops.core import storage
from careops.core.api import (
    NOT_FOUND,
    READ_ERRORS,
    WRITE_ERRORS,
    current_user,
    service_errors,
    visible_or_404,
)
from careops.tenancy import scope
from careops.tenancy.models import Organisation

router = Router(tags=["conformité"])


def _request_user(context: dict[str, Any]):
    return current_user(context["request"])


@contextmanager
def _evaluable():
    """Writes recompute statuses: a dossier the engine refuses (an unknown declared fact…)
    is an input error, answered 422 in French; the service's transaction is rolled back."""
    try:
        yield
    except DossierError as exc:
        raise ValidationError(
            [f"Le dossier ne peut pas être évalué : {p.message}" for p in exc.problems]
        ) from exc


# --- assessments -----------------------------------------------------------------------------


class AssessmentOut(Schema):
    id: int
    candidate: int
    candidate_name: str
    referential_version: int
    domain: str
    version: str
    candidacy_date: dt.date | None
    filing_date: dt.date | None
    facts: dict[str, Any]
    progress: float
    evaluated_at: dt.datetime | None
    created_at: dt.datetime

    @staticmethod
    def resolve_candidate(obj: Assessment) -> int:
        return obj.candidate_id

    @staticmethod
    def resolve_candidate_name(obj: Assessment) -> str:
        return obj.candidate.name

    @staticmethod
    def resolve_referential_version(obj: Assessment) -> int:
        return obj.referential_version_id

    @staticmethod
    def resolve_domain(obj: Assessment) -> str:
        return obj.referential_version.domain

    @staticmethod
    def resolve_version(obj: Assessment) -> str:
        return obj.referential_version.version


class ItemStatusOut(Schema):
    code: str
    status: str
    status_label: str
    reasons: list[Any]

    @staticmethod
    def resolve_code(obj: ItemStatus) -> str:
        return obj.item_code

    @staticmethod
    def resolve_status_label(obj: ItemStatus) -> str:
        return str(obj.get_status_display())


class AssessmentDetailOut(AssessmentOut):
    statuses: list[ItemStatusOut]

    @staticmethod
    def resolve_statuses(obj: Assessment, context):
        statuses = ItemStatus.objects.filter(assessment=obj).order_by("pk")
        return scope.restrict(statuses, _request_user(context))


class ConflictOut(Schema):
    detail: str
    id: int


class AssessmentFilter(FilterSchema):
    candidate: Annotated[int | None, FilterLookup("candidate_id")] = None
    referential_version: Annotated[int | None, FilterLookup("referential_version_id")] = None


class AssessmentIn(Schema):
    candidate: int
    referential_version: int
    candidacy_date: dt.date | None = None
    facts: dict[str, Any] = {}


class AssessmentPatch(Schema):
    candidacy_date: dt.date | None = None
    filing_date: dt.date | None = None
    facts: dict[str, Any] | None = None


def _assessments(request):
    queryset = Assessment.objects.select_related("candidate", "referential_version")
    return scope.restrict(queryset, current_user(request))


@router.get("/assessments", response=list[AssessmentOut])
@paginate
def list_assessments(request, filters: Query[AssessmentFilter]):
    """The assessments of the candidates the user may see; filter by candidate or version."""
    return filters.filter(_assessments(request)).order_by("candidate__path", "pk")


@router.get("/assessments/{assessment_id}", response={200: AssessmentDetailOut, **READ_ERRORS})
def get_assessment(request, assessment_id: int):
    """One assessment with each item's computed status and the reasons for it."""
    return visible_or_404(_assessments(request), request, assessment_id)


@router.post("/assessments", response={201: AssessmentDetailOut, 409: ConflictOut, **WRITE_ERRORS})
@service_errors
def create_assessment(request, payload: AssessmentIn):
    """Open a candidate's assessment on a referential version; it is evaluated at once."""
    user = current_user(request)
    candidate = visible_or_404(Organisation.objects.all(), request, payload.candidate)
    version = ReferentialVersion.objects.filter(pk=payload.referential_version).first()
    if version is None:
        raise HttpError(404, NOT_FOUND)
    existed = (
        _assessments(request).filter(candidate=candidate, referential_version=version).exists()
    )
    with _evaluable():
        assessment = services.open_assessment(
            user, candidate, version, candidacy_date=payload.candidacy_date, facts=payload.facts
        )
    if existed:
        return Status(
            409,
            {
                "detail": f"Une évaluation de « {candidate.name} » sur {version} existe déjà "
                f"(n° {assessment.pk}) : modifiez-la plutôt.",
                "id": assessment.pk,
            },
        )
    return Status(201, visible_or_404(_assessments(request), request, assessment.pk))


@router.patch("/assessments/{assessment_id}", response={200: AssessmentDetailOut, **WRITE_ERRORS})
@service_errors
def update_assessment(request, assessment_id: int, payload: AssessmentPatch):
    """Change the candidacy or filing date or the declared facts; the statuses are recomputed."""
    assessment = visible_or_404(_assessments(request), request, assessment_id)
    changes = payload.model_dump(exclude_unset=True)
    if "facts" in changes and changes["facts"] is None:
        changes["facts"] = {}
    with _evaluable():
        services.update_assessment(current_user(request), assessment, **changes)
    return visible_or_404(_assessments(request), request, assessment.pk)


# --- evidence --------------------------------------------------------------------------------


class FileOut(Schema):
    id: int
    name: str
    size: int
    sha256: str
    content_type: str
    url: str

    @staticmethod
    def resolve_name(obj: EvidenceFile) -> str:
        return obj.original_name

    @staticmethod
    def resolve_url(obj: EvidenceFile) -> str:
        return reverse("api:download_file", kwargs={"file_id": obj.pk})


class RevisionOut(Schema):
    number: int
    effective_date: dt.date
    expires_on: dt.date | None
    validated_by: str
    attributes: dict[str, Any]
    entities: list[int]
    comment: str
    author: str | None
    uploaded_at: dt.datetime
    files: list[FileOut]

    @staticmethod
    def resolve_entities(obj: EvidenceRevision) -> list[int]:
        return [entity.pk for entity in obj.entities.all()]

    @staticmethod
    def resolve_author(obj: EvidenceRevision) -> str | None:
        return obj.author.get_username() if obj.author else None

    @staticmethod
    def resolve_files(obj: EvidenceRevision):
        return obj.files.all()


class EvidenceOut(Schema):
    id: int
    organisation: int
    organisation_name: str
    kind: str
    title: str
    item_codes: list[str]
    source: str
    created_at: dt.datetime
    current_revision: int | None

    @staticmethod
    def resolve_organisation(obj: Evidence) -> int:
        return obj.organisation_id

    @staticmethod
    def resolve_organisation_name(obj: Evidence) -> str:
        return obj.organisation.name


class EvidenceDetailOut(EvidenceOut):
    revisions: list[RevisionOut]

    @staticmethod
    def resolve_revisions(obj: Evidence, context):
        user = _request_user(context)
        revisions = EvidenceRevision.objects.filter(evidence=obj).select_related("author")
        return scope.restrict(revisions, user).prefetch_related(
            Prefetch("files", scope.restrict(EvidenceFile.objects.order_by("pk"), user)),
            Prefetch("entities", scope.restrict(Organisation.objects.all(), user)),
        )


class EvidenceFilter(FilterSchema):
    organisation: Annotated[int | None, FilterLookup("organisation_id")] = None
    kind: Annotated[str | None, FilterLookup("kind")] = None


class RevisionForm(Schema):
    """The fields of a revision, sent as multipart form fields next to the files."""

    effective_date: dt.date
    expires_on: dt.date | None = None
    validated_by: str = ""
    attributes: str = ""
    entities: list[int] = []
    comment: str = ""

    @field_validator("expires_on", mode="before")
    @classmethod
    def _blank_is_none(cls, value):
        return None if value == "" else value


class EvidenceForm(RevisionForm):
    organisation: int
    kind: str
    title: str = ""
    item_codes: list[str] = []


def _revision_input(request, form: RevisionForm, files) -> services.RevisionInput:
    """Parse the form fields that need more than a type; ValidationError in French."""
    errors: dict[str, list[str]] = {}
    attributes: dict[str, Any] = {}
    if form.attributes.strip():
        try:
            attributes = json.loads(form.attributes)
        except ValueError:
            attributes = None
        if not isinstance(attributes, dict):
            errors["attributes"] = ["Les attributs doivent être un objet JSON ({…})."]
    if form.validated_by not in Validator.values:
        errors["validated_by"] = [
            f"« {form.validated_by} » n'est pas une validation connue "
            f"(valeurs : {', '.join(v for v in Validator.values if v)})."
        ]
    entity_ids = sorted(set(form.entities))
    visible = scope.restrict(Organisation.objects.filter(pk__in=entity_ids), current_user(request))
    if entity_ids and visible.count() != len(entity_ids):
        errors["entities"] = [
            "Les entités couvertes doivent appartenir à l'organisation de la preuve."
        ]
    if errors:
        raise ValidationError(errors)
    return services.RevisionInput(
        effective_date=form.effective_date,
        expires_on=form.expires_on,
        validated_by=form.validated_by,
        attributes=attributes,
        entity_ids=entity_ids,
        comment=form.comment,
        files=list(files or []),
    )


def _item_codes(values: list[str]) -> list[str]:
    codes: list[str] = []
    for value in values:
        for part in value.split(","):
            if not part.strip():
                continue
            try:
                code = normalize_item_id(part)
            except ValueError as exc:
                raise ValidationError({"item_codes": [str(exc)]}) from exc
            if code not in codes:
                codes.append(code)
    return codes


def _evidence(request):
    queryset = Evidence.objects.select_related("organisation").annotate(
        current_revision=Max("revisions__number")
    )
    return scope.restrict(queryset, current_user(request))


@router.get("/evidence", response=list[EvidenceOut])
@paginate
def list_evidence(request, filters: Query[EvidenceFilter]):
    """The evidence the user may see, newest first; filter by organisation or kind."""
    return filters.filter(_evidence(request)).order_by("-created_at", "-pk")


@router.get("/evidence/{evidence_id}", response={200: EvidenceDetailOut, **READ_ERRORS})
def get_evidence(request, evidence_id: int):
    """One piece of evidence with all its revisions, newest first, and their files."""
    return visible_or_404(_evidence(request), request, evidence_id)


@router.post("/evidence", response={201: EvidenceDetailOut, **WRITE_ERRORS})
@service_errors
def create_evidence(
    request,
    form: Form[EvidenceForm],
    files: File[list[UploadedFile]] = None,
):
    """Deposit a piece of evidence (multipart): its first revision and files, checked first."""
    organisation = visible_or_404(Organisation.objects.all(), request, form.organisation)
    kind = form.kind.strip()
    known = dict(library.kind_choices())
    if kind and known and kind not in known:  # the page offers only these; so does the API
        raise ValidationError(
            {
                "kind": [
                    _(
                        "Type de preuve inconnu « %(kind)s » : les types acceptés sont ceux des "
                        "référentiels en vigueur (GET /api/referential/versions/N, evidence_kinds)."
                    )
                    % {"kind": kind}
                ]
            }
        )
    with _evaluable():
        evidence = services.create_evidence(
            current_user(request),
            organisation,
            kind=kind,
            title=form.title.strip(),
            data=_revision_input(request, form, files),
            item_codes=_item_codes(form.item_codes),
        )
    return Status(201, visible_or_404(_evidence(request), request, evidence.pk))


@router.post("/evidence/{evidence_id}/revisions", response={201: EvidenceDetailOut, **WRITE_ERRORS})
@service_errors
def create_revision(
    request,
    evidence_id: int,
    form: Form[RevisionForm],
    files: File[list[UploadedFile]] = None,
):
    """Add a revision (multipart) to a piece of evidence; earlier revisions stay as they were."""
    evidence = visible_or_404(_evidence(request), request, evidence_id)
    with _evaluable():
        services.add_revision(
            current_user(request), evidence, _revision_input(request, form, files)
        )
    return Status(201, visible_or_404(_evidence(request), request, evidence.pk))


@router.get("/files/{file_id}", response=READ_ERRORS, url_name="download_file")
def download_file(request, file_id: int):
    """Download an evidence file, as an attachment, with the type it was checked as."""
    stored = visible_or_404(EvidenceFile.objects.all(), request, file_id)
    try:
        content = storage.open_for_download(stored.file)
    except storage.StorageError as exc:
        raise HttpError(500, str(exc)) from exc
    return FileResponse(
        content,
        as_attachment=True,
        filename=stored.original_name,
        content_type=stored.content_type,
    )
