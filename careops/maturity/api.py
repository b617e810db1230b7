"""/api/maturity/: self-assessments, AAP MS pathways (and their confirmation by the ARS), pools.

Every list and object goes through ``scope.restrict`` (pools: ``pools.visible_pools``, whose
members are themselves restricted), exactly as the pages do.
"""

import datetime as dt

from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.pagination import paginate

from careops.awareness import services as awareness
from careops.core.api import (
    NOT_FOUND,
    READ_ERRORS,
    WRITE_ERRORS,
    current_user,
    service_errors,
    visible_or_404,
)
from careops.maturity import pathways, pools
from careops.maturity.models import Campaign, Membership, PathwayAssignment
from careops.tenancy import scope

router = Router(tags=["maturité"])


class MaturityCampaignOut(Schema):
    id: int
    organisation: int
    questionnaire: str
    version: str
    title: str
    status: str
    level: int | None
    closed_at: dt.datetime | None

    @staticmethod
    def resolve_organisation(obj: Campaign) -> int:
        return obj.organisation_id

    @staticmethod
    def resolve_level(obj: Campaign) -> int | None:
        return (obj.result or {}).get("level")


class PathwayOut(Schema):
    organisation: int
    organisation_name: str
    pathway: str
    proposed_pathway: str
    proposed_reason: str
    level: int
    status: str
    started_on: dt.date | None
    change_reason: str
    done: int
    total: int
    overdue: list[str]


class ConfirmIn(Schema):
    pathway: str
    reason: str = ""


class MemberOut(Schema):
    organisation: int
    organisation_name: str
    status: str
    pathway: str | None
    level: int | None
    # share of staff trained over the last 12 months (None without a headcount) and the last
    # phishing exercise's click rate (None without one), as far as the caller may see them
    trained: int | None
    headcount: int | None
    trained_share: float | None
    phishing_campaign: str | None
    phishing_click_rate: float | None


class PoolOut(Schema):
    id: int
    name: str
    kind: str
    region: int
    convention_starts_on: dt.date | None
    convention_ends_on: dt.date | None
    alerts: list[str]
    members: list[MemberOut]


def _pathway(assignment: PathwayAssignment) -> dict:
    state = pathways.progress(assignment)
    return {
        "organisation": assignment.organisation_id,
        "organisation_name": assignment.organisation.name,
        "pathway": assignment.pathway,
        "proposed_pathway": assignment.proposed_pathway,
        "proposed_reason": assignment.proposed_reason,
        "level": assignment.level,
        "status": assignment.status,
        "started_on": assignment.started_on,
        "change_reason": assignment.change_reason,
        "done": state.done,
        "total": state.total,
        "overdue": state.overdue,
    }


@router.get("/campaigns", response=list[MaturityCampaignOut])
@paginate
def list_campaigns(request):
    """The self-assessments the user may see, newest first."""
    return scope.restrict(Campaign.objects.all(), current_user(request)).order_by("-created_at")


@router.get("/pathways", response=list[PathwayOut])
@paginate
def list_pathways(request):
    """The AAP MS pathways of the structures the user may see, with their progress."""
    found = scope.restrict(
        PathwayAssignment.objects.select_related("organisation"), current_user(request)
    ).order_by("organisation__name")
    return [_pathway(a) for a in found[:500]]


@router.get("/pathways/{organisation_id}", response={200: PathwayOut, **READ_ERRORS})
def get_pathway(request, organisation_id: int):
    """One structure's pathway (404 out of scope or without a validated self-assessment)."""
    found = (
        scope.restrict(
            PathwayAssignment.objects.select_related("organisation"), current_user(request)
        )
        .filter(organisation_id=organisation_id)
        .first()
    )
    if found is None:
        raise HttpError(404, NOT_FOUND)
    return _pathway(found)


@router.post("/pathways/{organisation_id}/confirm", response={200: PathwayOut, **WRITE_ERRORS})
@service_errors
def confirm_pathway(request, organisation_id: int, payload: ConfirmIn):
    """Confirm (or change, with a reason) a structure's pathway: an ARS instructor of its
    region or an administrator (403 otherwise)."""
    assignment = visible_or_404(
        PathwayAssignment.objects.select_related("organisation"),
        request,
        PathwayAssignment.objects.filter(organisation_id=organisation_id)
        .values_list("pk", flat=True)
        .first()
        or 0,
    )
    pathways.confirm(current_user(request), assignment, payload.pathway, payload.reason)
    return _pathway(assignment)


def _pool(user, pool) -> dict:
    today = pools.today_in_paris()
    convention = pools.current_convention(pool, today)
    members = scope.restrict(
        Membership.objects.filter(pool=pool).select_related("organisation"), user
    )
    assignments = {
        a.organisation_id: a
        for a in scope.restrict(
            PathwayAssignment.objects.filter(organisation__in=[m.organisation_id for m in members]),
            user,
        )
    }
    figures = awareness.figures_by_structure(user, [m.organisation for m in members], today)
    return {
        "id": pool.pk,
        "name": pool.name,
        "kind": pool.kind,
        "region": pool.region_id,
        "convention_starts_on": convention.starts_on if convention else None,
        "convention_ends_on": convention.ends_on if convention else None,
        "alerts": [str(a) for a in pools.pool_alerts(pool, today)],
        "members": [
            {
                "organisation": m.organisation_id,
                "organisation_name": m.organisation.name,
                "status": m.status,
                "pathway": getattr(assignments.get(m.organisation_id), "pathway", None),
                "level": getattr(assignments.get(m.organisation_id), "level", None),
                **_awareness(figures[m.organisation_id]),
            }
            for m in members
        ],
    }


def _awareness(figures: dict) -> dict:
    training, phishing = figures["training"], figures["phishing"]
    return {
        "trained": training.trained if training else None,
        "headcount": training.headcount if training else None,
        "trained_share": training.share if training else None,
        "phishing_campaign": phishing.name if phishing else None,
        "phishing_click_rate": phishing.rate("clicked") if phishing else None,
    }


@router.get("/pools", response=list[PoolOut])
@paginate
def list_pools(request):
    """The pools the user reaches, each with only the members in the user's scope."""
    user = current_user(request)
    return [_pool(user, p) for p in pools.visible_pools(user).order_by("name")[:200]]


@router.get("/pools/{pool_id}", response={200: PoolOut, **READ_ERRORS})
def get_pool(request, pool_id: int):
    """One pool, with the members in the user's scope."""
    user = current_user(request)
    found = pools.visible_pools(user).filter(pk=pool_id).first()
    if found is None:
        raise HttpError(404, NOT_FOUND)
    return _pool(user, found)
