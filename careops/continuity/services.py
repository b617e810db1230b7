"""Continuity business rules: every write goes through these functions (campaigns, versions,
the rating grid, workbook import, validation and the evidence it files for D2.O1.A–D)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from careops.compliance import services as compliance
from careops.continuity.engine import compute, report
from careops.continuity.engine import model as engine
from careops.continuity.engine.workbook import WorkbookError, workbook_bytes
from careops.continuity.models import (
    Activity,
    Campaign,
    CampaignStatus,
    Dependency,
    Exercise,
    ExerciseKind,
    Need,
    ProcedureKind,
    Rating,
    Resource,
    Scenario,
    ScenarioKind,
    method_to_json,
)
from careops.core import audit
from careops.tenancy import scope
from careops.tenancy.choices import OrgKind
from careops.tenancy.models import Organisation

OPERATIONAL_PHASE_START = dt.date(2025, 7, 16)  # d2-v1.yaml, events.operational_phase_start
COVERAGE_THRESHOLD = 0.66  # d2-v1.yaml, D2.O1.C and D2.O1.D

logger = logging.getLogger("careops.continuity")


def _seconds(hours: Decimal | None) -> int | None:
    return None if hours is None else round(Decimal(hours) * 3600)


def _hours(seconds: int | None) -> Decimal | None:
    return None if seconds is None else (Decimal(seconds) / Decimal(3600)).quantize(Decimal("0.01"))


def _require(user, action: str, obj) -> None:
    if user is not None and not scope.can(user, action, obj):
        raise PermissionDenied("Action non autorisée sur cette campagne.")


def _require_draft(campaign: Campaign) -> None:
    if not campaign.is_draft:
        raise ValidationError(
            "Cette version est validée ou archivée : créez une nouvelle version pour la modifier."
        )


# --- engine bridge --------------------------------------------------------------------------


def to_engine(campaign: Campaign) -> engine.Bia:
    """The campaign as an engine BIA."""
    method = campaign.engine_method()
    activities = list(campaign.activities.prefetch_related("ratings", "needs"))
    bia = engine.Bia(method=method)
    for a in activities:
        ratings: dict[str, dict[str, int]] = {}
        for r in a.ratings.all():
            ratings.setdefault(r.impact_type, {})[r.horizon] = r.level
        bia.activities.append(
            engine.Activity(
                code=a.code,
                name=a.name,
                kind=a.kind,
                entity=a.entity,
                owner=a.owner,
                patient_impact_major=a.patient_impact_major,
                ratings=ratings,
                rto_seconds=_seconds(a.rto_hours),
                rpo_seconds=_seconds(a.rpo_hours),
                dmia_override_seconds=_seconds(a.dmia_override_hours),
                dmia_override_reason=a.dmia_override_reason,
                mbco=a.mbco,
            )
        )
        for n in a.needs.all():
            bia.needs.append(
                engine.Need(
                    a.code,
                    n.kind,
                    n.item,
                    float(n.quantity) if n.quantity is not None else None,
                    n.per,
                    n.location,
                    n.ready,
                )
            )
    for r in campaign.resources.all():
        bia.resources.append(
            engine.Resource(
                code=r.code,
                name=r.name,
                kind=r.kind,
                owner=r.owner,
                trust_core=r.trust_core,
                restore_seconds=_seconds(r.restore_hours),
                measured_rto_seconds=_seconds(r.measured_rto_hours),
                measured_rpo_seconds=_seconds(r.measured_rpo_hours),
                contract=r.contract,
            )
        )
    for d in campaign.dependencies.select_related("target"):
        bia.dependencies.append(
            engine.Dependency(d.source, d.target.code, d.hard, d.workaround, d.notes)
        )
    org = campaign.organisation
    bia.entities.append(
        engine.Entity(
            org.finess or "",
            org.name,
            float(org.activity_weight),
            org.activity_unit or "activité combinée",
        )
    )
    return bia


def _subtree_finess(organisation: Organisation) -> set[str]:
    return set(organisation.subtree().exclude(finess=None).values_list("finess", flat=True))


def _at(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%d/%m/%Y %H:%M") if moment else "?"


def backup_measures(campaign: Campaign, user=None) -> dict[str, engine.Measured]:
    """The recovery capability measured by the backups module for the campaign's resources that
    protected systems are linked to (a link to any version of the entity's resource counts):
    the longest latest successful restore test (achieved RTO) and the worst of backup age at the
    last check and snapshot interval (achieved PDMA), with date and source. With ``user``, only
    the protected systems the user may see count."""
    from careops.backups import services as backups

    by_code: dict[str, list[dict]] = {}
    for row in backups.linked_capabilities(campaign.organisation, user):
        by_code.setdefault(row["resource_code"], []).append(row)
    measures = {}
    for code, rows in by_code.items():
        rto_rows = [r for r in rows if r["restore_hours"] is not None]
        rpo_rows = [r for r in rows if r["achieved_rpo_hours"] is not None]
        rto = max(rto_rows, key=lambda r: r["restore_hours"], default=None)
        rpo = max(rpo_rows, key=lambda r: r["achieved_rpo_hours"], default=None)
        rto_source = rpo_source = ""
        if rto is not None:
            rto_source = _("test de restauration de « %(name)s » du %(at)s") % {
                "name": rto["name"],
                "at": _at(rto["restore_tested_at"]),
            }
        if rpo is not None:
            rpo_source = _(
                "sauvegardes de « %(name)s » : âge %(age)s au contrôle du %(at)s, "
                "intervalle %(interval)s"
            ) % {
                "name": rpo["name"],
                "age": engine.format_duration(_secs(rpo["backup_age_hours"]), "?"),
                "at": _at(rpo["last_checked_at"]),
                "interval": engine.format_duration(_secs(rpo["backup_interval_hours"]), "?"),
            }
        missing_rto = len(rows) - len(rto_rows)
        missing_rpo = len(rows) - len(rpo_rows)
        if missing_rto and rto_source:
            rto_source += _(" (%(n)s système(s) lié(s) non testé(s))") % {"n": missing_rto}
        if missing_rpo and rpo_source:
            rpo_source += _(" (%(n)s système(s) lié(s) non contrôlé(s))") % {"n": missing_rpo}
        measures[code] = engine.Measured(
            rto_seconds=_secs(rto["restore_hours"]) if rto else None,
            rpo_seconds=_secs(rpo["achieved_rpo_hours"]) if rpo else None,
            rto_source=rto_source,
            rpo_source=rpo_source,
            rto_complete=not missing_rto,
            rpo_complete=not missing_rpo,
        )
    return measures


def _secs(hours: float | None) -> int | None:
    return None if hours is None else round(hours * 3600)


def analysed(
    campaign: Campaign, with_measures: bool = True, user=None
) -> tuple[engine.Bia, compute.Analysis]:
    """The campaign's BIA and its analysis; activities tagged with a site of the campaign's
    entity count for the entity. Resources linked to protected systems take their measured
    RTO/PDMA from the backups module (``with_measures``), the others keep the typed ones."""
    bia = to_engine(campaign)
    org = campaign.organisation
    inside = _subtree_finess(org)
    for activity in bia.activities:
        if activity.entity in inside:
            activity.entity = org.finess or ""
    measured = backup_measures(campaign, user) if with_measures else None
    return bia, compute.analyse(bia, measured=measured)


def analyse(campaign: Campaign, with_measures: bool = True, user=None) -> compute.Analysis:
    return analysed(campaign, with_measures, user)[1]


def pcra_problems(campaign: Campaign) -> list[str]:
    """What the PCRA still lacks: the mandatory "SI indisponible" scenario with its strategy, a
    crisis cell, the link with the plan blanc, at least one procedure."""
    problems = []
    si = campaign.scenarios.filter(kind=ScenarioKind.SI_UNAVAILABLE).first()
    if si is None:
        problems.append("le scénario « SI indisponible » est obligatoire")
    elif not si.strategy.strip():
        problems.append("le scénario « SI indisponible » n'a pas de stratégie")
    if not campaign.crisis_roles.exists():
        problems.append("la cellule de crise n'a aucun membre")
    if not campaign.white_plan_link.strip():
        problems.append("l'articulation avec le plan blanc n'est pas décrite")
    if not campaign.procedures.exists():
        problems.append("aucune procédure (fiche réflexe, mode dégradé, reprise…)")
    return problems


def validation_problems(campaign: Campaign) -> list[str]:
    """Everything that blocks validation: the BIA's problems, then the PCRA's."""
    return [str(p) for p in analyse(campaign).problems] + [
        f"PCRA : {p}" for p in pcra_problems(campaign)
    ]


# --- campaigns ------------------------------------------------------------------------------


CAMPAIGN_KINDS = {OrgKind.GHT, OrgKind.EJ, OrgKind.EG, OrgKind.ESMS}


def create_campaign(user, organisation: Organisation, title: str) -> Campaign:
    """Open version 1 (or the next version) of an entity's BIA, with the mandatory scenario."""
    _require(user, "change", organisation)
    if organisation.kind not in CAMPAIGN_KINDS:
        raise ValidationError("Une campagne BIA porte sur un GHT, une EJ, un EG ou un ESMS.")
    with transaction.atomic():
        last = Campaign.objects.filter(organisation=organisation).order_by("-version").first()
        campaign = Campaign.objects.create(
            organisation=organisation,
            title=title,
            version=(last.version + 1) if last else 1,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        Scenario.objects.create(
            campaign=campaign,
            kind=ScenarioKind.SI_UNAVAILABLE,
            title="SI indisponible",
            description="Indisponibilité totale ou partielle du système d'information "
            "(cyberattaque, panne majeure).",
        )
        audit.record(
            user,
            "continuity.campaign.create",
            campaign,
            organisation,
            f"campagne BIA « {title} » v{campaign.version} ouverte",
        )
    return campaign


def new_version(user, campaign: Campaign) -> Campaign:
    """Copy a campaign (BIA and PCRA) into a new draft version."""
    _require(user, "change", campaign)
    with transaction.atomic():
        last = (
            Campaign.objects.filter(organisation=campaign.organisation).order_by("-version").first()
        )
        copy = Campaign.objects.get(pk=campaign.pk)
        copy.pk = None
        copy.version = last.version + 1
        copy.status = CampaignStatus.DRAFT
        copy.validated_by = None
        copy.validated_at = None
        copy.created_by = user if getattr(user, "is_authenticated", False) else None
        copy.save()
        activities = {}
        for a in campaign.activities.prefetch_related("ratings", "needs"):
            old_pk = a.pk
            ratings, needs = list(a.ratings.all()), list(a.needs.all())
            a.pk, a.campaign = None, copy
            a.save()
            activities[old_pk] = a
            Rating.objects.bulk_create(
                Rating(activity=a, impact_type=r.impact_type, horizon=r.horizon, level=r.level)
                for r in ratings
            )
            for n in needs:
                n.pk, n.activity = None, a
                n.save()
        resources = {}
        for r in campaign.resources.all():
            old_pk = r.pk
            r.pk, r.campaign = None, copy
            r.save()
            resources[old_pk] = r
        for d in campaign.dependencies.all():
            d.pk, d.campaign, d.target = None, copy, resources[d.target_id]
            d.save()
        scenarios = {}
        for s in campaign.scenarios.all():
            old_pk = s.pk
            s.pk, s.campaign = None, copy
            s.save()
            scenarios[old_pk] = s
        for c in campaign.crisis_roles.all():
            c.pk, c.campaign = None, copy
            c.save()
        for p in campaign.procedures.all():
            p.pk, p.campaign = None, copy
            p.scenario = scenarios.get(p.scenario_id)
            p.activity = activities.get(p.activity_id)
            p.save()
        audit.record(
            user,
            "continuity.campaign.version",
            copy,
            copy.organisation,
            f"nouvelle version v{copy.version} de « {copy.title} » (depuis v{campaign.version})",
        )
    return copy


def set_rating(user, activity: Activity, impact_type: str, horizon: str, level: int | None) -> None:
    """Rate (or clear) one cell of the grid."""
    campaign = activity.campaign
    _require(user, "change", campaign)
    _require_draft(campaign)
    method = campaign.engine_method()
    if impact_type not in {t.code for t in method.impact_types}:
        raise ValidationError("Type d'impact inconnu.")
    if horizon not in {h.label for h in method.horizons}:
        raise ValidationError("Horizon inconnu.")
    if level is not None and not 0 <= level <= method.max_level:
        raise ValidationError(f"Niveau de 0 à {method.max_level}.")
    if level is None:
        Rating.objects.filter(activity=activity, impact_type=impact_type, horizon=horizon).delete()
    else:
        Rating.objects.update_or_create(
            activity=activity, impact_type=impact_type, horizon=horizon, defaults={"level": level}
        )


@dataclass
class ImportOutcome:
    imported: bool
    problems: list[engine.Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def import_workbook(user, campaign: Campaign, source: IO[bytes]) -> ImportOutcome:
    """Replace the campaign's BIA by the workbook's, all or nothing: any blocking problem (sheet
    or column names, unknown codes, cycles, non-monotone ratings, text for a number) imports
    nothing. Gaps in completeness are imported; they only block validation."""
    _require(user, "change", campaign)
    _require_draft(campaign)
    try:
        bia, _analysis, problems = report.analyse_workbook(source)
    except WorkbookError as exc:
        logger.warning("BIA import refused for campaign %s: %s", campaign.pk, exc)
        return ImportOutcome(False, [engine.Problem(str(exc))])
    inside = _subtree_finess(campaign.organisation)
    for activity in bia.activities:
        if activity.entity and activity.entity not in inside:
            problems.append(
                engine.Problem(
                    f"FINESS « {activity.entity} » hors de l'organisation de la campagne "
                    f"({campaign.organisation.name})",
                    compute.ACTIVITIES,
                    activity.row,
                    compute.column_of(bia, compute.ACTIVITIES, "Entité"),
                )
            )
    problems = [p for p in problems if not p.message.startswith("entité « ")]
    blocking = [p for p in problems if p.blocking]
    if blocking:
        return ImportOutcome(False, blocking)
    with transaction.atomic():
        campaign.activities.all().delete()
        campaign.resources.all().delete()
        campaign.dependencies.all().delete()
        campaign.method = method_to_json(bia.method)
        campaign.save(update_fields=["method"])
        activities = {}
        for a in bia.activities:
            activities[a.code] = Activity.objects.create(
                campaign=campaign,
                code=a.code,
                name=a.name,
                kind=a.kind,
                entity=a.entity,
                owner=a.owner,
                patient_impact_major=a.patient_impact_major,
                rto_hours=_hours(a.rto_seconds),
                rpo_hours=_hours(a.rpo_seconds),
                dmia_override_hours=_hours(a.dmia_override_seconds),
                dmia_override_reason=a.dmia_override_reason,
                mbco=a.mbco,
            )
            Rating.objects.bulk_create(
                Rating(activity=activities[a.code], impact_type=t, horizon=h, level=level)
                for t, per_horizon in a.ratings.items()
                for h, level in per_horizon.items()
            )
        resources = {}
        for r in bia.resources:
            resources[r.code] = Resource.objects.create(
                campaign=campaign,
                code=r.code,
                name=r.name,
                kind=r.kind,
                owner=r.owner,
                trust_core=r.trust_core,
                restore_hours=_hours(r.restore_seconds),
                measured_rto_hours=_hours(r.measured_rto_seconds),
                measured_rpo_hours=_hours(r.measured_rpo_seconds),
                contract=r.contract,
            )
        seen = set()
        for d in bia.dependencies:
            if (d.source, d.target) in seen:
                continue
            seen.add((d.source, d.target))
            Dependency.objects.create(
                campaign=campaign,
                source=d.source,
                target=resources[d.target],
                hard=d.hard,
                workaround=d.workaround,
                notes=d.notes,
            )
        for n in bia.needs:
            Need.objects.create(
                activity=activities[n.activity],
                kind=n.kind,
                item=n.item,
                quantity=Decimal(str(n.quantity)) if n.quantity is not None else None,
                per=n.per,
                location=n.location,
                ready=n.ready,
            )
        counts = {
            "activités": len(bia.activities),
            "ressources": len(bia.resources),
            "dépendances": len(seen),
            "besoins": len(bia.needs),
        }
        audit.record(
            user,
            "continuity.campaign.import",
            campaign,
            campaign.organisation,
            "classeur BIA importé : " + ", ".join(f"{v} {k}" for k, v in counts.items()),
        )
    return ImportOutcome(True, [p for p in problems if not p.blocking], counts)


def export_workbook(campaign: Campaign) -> bytes:
    return workbook_bytes(to_engine(campaign))


# --- validation and evidence ----------------------------------------------------------------


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def validate_campaign(user, campaign: Campaign) -> list[Any]:
    """Validate a complete campaign (who, when), archive the previous validated version, and
    file the evidence it proves: BIA and PCRA (D2.O1.C), governance (D2.O1.A), plan blanc and
    reporting procedure (D2.O1.B). Returns the evidence created."""
    _require(user, "manage", campaign)
    _require_draft(campaign)
    problems = validation_problems(campaign)
    if problems:
        raise ValidationError(problems)
    from careops.continuity import exports  # documents need the template engine

    org = campaign.organisation
    today = compliance.today_in_paris()
    bia = to_engine(campaign)
    perimeters = sorted(compute.perimeters_of(bia.activities))
    created = []
    with transaction.atomic():
        Campaign.objects.filter(organisation=org, status=CampaignStatus.VALIDATED).update(
            status=CampaignStatus.ARCHIVED
        )
        campaign.status = CampaignStatus.VALIDATED
        campaign.validated_by = user if getattr(user, "is_authenticated", False) else None
        campaign.validated_at = timezone.now()
        campaign.save(update_fields=["status", "validated_by", "validated_at"])
        audit.record(
            user,
            "continuity.campaign.validate",
            campaign,
            org,
            f"BIA et PCRA « {campaign.title} » v{campaign.version} validés",
        )
        slug = f"v{campaign.version}"
        file_user = user if user is not None else None
        created.append(
            compliance.create_evidence(
                file_user,
                org,
                "bia",
                f"BIA — {org.name} ({slug})",
                compliance.RevisionInput(
                    effective_date=today,
                    attributes={
                        "perimeters": perimeters,
                        "critical_activities": [
                            a.code
                            for a in compute.analyse(bia).activities
                            if a.priority in ("P1", "P2")
                        ],
                        "campaign": campaign.pk,
                    },
                    entity_ids=[org.pk],
                    files=[_upload(f"bia-{slug}.xlsx", workbook_bytes(bia))],
                ),
                item_codes=["D2.O1.C"],
                source="continuity",
            )
        )
        created.append(
            compliance.create_evidence(
                file_user,
                org,
                "pcra",
                f"PCRA — {org.name} ({slug})",
                compliance.RevisionInput(
                    effective_date=today,
                    attributes={
                        "campaign": campaign.pk,
                        "scenarios": list(campaign.scenarios.values_list("kind", flat=True)),
                    },
                    entity_ids=[org.pk],
                    files=[_upload(f"pcra-{slug}.docx", exports.pcra_docx(campaign))],
                ),
                item_codes=["D2.O1.C"],
                source="continuity",
            )
        )
        if campaign.governance.strip() and campaign.governance_approved_on:
            created.append(
                compliance.create_evidence(
                    file_user,
                    org,
                    "continuity_governance",
                    f"Gouvernance de la continuité — {org.name}",
                    compliance.RevisionInput(
                        effective_date=campaign.governance_approved_on,
                        attributes={"summary": campaign.governance[:2000]},
                        entity_ids=[org.pk],
                    ),
                    item_codes=["D2.O1.A"],
                    source="continuity",
                )
            )
            if campaign.governance_body.strip():
                created.append(
                    compliance.create_evidence(
                        file_user,
                        org,
                        "governance_minutes",
                        f"Approbation par {campaign.governance_body}",
                        compliance.RevisionInput(
                            effective_date=campaign.governance_approved_on,
                            validated_by="management_body",
                            attributes={"body": campaign.governance_body},
                            entity_ids=[org.pk],
                        ),
                        item_codes=["D2.O1.A"],
                        source="continuity",
                    )
                )
        created.append(
            compliance.create_evidence(
                file_user,
                org,
                "white_plan",
                f"Plan blanc : volet numérique — {org.name}",
                compliance.RevisionInput(
                    effective_date=today,
                    attributes={
                        "white_plan_link": campaign.white_plan_link[:2000],
                        "crisis_cell": [
                            {"role": c.role, "holder": c.holder, "deputy": c.deputy}
                            for c in campaign.crisis_roles.all()
                        ],
                    },
                    entity_ids=[org.pk],
                ),
                item_codes=["D2.O1.B"],
                source="continuity",
            )
        )
        reporting = campaign.procedures.filter(kind=ProcedureKind.REPORTING).first()
        if reporting is not None:
            created.append(
                compliance.create_evidence(
                    file_user,
                    org,
                    "crisis_reporting_procedure",
                    reporting.title,
                    compliance.RevisionInput(
                        effective_date=today,
                        attributes={"version": reporting.version, "owner": reporting.owner},
                        entity_ids=[org.pk],
                    ),
                    item_codes=["D2.O1.B"],
                    source="continuity",
                )
            )
    return created


def exercise_problems(exercise: Exercise) -> list[str]:
    problems = []
    if exercise.kind != ExerciseKind.FIELD:
        problems.append("seul un exercice sur le terrain prouve D2.O1.D")
    if exercise.scenario_id is None:
        problems.append("le scénario de l'exercice n'est pas indiqué")
    if not exercise.retex.strip():
        problems.append("le RETEX n'est pas rédigé")
    if not exercise.actions.exists():
        problems.append("le plan d'amélioration (actions RETEX) est vide")
    return problems


def file_exercise_evidence(user, exercise: Exercise):
    """File a field exercise with its scenario and RETEX as evidence of D2.O1.D."""
    campaign = exercise.campaign
    _require(user, "change", campaign)
    problems = exercise_problems(exercise)
    if problems:
        raise ValidationError(problems)
    org = campaign.organisation
    actions = [
        f"{a.description} ({a.owner}, {a.due_on:%d/%m/%Y}, {a.get_status_display()})"
        for a in exercise.actions.all()
    ]
    with transaction.atomic():
        evidence = compliance.create_evidence(
            user,
            org,
            "pca_exercise",
            f"Exercice PCA du {exercise.held_on:%d/%m/%Y} — {org.name}",
            compliance.RevisionInput(
                effective_date=exercise.held_on,
                attributes={
                    "scenario": exercise.scenario.title,
                    "retex": exercise.retex[:4000],
                    "scope": exercise.perimeter,
                    "improvement_plan": actions,
                },
                entity_ids=[org.pk],
            ),
            item_codes=["D2.O1.D"],
            source="continuity",
        )
        exercise.evidence = evidence
        exercise.save(update_fields=["evidence"])
    return evidence


# --- coverage -------------------------------------------------------------------------------


def _covering_campaign(unit: Organisation, campaigns: list[Campaign]) -> Campaign | None:
    """The validated campaign that stands for a unit: on the unit, under it, or above it."""
    for campaign in campaigns:
        path = campaign.organisation.path
        if path.startswith(unit.path) or unit.path.startswith(path):
            return campaign
    return None


def candidate_coverage(
    candidate: Organisation,
    weights: dict[int, float] | None = None,
    unit: str | None = None,
    user=None,
) -> dict:
    """Coverage of a candidate (GHT, EJ) by validated BIA+PCRA and by tested PCAs, with the
    activity weights stored on the entities or the ones the user chose (``weights`` by
    organisation id, in ``unit``). With ``user``, only the campaigns they may see count."""
    finess = [e["finess"] for e in compliance.candidate_entities(candidate)]
    units = list(Organisation.objects.filter(finess__in=finess).order_by("path"))
    above = [int(p) for p in candidate.path.strip("/").split("/") if p]
    queryset = (
        Campaign.objects.filter(status=CampaignStatus.VALIDATED)
        .filter(Q(organisation__path__startswith=candidate.path) | Q(organisation_id__in=above))
        .select_related("organisation")
    )
    if user is not None:
        queryset = scope.restrict(queryset, user)
    campaigns = list(queryset)
    campaigns.sort(key=lambda c: -c.organisation.depth)
    bia_units, test_units, rows = [], [], []
    for node in units:
        weight = (
            float(weights[node.pk])
            if weights and node.pk in weights
            else float(node.activity_weight)
        )
        unit_name = unit or node.activity_unit or "activité combinée"
        campaign = _covering_campaign(node, campaigns)
        perimeters: set[str] = set()
        tested = None
        if campaign is not None:
            perimeters = compute.perimeters_of(to_engine(campaign).activities)
            tested = (
                Exercise.objects.filter(
                    campaign__organisation=campaign.organisation,
                    kind=ExerciseKind.FIELD,
                    held_on__gte=OPERATIONAL_PHASE_START,
                )
                .order_by("-held_on")
                .first()
            )
        bia_units.append(
            compute.CoverageUnit(
                node.finess,
                node.name,
                weight,
                unit_name,
                perimeters,
                set(),
                done=campaign is not None,
            )
        )
        test_units.append(
            compute.CoverageUnit(
                node.finess, node.name, weight, unit_name, set(), set(), done=tested is not None
            )
        )
        rows.append(
            {
                "unit": node,
                "weight": weight,
                "campaign": campaign,
                "tested": tested,
                "perimeters": sorted(perimeters),
            }
        )
    bia = compute.coverage(bia_units, COVERAGE_THRESHOLD, required=compute.PERIMETER_CODES)
    tests = compute.coverage(test_units, COVERAGE_THRESHOLD)
    return {
        "rows": rows,
        "bia": bia,
        "tests": tests,
        "unit": unit or (units[0].activity_unit if units else "") or "activité combinée",
    }
