"""Continuité d'activité (D2): campaigns, the rating grid (HTMX), dependencies, the PCRA,
exercises, exports and the coverage of a GHT."""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from careops.continuity import exports, forms, services
from careops.continuity.engine import svg
from careops.continuity.engine.compute import analyse_activity
from careops.continuity.engine.model import PERIMETERS, format_duration
from careops.continuity.engine.report import GAP_LABELS, RTO_LABELS
from careops.continuity.models import (
    Activity,
    Campaign,
    CrisisRole,
    Dependency,
    Exercise,
    Need,
    Procedure,
    Resource,
    RetexAction,
    Scenario,
    ScenarioKind,
)
from careops.core import audit
from careops.tenancy import scope
from careops.tenancy.choices import OrgKind
from careops.tenancy.models import Organisation
from careops.tenancy.shortcuts import get_in_scope

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _campaign(request, pk, action="view") -> Campaign:
    return get_in_scope(
        Campaign.objects.select_related("organisation"), request.user, action, pk=pk
    )


@login_required
def index(request):
    campaigns = scope.restrict(
        Campaign.objects.select_related("organisation", "validated_by"), request.user
    )
    organisations = scope.restrict(
        Organisation.objects.filter(kind__in=services.CAMPAIGN_KINDS), request.user, "change"
    )
    candidates = scope.restrict(
        Organisation.objects.filter(kind__in=[OrgKind.GHT, OrgKind.EJ]), request.user
    )
    form = forms.CampaignCreateForm(organisations=organisations)
    return render(
        request,
        "continuity/index.html",
        {
            "campaigns": campaigns,
            "form": form,
            "can_create": organisations.exists(),
            "candidates": candidates,
        },
    )


@login_required
@require_POST
def campaign_create(request):
    organisations = scope.restrict(
        Organisation.objects.filter(kind__in=services.CAMPAIGN_KINDS), request.user, "change"
    )
    form = forms.CampaignCreateForm(request.POST, organisations=organisations)
    if not form.is_valid():
        campaigns = scope.restrict(Campaign.objects.select_related("organisation"), request.user)
        return render(
            request,
            "continuity/index.html",
            {"campaigns": campaigns, "form": form, "can_create": True, "candidates": []},
            status=400,
        )
    campaign = services.create_campaign(
        request.user, form.cleaned_data["organisation"], form.cleaned_data["title"]
    )
    messages.success(
        request, _("Campagne ouverte : importez un classeur ou saisissez les activités.")
    )
    return redirect("continuity:campaign", campaign.pk)


@login_required
def campaign_detail(request, pk):
    campaign = _campaign(request, pk)
    bia, analysis = services.analysed(campaign, user=request.user)
    can_change = scope.can(request.user, "change", campaign)
    activities = {a.code: a for a in campaign.activities.all()}
    rows = [
        {
            "result": r,
            "activity": activities.get(r.code),
            "rto": format_duration(r.rto_seconds),
            "rto_label": RTO_LABELS[r.rto_status],
        }
        for r in analysis.activities
    ]
    method = campaign.engine_method()
    ranked = sorted(
        analysis.activities,
        key=lambda r: (r.dmia_seconds is None, r.dmia_seconds or 0, r.code),
    )
    heatmap = [(r, r.curve) for r in ranked]
    pcra_problems = services.pcra_problems(campaign)
    resources = [
        {
            "o": o,
            "rto": format_duration(o.required_rto_seconds, "—"),
            "rpo": format_duration(o.required_rpo_seconds, "—"),
            "gap": GAP_LABELS[o.rto_gap],
            "rpo_gap": GAP_LABELS[o.rpo_gap],
            "measured_rto": format_duration(o.measured_rto_seconds, "—"),
            "measured_rpo": format_duration(o.measured_rpo_seconds, "—"),
            "from_backups": o.measured_from == "external",
        }
        for o in analysis.resources
    ]
    order = [
        {
            "i": i,
            "start": format_duration(i.start_seconds),
            "end": format_duration(i.end_seconds),
            "rto": format_duration(i.required_rto_seconds, "—"),
        }
        for i in analysis.order
    ]
    return render(
        request,
        "continuity/campaign.html",
        {
            "campaign": campaign,
            "analysis": analysis,
            "rows": rows,
            "heatmap": heatmap,
            "horizons": method.horizons,
            "threshold": method.threshold,
            "resources": resources,
            "order": order,
            "waves": [(w, format_duration(w.end_seconds)) for w in analysis.waves],
            "graph": svg.dependency_graph(bia, analysis) if bia.activities else "",
            "timeline": svg.recovery_timeline(analysis),
            "problems": analysis.problems,
            "pcra_problems": pcra_problems,
            "problem_count": len(analysis.problems) + len(pcra_problems),
            "missing_perimeters": [
                PERIMETERS.get(code, code)
                for gaps in analysis.coverage.missing.values()
                for code in gaps
                if code != "not_done"
            ],
            "can_change": can_change and campaign.is_draft,
            "can_record": can_change,
            "can_manage": scope.can(request.user, "manage", campaign),
            "dependencies": campaign.dependencies.select_related("target"),
            "needs": Need.objects.filter(activity__campaign=campaign).select_related("activity"),
            "scenarios": campaign.scenarios.all(),
            "crisis_roles": campaign.crisis_roles.all(),
            "procedures": campaign.procedures.select_related("scenario", "activity"),
            "exercises": [
                (e, services.exercise_problems(e))
                for e in campaign.exercises.select_related("scenario", "evidence").prefetch_related(
                    "actions"
                )
            ],
            "versions": Campaign.objects.filter(organisation=campaign.organisation).order_by(
                "-version"
            ),
        },
    )


@login_required
def campaign_edit(request, pk):
    campaign = _campaign(request, pk, "change")
    if not campaign.is_draft:
        raise PermissionDenied(_("Version validée : créez une nouvelle version."))
    form = forms.CampaignPcraForm(request.POST or None, instance=campaign)
    if request.method == "POST" and form.is_valid():
        form.save()
        audit.record(
            request.user,
            "continuity.campaign.update",
            campaign,
            campaign.organisation,
            f"PCRA « {campaign.title} » modifié",
            {"fields": form.changed_data},
        )
        return redirect("continuity:campaign", campaign.pk)
    return render(
        request,
        "continuity/form.html",
        {"campaign": campaign, "form": form, "heading": _("Gouvernance et PCRA")},
    )


@login_required
@require_POST
def campaign_validate(request, pk):
    campaign = _campaign(request, pk, "manage")
    try:
        created = services.validate_campaign(request.user, campaign)
    except ValidationError as exc:
        for message in exc.messages[:20]:
            messages.error(request, message)
        return redirect("continuity:campaign", campaign.pk)
    messages.success(
        request,
        _("Version validée ; %(n)s preuve(s) versée(s) pour D2.O1.A à D2.O1.C.")
        % {"n": len(created)},
    )
    return redirect("continuity:campaign", campaign.pk)


@login_required
@require_POST
def campaign_new_version(request, pk):
    campaign = _campaign(request, pk, "change")
    copy = services.new_version(request.user, campaign)
    messages.success(request, _("Version %(v)s créée en brouillon.") % {"v": copy.version})
    return redirect("continuity:campaign", copy.pk)


@login_required
def campaign_import(request, pk):
    campaign = _campaign(request, pk, "change")
    if not campaign.is_draft:
        raise PermissionDenied(_("Version validée : créez une nouvelle version."))
    form = forms.WorkbookForm(request.POST or None, request.FILES or None)
    problems = []
    status = 200
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["workbook"]
        outcome = services.import_workbook(request.user, campaign, io.BytesIO(upload.read()))
        if outcome.imported:
            messages.success(
                request,
                _("Classeur importé : %(counts)s.")
                % {"counts": ", ".join(f"{v} {k}" for k, v in outcome.counts.items())},
            )
            return redirect("continuity:campaign", campaign.pk)
        problems = outcome.problems
        status = 400
    return render(
        request,
        "continuity/import.html",
        {"campaign": campaign, "form": form, "problems": problems},
        status=status,
    )


def _download(content: bytes, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _name(campaign: Campaign, prefix: str, ext: str) -> str:
    return f"{prefix}-{slugify(campaign.organisation.name)}-v{campaign.version}.{ext}"


@login_required
def export_xlsx(request, pk):
    campaign = _campaign(request, pk)
    return _download(services.export_workbook(campaign), XLSX, _name(campaign, "bia", "xlsx"))


@login_required
def export_docx(request, pk):
    campaign = _campaign(request, pk)
    return _download(exports.pcra_docx(campaign), DOCX, _name(campaign, "pcra", "docx"))


@login_required
def export_pdf(request, pk):
    campaign = _campaign(request, pk)
    return _download(exports.pcra_pdf(campaign), "application/pdf", _name(campaign, "pcra", "pdf"))


# --- the rating grid ------------------------------------------------------------------------


def _grid_context(activity: Activity) -> dict:
    campaign = activity.campaign
    method = campaign.engine_method()
    bia_activity = next(
        a for a in services.to_engine(campaign).activities if a.code == activity.code
    )
    result = analyse_activity(bia_activity, method)
    levels = list(enumerate(method.levels))
    rows = []
    for impact in method.impact_types:
        per = bia_activity.ratings.get(impact.code, {})
        cells = [
            {"index": i, "horizon": h.label, "level": per.get(h.label)}
            for i, h in enumerate(method.horizons)
        ]
        rows.append({"impact": impact, "cells": cells})
    return {
        "activity": activity,
        "campaign": campaign,
        "method": method,
        "levels": levels,
        "grid": rows,
        "result": result,
        "curve": list(zip([h.label for h in method.horizons], result.curve, strict=True)),
        "rto": format_duration(result.rto_seconds),
        "rpo": format_duration(result.rpo_seconds),
        "suggested_rpo": format_duration(result.suggested_rpo_seconds, "—"),
        "rto_label": RTO_LABELS[result.rto_status],
        "threshold_label": method.levels[method.threshold],
        "breaks": [
            ({t.code: t.label for t in method.impact_types}.get(b.impact_type, b.impact_type), b)
            for b in result.monotony_breaks
        ],
    }


@login_required
def activity_detail(request, pk, activity_pk):
    campaign = _campaign(request, pk)
    activity = campaign.activities.filter(pk=activity_pk).first()
    if activity is None:
        raise Http404
    context = _grid_context(activity)
    context["can_change"] = campaign.is_draft and scope.can(request.user, "change", campaign)
    context["needs"] = activity.needs.all()
    context["dependencies"] = campaign.dependencies.filter(source=activity.code).select_related(
        "target"
    )
    return render(request, "continuity/activity.html", context)


def _parse_level(raw: str) -> int | None:
    if raw in ("", None):
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise ValidationError(_("Niveau invalide.")) from exc


@login_required
@require_POST
def rate(request, pk, activity_pk):
    """One cell of the grid (HTMX): save it and return the refreshed summary."""
    campaign = _campaign(request, pk, "change")
    activity = campaign.activities.filter(pk=activity_pk).first()
    if activity is None:
        raise Http404
    method = campaign.engine_method()
    try:
        impact = request.POST["impact"]
        index = int(request.POST["horizon"])
        horizon = method.horizons[index].label
        level = _parse_level(request.POST.get(f"cell__{impact}__{index}", ""))
        services.set_rating(request.user, activity, impact, horizon, level)
    except (KeyError, ValueError, IndexError, ValidationError) as exc:
        message = (
            "; ".join(exc.messages) if isinstance(exc, ValidationError) else _("Requête invalide.")
        )
        return HttpResponse(message, status=400)
    if request.htmx:
        return render(request, "continuity/_summary.html", _grid_context(activity))
    return redirect("continuity:activity", campaign.pk, activity.pk)


@login_required
@require_POST
def rate_all(request, pk, activity_pk):
    """The whole grid at once (without JavaScript)."""
    campaign = _campaign(request, pk, "change")
    activity = campaign.activities.filter(pk=activity_pk).first()
    if activity is None:
        raise Http404
    method = campaign.engine_method()
    try:
        for impact in method.impact_types:
            for index, horizon in enumerate(method.horizons):
                key = f"cell__{impact.code}__{index}"
                if key in request.POST:
                    services.set_rating(
                        request.user,
                        activity,
                        impact.code,
                        horizon.label,
                        _parse_level(request.POST[key]),
                    )
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    return redirect("continuity:activity", campaign.pk, activity.pk)


# --- campaign children: one generic add / edit / delete ------------------------------------


@dataclass(frozen=True)
class Child:
    model: type
    form: type
    label: str
    lookup: str = "campaign"
    draft_only: bool = True
    anchor: str = ""


CHILDREN = {
    "activite": Child(Activity, forms.ActivityForm, "Activité", anchor="activites"),
    "ressource": Child(Resource, forms.ResourceForm, "Ressource", anchor="ressources"),
    "dependance": Child(Dependency, forms.DependencyForm, "Dépendance", anchor="dependances"),
    "besoin": Child(
        Need, forms.NeedForm, "Besoin en mode dégradé", "activity__campaign", anchor="besoins"
    ),
    "scenario": Child(Scenario, forms.ScenarioForm, "Scénario", anchor="scenarios"),
    "cellule": Child(
        CrisisRole, forms.CrisisRoleForm, "Membre de la cellule de crise", anchor="cellule"
    ),
    "procedure": Child(Procedure, forms.ProcedureForm, "Procédure", anchor="procedures"),
    "exercice": Child(
        Exercise, forms.ExerciseForm, "Exercice", draft_only=False, anchor="exercices"
    ),
    "action": Child(
        RetexAction,
        forms.RetexActionForm,
        "Action RETEX",
        "exercise__campaign",
        draft_only=False,
        anchor="exercices",
    ),
}


def _child(kind: str) -> Child:
    if kind not in CHILDREN:
        raise Http404
    return CHILDREN[kind]


def _editable_campaign(request, pk, child: Child) -> Campaign:
    campaign = _campaign(request, pk, "change")
    if child.draft_only and not campaign.is_draft:
        raise PermissionDenied(_("Version validée : créez une nouvelle version."))
    return campaign


@login_required
def child_form(request, pk, kind, item_pk=None):
    child = _child(kind)
    campaign = _editable_campaign(request, pk, child)
    instance = None
    if item_pk is not None:
        instance = child.model.objects.filter(**{child.lookup: campaign}, pk=item_pk).first()
        if instance is None:
            raise Http404
    initial = {}
    if kind == "action" and request.GET.get("exercice"):
        initial["exercise"] = request.GET["exercice"]
    form = child.form(request.POST or None, instance=instance, campaign=campaign, initial=initial)
    if request.method == "POST" and form.is_valid():
        obj = form.save(commit=False)
        if child.lookup == "campaign":
            obj.campaign = campaign
        obj.save()
        audit.record(
            request.user,
            f"continuity.{kind}.{'update' if instance else 'create'}",
            obj,
            campaign.organisation,
            f"{child.label} « {obj} » ({campaign})",
        )
        return redirect(f"{campaign_url(campaign)}#{child.anchor}")
    heading = (_("Modifier : %(l)s") if instance else _("Ajouter : %(l)s")) % {
        "l": child.label.lower()
    }
    return render(
        request, "continuity/form.html", {"campaign": campaign, "form": form, "heading": heading}
    )


def campaign_url(campaign: Campaign) -> str:
    from django.urls import reverse

    return reverse("continuity:campaign", args=[campaign.pk])


@login_required
@require_POST
def child_delete(request, pk, kind, item_pk):
    child = _child(kind)
    campaign = _editable_campaign(request, pk, child)
    obj = child.model.objects.filter(**{child.lookup: campaign}, pk=item_pk).first()
    if obj is None:
        raise Http404
    if (
        isinstance(obj, Scenario)
        and obj.kind == ScenarioKind.SI_UNAVAILABLE
        and campaign.scenarios.filter(kind=ScenarioKind.SI_UNAVAILABLE).count() == 1
    ):
        messages.error(request, _("Le scénario « SI indisponible » est obligatoire."))
        return redirect(f"{campaign_url(campaign)}#{child.anchor}")
    if request.POST.get("confirm") != "1":
        return render(
            request,
            "continuity/delete_confirm.html",
            {
                "campaign": campaign,
                "label": child.label,
                "obj": obj,
                "cascade": _cascade(obj),
                "back": f"{campaign_url(campaign)}#{child.anchor}",
            },
        )
    label = str(obj)
    obj.delete()
    audit.record(
        request.user,
        f"continuity.{kind}.delete",
        campaign,
        campaign.organisation,
        f"{child.label} « {label} » supprimé(e)",
    )
    messages.success(
        request,
        _("%(kind)s « %(name)s » supprimé(e).") % {"kind": _(child.label), "name": label},
    )
    return redirect(f"{campaign_url(campaign)}#{child.anchor}")


def _cascade(obj) -> list[tuple[str, int]]:
    """What else a deletion removes: (model's French plural, count), the object itself aside."""
    from django.db import router
    from django.db.models.deletion import Collector

    collector = Collector(using=router.db_for_write(type(obj)))
    collector.collect([obj])
    found = []
    for model, instances in collector.data.items():
        count = len([i for i in instances if i != obj])
        if count:
            found.append((str(model._meta.verbose_name_plural), count))
    for qs in collector.fast_deletes:
        count = qs.count()
        if count:
            found.append((str(qs.model._meta.verbose_name_plural), count))
    return found


@login_required
@require_POST
def exercise_evidence(request, pk, exercise_pk):
    campaign = _campaign(request, pk, "change")
    exercise = campaign.exercises.filter(pk=exercise_pk).first()
    if exercise is None:
        raise Http404
    try:
        services.file_exercise_evidence(request.user, exercise)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Exercice versé en preuve de D2.O1.D."))
    return redirect(f"{campaign_url(campaign)}#exercices")


# --- coverage -------------------------------------------------------------------------------


@login_required
def coverage(request, org_pk):
    candidate = get_in_scope(Organisation, request.user, "view", pk=org_pk)
    if candidate.kind not in {OrgKind.GHT, OrgKind.EJ}:
        raise Http404
    unit = request.GET.get("unite", "").strip()[:64] or None
    weights = None
    if unit:
        weights = {}
        for key, value in request.GET.items():
            if key.startswith("poids_"):
                try:
                    weights[int(key[6:])] = float(Decimal(value.replace(",", ".")))
                except (ValueError, InvalidOperation):
                    messages.error(request, _("Poids invalide : %(v)s") % {"v": value})
    result = services.candidate_coverage(candidate, weights, unit, user=request.user)
    return render(
        request,
        "continuity/coverage.html",
        {"candidate": candidate, "r": result, "custom_unit": unit or ""},
    )
