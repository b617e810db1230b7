"""AAP MS pathways of structures: proposed when a self-assessment is validated, confirmed or
changed by the ARS, deliverables declared done; every step journalled."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from careops.compliance.services import today_in_paris
from careops.core import audit
from careops.maturity.engine import pathways as engine
from careops.maturity.models import (
    Campaign,
    CampaignStatus,
    DeliverableDone,
    Membership,
    MembershipStatus,
    PathwayAssignment,
    PathwayEvent,
    PathwayStatus,
)
from careops.maturity.pools import current_convention, is_regional_authority
from careops.tenancy import scope
from careops.tenancy.choices import OrgKind


def catalogue(version: str | None = None) -> engine.Catalogue:
    return engine.load(version)


def _event(assignment, kind: str, detail: str, actor) -> None:
    PathwayEvent.objects.create(
        assignment=assignment,
        kind=kind,
        detail=detail[:600],
        actor=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit.record(actor, f"maturity.pathway.{kind}", assignment, assignment.organisation, detail)


def propose_from(campaign: Campaign, actor) -> PathwayAssignment | None:
    """After a validated self-assessment of a medico-social structure: propose its pathway (or
    record a new proposal beside the confirmed pathway, which only the ARS changes)."""
    if campaign.organisation.kind != OrgKind.ESMS or campaign.status != CampaignStatus.CLOSED:
        return None
    data = catalogue()
    if campaign.questionnaire not in data.questionnaires:
        return None
    proposal = engine.propose(
        data, campaign.questionnaire, campaign.result.get("level"), label=campaign.title
    )
    assignment = PathwayAssignment.objects.filter(organisation=campaign.organisation).first()
    if assignment is None:
        assignment = PathwayAssignment.objects.create(
            organisation=campaign.organisation,
            catalogue_version=data.version,
            pathway=proposal.pathway,
            proposed_pathway=proposal.pathway,
            proposed_reason=proposal.reason,
            level=proposal.level,
            campaign=campaign,
        )
        _event(assignment, "proposed", f"parcours proposé : {proposal.reason}", actor)
        return assignment
    assignment.proposed_pathway, assignment.proposed_reason = proposal.pathway, proposal.reason
    assignment.level, assignment.campaign = proposal.level, campaign
    fields = ["proposed_pathway", "proposed_reason", "level", "campaign", "updated_at"]
    if assignment.status == PathwayStatus.PROPOSED:
        assignment.pathway, assignment.catalogue_version = proposal.pathway, data.version
        fields += ["pathway", "catalogue_version"]
    assignment.save(update_fields=fields)
    note = (
        ""
        if assignment.status == PathwayStatus.PROPOSED or proposal.pathway == assignment.pathway
        else f" ; le parcours confirmé reste {assignment.pathway} tant que l'ARS ne le change pas"
    )
    _event(assignment, "proposed", f"nouvelle proposition : {proposal.reason}{note}", actor)
    return assignment


def confirm(user, assignment: PathwayAssignment, pathway: str, reason: str = "") -> None:
    """An ARS instructor of the structure's region (or an administrator) confirms the proposed
    pathway, or chooses another one with a reason."""
    if not is_regional_authority(user, assignment.organisation):
        raise PermissionDenied(
            _("Seul un instructeur de l'ARS de la région de la structure confirme son parcours.")
        )
    data = catalogue(assignment.catalogue_version)
    try:
        chosen = data.pathway(pathway)
    except engine.PathwayError as exc:
        raise ValidationError(str(exc)) from exc
    changed = pathway != assignment.proposed_pathway
    if changed and not reason.strip():
        raise ValidationError(
            {"reason": [_("Indiquez le motif : le parcours retenu n'est pas celui proposé.")]}
        )
    was = assignment.pathway if assignment.status == PathwayStatus.CONFIRMED else ""
    with transaction.atomic():
        assignment.pathway, assignment.status = chosen.id, PathwayStatus.CONFIRMED
        assignment.confirmed_by, assignment.confirmed_at = user, timezone.now()
        assignment.change_reason = reason.strip() if changed else ""
        if assignment.started_on is None or (was and was != chosen.id):
            assignment.started_on = today_in_paris()
        assignment.save()
        if changed:
            text = f"parcours {chosen.id} retenu au lieu de {assignment.proposed_pathway} : {reason.strip()}"
        elif was and was != chosen.id:
            text = f"parcours {chosen.id} confirmé (auparavant {was})"
        else:
            text = f"parcours {chosen.id} confirmé par l'ARS"
        _event(assignment, "changed" if changed else "confirmed", text, user)


def declare(user, assignment: PathwayAssignment, deliverable: str, done: bool, note: str = ""):
    """The structure declares a deliverable done (or not done after all)."""
    if not scope.can(user, "change", assignment):
        raise PermissionDenied(_("Vous ne pouvez pas modifier ce parcours."))
    pathway = catalogue(assignment.catalogue_version).pathway(assignment.pathway)
    found = next((d for d in pathway.deliverables() if d.id == deliverable), None)
    if found is None:
        raise ValidationError(_("Livrable inconnu pour ce parcours."))
    with transaction.atomic():
        if done:
            DeliverableDone.objects.get_or_create(
                assignment=assignment,
                deliverable=deliverable,
                defaults={"note": note[:300], "done_by": user},
            )
            _event(assignment, "deliverable", f"{deliverable} déclaré fait : {found.title}", user)
        else:
            DeliverableDone.objects.filter(assignment=assignment, deliverable=deliverable).delete()
            _event(assignment, "deliverable", f"{deliverable} rouvert : {found.title}", user)


def observed_facts(assignment: PathwayAssignment, today: dt.date) -> dict[str, bool]:
    """What careops observes of the structure for the pathway's deliverables."""
    from careops.maturity.services import careops_facts

    organisation = assignment.organisation
    facts = careops_facts(organisation)
    closed = Campaign.objects.filter(organisation=organisation, status=CampaignStatus.CLOSED)
    pooled = any(
        current_convention(m.pool, today)
        for m in Membership.objects.filter(
            organisation=organisation, status=MembershipStatus.ACTIVE
        ).select_related("pool")
    )
    return {
        "pooled": pooled,
        "backup_verified": bool(facts.get("backup_verified")),
        "bia_validated": bool(facts.get("bia_validated")),
        "exposure_minimum_met": bool(facts.get("exposure_minimum_met")),
        "ad_level_3": (facts.get("ad_level") or 0) >= 3,
        "nis2_assessed": closed.filter(questionnaire="nis2-art21").exists(),
        "reassessed": assignment.confirmed_at is not None
        and closed.filter(closed_at__gt=assignment.confirmed_at).exists(),
        "exercised": _exercised(organisation, today),
    }


def _exercised(organisation, today: dt.date) -> bool:
    """A crisis exercise whose RETEX was validated, or a phishing exercise sent, in the last
    12 months (D1.O3 / AAPMS.O3 evidence careops itself holds)."""
    from careops.awareness.models import PhishingCampaign
    from careops.exercises.models import Exercise, ExerciseStatus

    since = today - dt.timedelta(days=365)
    return (
        Exercise.objects.filter(
            organisation=organisation,
            status=ExerciseStatus.VALIDATED,
            validated_at__date__gte=since,
        ).exists()
        or PhishingCampaign.objects.filter(
            organisation=organisation, started_on__gte=since
        ).exists()
    )


def progress(assignment: PathwayAssignment, today: dt.date | None = None) -> engine.Progress:
    today = today or today_in_paris()
    pathway = catalogue(assignment.catalogue_version).pathway(assignment.pathway)
    declared = set(assignment.deliverables_done.values_list("deliverable", flat=True))
    start = assignment.started_on or today
    return engine.progress(pathway, start, today, declared, observed_facts(assignment, today))
