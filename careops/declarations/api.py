"""/api/declarations/: the whole workflow — candidacy, validation, filing, instruction,
complements, decision, payment — plus funding, the dossier download and the dashboard.

Reads go through the restriction helper (an object out of scope is 404); writes go through
``careops.declarations.services``, which check the role, the state and the window (403 / 422,
in French). There is no endpoint that changes a filed declaration.
"""

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from careops.catalogue.models import ReferentialVersion
from careops.core.api import (
    NOT_FOUND,
    READ_ERRORS,
    WRITE_ERRORS,
    current_user,
    service_errors,
    visible_or_404,
)
from careops.declarations import dashboards, exports, services
from careops.declarations import review as guarded
from careops.declarations.choices import ANS_ROLES
from careops.declarations.models import Candidacy, Declaration, ItemReview
from careops.tenancy.models import Organisation

router = Router(tags=["déclarations"])


def _candidacies(request):
    return services.visible(current_user(request)).select_related(
        "candidate", "referential_version"
    )


def _candidacy(request, pk: int) -> Candidacy:
    return visible_or_404(_candidacies(request), request, pk)


class CandidacyOut(Schema):
    id: int
    candidate: int
    candidate_name: str
    domain: str
    version: str
    state: str
    state_label: str
    region_code: str
    category: str
    applied_at: dt.datetime
    ceiling_eur: str | None
    decision: str
    amount_eur: str | None
    paid_at: dt.datetime | None
    payment_reference: str
    eligibility: list[dict[str, Any]]

    @staticmethod
    def resolve_candidate(obj: Candidacy) -> int:
        return obj.candidate_id

    @staticmethod
    def resolve_candidate_name(obj: Candidacy) -> str:
        return obj.candidate.name

    @staticmethod
    def resolve_version(obj: Candidacy) -> str:
        return obj.referential_version.version

    @staticmethod
    def resolve_state_label(obj: Candidacy) -> str:
        return str(obj.get_state_display())

    @staticmethod
    def resolve_ceiling_eur(obj: Candidacy) -> str | None:
        return None if obj.ceiling_eur is None else str(obj.ceiling_eur)

    @staticmethod
    def resolve_amount_eur(obj: Candidacy) -> str | None:
        return None if obj.amount_eur is None else str(obj.amount_eur)


class ReviewOut(Schema):
    id: int
    item_code: str
    level: str
    verdict: str
    message: str
    due_date: dt.date | None
    at: dt.datetime
    is_current: bool
    answered_at: dt.datetime | None


class TransitionOut(Schema):
    name: str
    from_state: str
    to_state: str
    at: dt.datetime
    comment: str


class CandidacyDetailOut(CandidacyOut):
    transitions: list[TransitionOut]
    reviews: list[ReviewOut]
    declaration_sha256: str | None
    funding: dict[str, Any]
    actions: dict[str, bool]

    @staticmethod
    def resolve_transitions(obj: Candidacy) -> list:
        return list(obj.transitions.all())

    @staticmethod
    def resolve_reviews(obj: Candidacy) -> list:
        declaration = getattr(obj, "declaration", None)
        return list(declaration.reviews.all()) if declaration else []

    @staticmethod
    def resolve_declaration_sha256(obj: Candidacy) -> str | None:
        declaration = getattr(obj, "declaration", None)
        return declaration.content_sha256 if declaration else None

    @staticmethod
    def resolve_funding(obj: Candidacy) -> dict:
        return services.funding_of(obj)

    @staticmethod
    def resolve_actions(obj: Candidacy, context) -> dict:
        return services.actions_for(current_user(context["request"]), obj)


class DeclarationOut(Schema):
    candidacy: int
    filed_at: dt.datetime
    filing_date: dt.date
    representative_name: str
    representative_title: str
    attestation: str
    content_sha256: str
    verified: bool
    snapshot: dict[str, Any]

    @staticmethod
    def resolve_candidacy(obj: Declaration) -> int:
        return obj.candidacy_id

    @staticmethod
    def resolve_verified(obj: Declaration) -> bool:
        return obj.verify()


class ApplyIn(Schema):
    candidate: int
    referential_version: int


class ValidateIn(Schema):
    ceiling_eur: str
    comment: str = ""


class CommentIn(Schema):
    comment: str = ""


class FileIn(Schema):
    representative_name: str
    representative_title: str
    attested: bool = False
    review_fingerprint: str = ""


class DecideIn(Schema):
    comment: str = ""
    confirmed: bool = False


class OpinionIn(Schema):
    verdict: str
    message: str = ""
    due_date: dt.date | None = None


class ReviewPageIn(Schema):
    opinions: dict[str, OpinionIn] = {}
    rest_compliant: bool = False


class ReviewIn(Schema):
    item_code: str
    verdict: str
    message: str = ""
    due_date: dt.date | None = None


class AnswerIn(Schema):
    message: str
    revisions: list[int] = []


class PaymentIn(Schema):
    reference: str


class EligibilityOut(Schema):
    eligible: bool
    reasons: list[str]
    checks: list[str]
    notes: list[str]


@router.get("/candidacies", response=list[CandidacyOut])
@paginate
def list_candidacies(request, domain: str | None = None, state: str | None = None):
    """Candidacies in the user's scope, newest first."""
    qs = _candidacies(request)
    if domain:
        qs = qs.filter(domain=domain.upper())
    if state:
        qs = qs.filter(state=state)
    return list(qs[:500])


@router.get("/candidacies/{candidacy_id}", response={200: CandidacyDetailOut, **READ_ERRORS})
def get_candidacy(request, candidacy_id: int):
    return _candidacy(request, candidacy_id)


@router.get("/eligibility", response={200: EligibilityOut, **READ_ERRORS})
def check_eligibility(request, candidate: int, referential_version: int):
    """Whether a candidate is eligible to a domain version, and why (or why not)."""
    organisation = visible_or_404(Organisation.objects.all(), request, candidate)
    version = ReferentialVersion.objects.filter(pk=referential_version).first()
    if version is None:
        raise HttpError(404, NOT_FOUND)
    result = services.check_eligibility(organisation, version)
    return {
        "eligible": result.eligible,
        "reasons": result.reasons,
        "checks": result.checks,
        "notes": result.notes,
    }


@router.post("/candidacies", response={201: CandidacyDetailOut, **WRITE_ERRORS})
@service_errors
def apply(request, payload: ApplyIn):
    """Apply to a domain (candidacy window open, candidate eligible)."""
    candidate = visible_or_404(Organisation.objects.all(), request, payload.candidate)
    version = ReferentialVersion.objects.filter(pk=payload.referential_version).first()
    if version is None:
        raise HttpError(404, NOT_FOUND)
    candidacy = services.apply(current_user(request), candidate, version)
    return Status(201, _candidacy(request, candidacy.pk))


@router.post(
    "/candidacies/{candidacy_id}/validate", response={200: CandidacyDetailOut, **WRITE_ERRORS}
)
@service_errors
def validate(request, candidacy_id: int, payload: ValidateIn):
    """ARS: validate a candidacy and set its funding ceiling."""
    candidacy = _candidacy(request, candidacy_id)
    services.validate_candidacy(
        current_user(request), candidacy, payload.ceiling_eur, payload.comment
    )
    return _candidacy(request, candidacy_id)


@router.post(
    "/candidacies/{candidacy_id}/reject", response={200: CandidacyDetailOut, **WRITE_ERRORS}
)
@service_errors
def reject(request, candidacy_id: int, payload: CommentIn):
    """ARS: refuse a candidacy, with the reason."""
    candidacy = _candidacy(request, candidacy_id)
    services.reject_candidacy(current_user(request), candidacy, payload.comment)
    return _candidacy(request, candidacy_id)


@router.post(
    "/candidacies/{candidacy_id}/declaration", response={201: DeclarationOut, **WRITE_ERRORS}
)
@service_errors
def file_declaration(request, candidacy_id: int, payload: FileIn):
    """Candidate: file the declaration of attainment (frozen, hashed, attested)."""
    candidacy = _candidacy(request, candidacy_id)
    declaration = services.file_declaration(
        current_user(request),
        candidacy,
        payload.representative_name,
        payload.representative_title,
        payload.attested,
        review_fingerprint=payload.review_fingerprint,
    )
    return Status(201, declaration)


@router.get(
    "/candidacies/{candidacy_id}/prefiling-review", response={200: dict[str, Any], **READ_ERRORS}
)
def prefiling_review(request, candidacy_id: int):
    """What filing now would freeze (statuses, evidence, funding) and the fingerprint that
    ``POST …/declaration`` requires as ``review_fingerprint``."""
    found = guarded.prefiling_review(_candidacy(request, candidacy_id))
    return {
        "filing_date": found["filing_date"].isoformat(),
        "fingerprint": found["fingerprint"],
        "missing_evidence": [i["id"] for i in found["missing"]],
        "items": [
            {k: i[k] for k in ("id", "kind", "title", "status", "reasons", "missing_evidence")}
            | {"evidence": [(e["evidence"], e["revision"]) for e in i["evidence"]]}
            for i in found["items"]
        ],
        "funding": found["funding"],
    }


@router.get(
    "/candidacies/{candidacy_id}/declaration", response={200: DeclarationOut, **READ_ERRORS}
)
def get_declaration(request, candidacy_id: int):
    candidacy = _candidacy(request, candidacy_id)
    declaration = Declaration.objects.filter(candidacy=candidacy).first()
    if declaration is None:
        raise HttpError(404, "Aucune déclaration déposée.")
    return declaration


@router.get("/candidacies/{candidacy_id}/dossier.zip", response={200: None, **READ_ERRORS})
def download_dossier(request, candidacy_id: int):
    """The dossier: PDF/HTML summary, snapshot, evidence files and SHA-256 manifest."""
    candidacy = _candidacy(request, candidacy_id)
    declaration = Declaration.objects.filter(candidacy=candidacy).first()
    if declaration is None:
        raise HttpError(404, "Aucune déclaration déposée.")
    response = HttpResponse(
        exports.dossier_bytes(declaration, current_user(request)), content_type="application/zip"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="dossier-{candidacy.domain}-{candidacy.candidate.finess or candidacy.pk}.zip"'
    )
    return response


@router.post("/candidacies/{candidacy_id}/reviews", response={201: ReviewOut, **WRITE_ERRORS})
@service_errors
def review(request, candidacy_id: int, payload: ReviewIn):
    """ARS (then ANS): conforme, non conforme or complément demandé on one item."""
    candidacy = _candidacy(request, candidacy_id)
    declaration = Declaration.objects.filter(candidacy=candidacy).first()
    if declaration is None:
        raise HttpError(404, "Aucune déclaration déposée.")
    created = services.review_item(
        current_user(request),
        declaration,
        payload.item_code,
        payload.verdict,
        payload.message,
        payload.due_date,
    )
    return Status(201, created)


@router.post(
    "/candidacies/{candidacy_id}/review-page", response={201: list[ReviewOut], **WRITE_ERRORS}
)
@service_errors
def review_page(request, candidacy_id: int, payload: ReviewPageIn):
    """ARS (then ANS): several opinions at once, optionally « conforme » for every item left
    without one; all or nothing."""
    candidacy = _candidacy(request, candidacy_id)
    declaration = Declaration.objects.filter(candidacy=candidacy).first()
    if declaration is None:
        raise HttpError(404, "Aucune déclaration déposée.")
    created = guarded.review_all(
        current_user(request),
        declaration,
        {code: o.dict() for code, o in payload.opinions.items()},
        payload.rest_compliant,
    )
    return Status(201, created)


@router.post("/reviews/{review_id}/answers", response={201: ReviewOut, **WRITE_ERRORS})
@service_errors
def answer(request, review_id: int, payload: AnswerIn):
    """Candidate: answer a complement request with new evidence revisions."""
    found = visible_or_404(ItemReview.objects.select_related("declaration"), request, review_id)
    services.answer_complement(current_user(request), found, payload.message, payload.revisions)
    found.refresh_from_db()
    return Status(201, found)


@router.post(
    "/candidacies/{candidacy_id}/transmit", response={200: CandidacyDetailOut, **WRITE_ERRORS}
)
@service_errors
def transmit(request, candidacy_id: int, payload: CommentIn):
    """ARS: close the regional instruction and transmit to the ANS."""
    services.transmit(current_user(request), _candidacy(request, candidacy_id), payload.comment)
    return _candidacy(request, candidacy_id)


@router.post(
    "/candidacies/{candidacy_id}/decision", response={200: CandidacyDetailOut, **WRITE_ERRORS}
)
@service_errors
def decide(request, candidacy_id: int, payload: DecideIn):
    """ANS: decide, computing the amount owed; needs an ANS opinion on every item and
    ``confirmed: true``."""
    candidacy = _candidacy(request, candidacy_id)
    if not services.holds(current_user(request), candidacy.candidate, ANS_ROLES):
        raise PermissionDenied("Votre rôle ne permet pas de rendre la décision.")
    guarded.require_decidable(candidacy, payload.confirmed)
    services.decide(current_user(request), candidacy, payload.comment)
    return _candidacy(request, candidacy_id)


@router.post(
    "/candidacies/{candidacy_id}/payment", response={200: CandidacyDetailOut, **WRITE_ERRORS}
)
@service_errors
def pay(request, candidacy_id: int, payload: PaymentIn):
    """ANS: record the payment."""
    services.record_payment(
        current_user(request), _candidacy(request, candidacy_id), payload.reference
    )
    return _candidacy(request, candidacy_id)


@router.get("/candidacies/{candidacy_id}/funding", response={200: dict[str, Any], **READ_ERRORS})
def get_funding(request, candidacy_id: int):
    """The funding computation, step by step (indicative until the decision)."""
    return services.funding_of(_candidacy(request, candidacy_id))


@router.get("/dashboard", response=dict[str, Any])
def dashboard(request, domain: str | None = None):
    """Regional (ARS) or national (ANS) figures for one domain."""
    return dashboards.build(current_user(request), domain.upper() if domain else None)
