"""Maturity campaigns: open, answer (with history), pre-fill from careops' data, validate into
evidence. Every write goes through here."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from careops.compliance import services as compliance
from careops.core import audit
from careops.maturity.engine import questionnaire as engine
from careops.maturity.models import Answer, AnswerChange, Campaign, CampaignStatus
from careops.tenancy import scope


def questionnaire_of(campaign: Campaign) -> engine.Questionnaire:
    path = engine.QUESTIONNAIRE_DIR / f"{campaign.questionnaire}-v{campaign.version}.yaml"
    return engine.load(path)


def answers_of(campaign: Campaign) -> dict[str, str]:
    return dict(campaign.answers.values_list("question", "value"))


def open_campaign(user, organisation, questionnaire_id: str, title: str = "") -> Campaign:
    if not scope.can(user, "change", organisation):
        raise PermissionDenied(_("Vous ne pouvez pas évaluer cette organisation."))
    try:
        questionnaire = engine.load(questionnaire_id)
    except engine.QuestionnaireError as exc:
        raise ValidationError(str(exc)) from exc
    campaign = Campaign.objects.create(
        organisation=organisation,
        questionnaire=questionnaire.id,
        version=questionnaire.version,
        title=title or f"{questionnaire.title} — {timezone.localdate():%d/%m/%Y}",
        created_by=user,
    )
    audit.record(
        user,
        "maturity.open",
        campaign,
        organisation,
        f"auto-évaluation « {campaign.title} » ouverte",
    )
    return campaign


def _check_open(user, campaign: Campaign) -> None:
    if not scope.can(user, "change", campaign):
        raise PermissionDenied(_("Vous ne pouvez pas modifier cette auto-évaluation."))
    if campaign.status != CampaignStatus.OPEN:
        raise ValidationError(_("Cette auto-évaluation est validée : ouvrez-en une nouvelle."))


def save_answers(
    user, campaign: Campaign, answers: dict[str, str], prefilled: dict[str, str] | None = None
) -> int:
    """Record the answers that changed (each change kept with who and when). ``prefilled``:
    {question: why} for answers careops proposed."""
    _check_open(user, campaign)
    questionnaire = questionnaire_of(campaign)
    prefilled = prefilled or {}
    current = answers_of(campaign)
    try:
        engine.score(questionnaire, {**current, **answers})  # validates ids and values
    except engine.QuestionnaireError as exc:
        raise ValidationError(str(exc)) from exc
    changed = 0
    with transaction.atomic():
        for question, value in answers.items():
            if current.get(question) == value:
                continue
            Answer.objects.update_or_create(
                campaign=campaign,
                question=question,
                defaults={
                    "value": value,
                    "prefilled": question in prefilled,
                    "note": prefilled.get(question, ""),
                    "answered_by": user,
                },
            )
            AnswerChange.objects.create(
                campaign=campaign,
                question=question,
                old_value=current.get(question, ""),
                new_value=value,
                prefilled=question in prefilled,
                changed_by=user,
            )
            changed += 1
        if changed:
            audit.record(
                user,
                "maturity.answer",
                campaign,
                campaign.organisation,
                f"auto-évaluation « {campaign.title} » : {changed} réponse(s)",
            )
    return changed


def careops_facts(organisation) -> dict:
    """What careops knows of the organisation (and its subtree) that a questionnaire can use."""
    from careops.backups.choices import Outcome, RunKind
    from careops.backups.choices import RunStatus as BackupStatus
    from careops.backups.models import VerificationRun
    from careops.continuity.models import Campaign as BiaCampaign
    from careops.directory.models import Audit, AuditStatus
    from careops.exposure.models import RunStatus, ScanRun

    facts: dict = {}
    audit_row = (
        Audit.objects.filter(
            status=AuditStatus.DONE,
            level__isnull=False,
            domain__organisation__path__startswith=organisation.path,
        )
        .order_by("-finished_at")
        .first()
    )
    if audit_row:
        facts["ad_level"] = audit_row.level
    scan = (
        ScanRun.objects.filter(
            status=RunStatus.DONE,
            minimum_level_met__isnull=False,
            organisation__path__startswith=organisation.path,
        )
        .order_by("-finished_at")
        .first()
    )
    if scan:
        facts["exposure_minimum_met"] = scan.minimum_level_met
    year_ago = timezone.now() - dt.timedelta(days=365)
    restores = VerificationRun.objects.filter(
        kind=RunKind.RESTORE,
        status=BackupStatus.DONE,
        organisation__path__startswith=organisation.path,
        created_at__gte=year_ago,
    )
    if restores.exists():
        facts["backup_verified"] = restores.filter(outcome=Outcome.OK).exists()
    if BiaCampaign.objects.filter(organisation__path__startswith=organisation.path).exists():
        facts["bia_validated"] = BiaCampaign.objects.filter(
            organisation__path__startswith=organisation.path, validated_at__isnull=False
        ).exists()
    return facts


def prefill(user, campaign: Campaign) -> dict[str, tuple[str, str]]:
    """Fill the unanswered questions careops can answer from its data; never overwrites."""
    _check_open(user, campaign)
    questionnaire = questionnaire_of(campaign)
    proposed = engine.prefill(
        questionnaire, careops_facts(campaign.organisation), answers_of(campaign)
    )
    if proposed:
        save_answers(
            user,
            campaign,
            {k: v for k, (v, _) in proposed.items()},
            {k: why for k, (_, why) in proposed.items()},
        )
    return proposed


def current_result(campaign: Campaign) -> engine.Result:
    if campaign.status == CampaignStatus.CLOSED and campaign.result:
        return campaign.result
    questionnaire = questionnaire_of(campaign)
    notes = dict(campaign.answers.filter(prefilled=True).values_list("question", "note"))
    return engine.score(questionnaire, answers_of(campaign), notes).as_json()


def close_campaign(user, campaign: Campaign):
    """Validate: the result is frozen and filed as the maturity evidence (D1.O4, AAP MS)."""
    _check_open(user, campaign)
    questionnaire = questionnaire_of(campaign)
    result = engine.score(questionnaire, answers_of(campaign)).as_json()
    if result["level"] is None:
        raise ValidationError(_("Aucune réponse notée : rien à valider."))
    if result["missing"]:
        raise ValidationError(
            _(
                "%(n)s question(s) sans réponse (%(ids)s) : répondez-y, « Je ne sais pas » compris, avant de valider."
            )
            % {"n": len(result["missing"]), "ids": ", ".join(result["missing"][:10])}
        )
    with transaction.atomic():
        evidence = compliance.create_evidence(
            user,
            campaign.organisation,
            questionnaire.evidence_kind,
            _("Auto-évaluation « %(title)s » : niveau %(level)s")
            % {"title": campaign.title, "level": result["level"]},
            compliance.RevisionInput(
                effective_date=compliance.today_in_paris(),
                attributes={
                    "questionnaire": questionnaire.id,
                    "version": questionnaire.version,
                    "level": result["level"],
                    "score": round(result["score"], 4),
                    "campaign_id": campaign.pk,
                    "unanswered": len(result["missing"]),
                },
                comment=_("Auto-évaluation menée dans careops."),
            ),
            item_codes=questionnaire.evidence_items,
            source="maturity",
        )
        campaign.result, campaign.status, campaign.closed_at = (
            result,
            CampaignStatus.CLOSED,
            timezone.now(),
        )
        campaign.evidence_id = evidence.pk
        campaign.save(update_fields=["result", "status", "closed_at", "evidence_id"])
        audit.record(
            user,
            "maturity.close",
            campaign,
            campaign.organisation,
            f"auto-évaluation « {campaign.title} » validée : niveau {result['level']}",
        )
        from careops.maturity import pathways

        pathways.propose_from(campaign, user)
    return evidence


def previous(campaign: Campaign) -> Campaign | None:
    """The organisation's previous validated campaign with the same questionnaire."""
    return (
        Campaign.objects.filter(
            organisation=campaign.organisation,
            questionnaire=campaign.questionnaire,
            status=CampaignStatus.CLOSED,
            created_at__lt=campaign.created_at,
        )
        .exclude(pk=campaign.pk)
        .order_by("-created_at")
        .first()
    )
