"""/api/continuity: BIA campaigns and their analysis (DMIA, priorities, inherited objectives,
recovery waves, coverage, problems). Reads go through the restriction helper."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Router, Schema
from ninja.pagination import paginate

from careops.continuity import services
from careops.continuity.models import Campaign
from careops.core.api import READ_ERRORS, current_user, visible_or_404
from careops.tenancy import scope

router = Router(tags=["continuité"])


class CampaignOut(Schema):
    id: int
    organisation_id: int
    title: str
    version: int
    status: str
    validated_at: dt.datetime | None


def _campaigns(request):
    return scope.restrict(Campaign.objects.all(), current_user(request))


@router.get("/campaigns", response=list[CampaignOut])
@paginate
def list_campaigns(request):
    """The BIA campaigns the user may see."""
    return _campaigns(request).order_by("organisation__path", "-version")


@router.get("/campaigns/{campaign_id}/analysis", response={200: dict[str, Any], **READ_ERRORS})
def campaign_analysis(request, campaign_id: int):
    """The campaign's full analysis, as ``careops bia analyze --json`` prints it."""
    campaign = visible_or_404(_campaigns(request), request, campaign_id)
    data = services.analyse(campaign, user=current_user(request)).as_dict()
    data["pcra_problems"] = services.pcra_problems(campaign)
    return data
