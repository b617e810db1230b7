"""Awareness pages: training campaigns (sessions, sign-in sheets, shares), headcounts, shares per
structure and profession with the parent roll-up and exports, phishing exercises."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from careops.awareness import charts, services
from careops.awareness.engine.training import percent
from careops.awareness.forms import (
    AttendanceImportForm,
    CampaignForm,
    HeadcountForm,
    HeadcountImportForm,
    PhishingImportForm,
    ReportForm,
    SessionForm,
)
from careops.awareness.models import (
    Attendance,
    CampaignStatus,
    PhishingCampaign,
    StaffHeadcount,
    TrainingCampaign,
    TrainingSession,
)
from careops.compliance.services import today_in_paris
from careops.tenancy import scope
from careops.tenancy.models import Organisation
from careops.tenancy.shortcuts import get_in_scope

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "message_dict"):
        return [m for values in exc.message_dict.values() for m in values]
    return list(exc.messages)


def _download(rows, fmt: str, name: str, title: str) -> HttpResponse:
    if fmt == "xlsx":
        response = HttpResponse(services.export_xlsx(rows, title), content_type=XLSX)
    elif fmt == "csv":
        response = HttpResponse(services.export_csv(rows), content_type="text/csv; charset=utf-8")
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@login_required
def index(request):
    user = request.user
    campaigns = scope.restrict(TrainingCampaign.objects.select_related("organisation"), user)
    form = CampaignForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        organisation = data.pop("organisation")
        try:
            campaign = services.create_campaign(user, organisation, **data)
        except (ValidationError, PermissionDenied) as exc:
            form.add_error(
                None, "; ".join(_errors(exc)) if isinstance(exc, ValidationError) else str(exc)
            )
        else:
            messages.success(request, _("Campagne créée : ajoutez ses séances."))
            return redirect("awareness:campaign", pk=campaign.pk)
    phishing = scope.restrict(PhishingCampaign.objects.select_related("organisation"), user)
    return render(
        request,
        "awareness/index.html",
        {
            "campaigns": campaigns[:200],
            "form": form,
            "phishing": list(phishing.order_by("-started_on", "-pk")[:5]),
            "figures": services.cockpit_figures(user),
        },
    )


@login_required
def campaign(request, pk: int):
    item = get_in_scope(
        TrainingCampaign.objects.select_related("organisation"), request.user, pk=pk
    )
    can_change = item.status == CampaignStatus.OPEN and scope.can(request.user, "change", item)
    session_form = SessionForm(request.POST or None)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        if session_form.is_valid():
            try:
                services.add_session(request.user, item, **session_form.cleaned_data)
            except ValidationError as exc:
                for message in _errors(exc):
                    messages.error(request, message)
            else:
                messages.success(request, _("Séance ajoutée : importez son émargement."))
            return redirect("awareness:campaign", pk=item.pk)
    sessions = scope.restrict(TrainingSession.objects.filter(campaign=item), request.user)
    attendances = (
        scope.restrict(Attendance.objects.filter(session__campaign=item), request.user)
        .select_related("structure", "session")
        .order_by("session__date", "line")
    )
    report, frozen = services.campaign_figures(request.user, item)
    return render(
        request,
        "awareness/campaign.html",
        {
            "campaign": item,
            "sessions": sessions,
            "session_form": session_form,
            "import_form": AttendanceImportForm(campaign=item),
            "can_change": can_change,
            "report": report,
            "frozen": frozen,
            "attendances": attendances[:500],
            "attendance_count": attendances.count(),
        },
    )


@login_required
def import_sheet(request, pk: int, session_pk: int):
    item = get_in_scope(TrainingCampaign, request.user, "change", pk=pk)
    session = get_in_scope(
        TrainingSession.objects.filter(campaign=item), request.user, "change", pk=session_pk
    )
    form = AttendanceImportForm(request.POST or None, request.FILES or None, campaign=item)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            done = services.import_attendance(
                request.user, session, form.cleaned_data["sheet"], form.cleaned_data["structure"]
            )
        except ValidationError as exc:
            problems = _errors(exc)
        else:
            text = _(
                "Émargement importé : %(rows)s ligne(s), %(people)s personne(s) formée(s), "
                "%(absent)s absence(s) ou formation(s) non terminée(s)."
            ) % {"rows": done["rows"], "people": done["people"], "absent": done["absent"]}
            if done["merged"]:
                text += " " + _(
                    "%(n)s personne(s) présente(s) plusieurs fois, comptée(s) une fois."
                ) % {"n": len(done["merged"])}
            if done["outside"]:
                text += " " + _(
                    "%(n)s ligne(s) datée(s) hors des dates de la campagne : comptée(s) dans la "
                    "part sur 12 mois, pas dans celle de la campagne."
                ) % {"n": done["outside"]}
            messages.success(request, text)
            return redirect("awareness:campaign", pk=item.pk)
    return render(
        request,
        "awareness/import.html",
        {"campaign": item, "session": session, "form": form, "problems": problems},
    )


@login_required
@require_POST
def close(request, pk: int):
    item = get_in_scope(TrainingCampaign, request.user, "change", pk=pk)
    try:
        services.close_campaign(request.user, item)
    except ValidationError as exc:
        for message in _errors(exc):
            messages.error(request, message)
    else:
        messages.success(
            request, _("Campagne clôturée : sa part de personnel formé est versée comme preuve.")
        )
    return redirect("awareness:campaign", pk=item.pk)


@login_required
def headcounts(request):
    user = request.user
    kind = request.POST.get("form") if request.method == "POST" else None
    form = HeadcountForm(request.POST if kind == "manual" else None, user=user)
    upload = HeadcountImportForm(
        request.POST if kind == "import" else None,
        request.FILES if kind == "import" else None,
        user=user,
        prefix="import",
    )
    problems: list[str] = []
    if request.method == "POST":
        try:
            if upload.is_bound and upload.is_valid():
                count = services.import_headcounts(
                    user, upload.cleaned_data["organisation"], upload.cleaned_data["sheet"]
                )
                messages.success(request, _("Effectifs importés : %(n)s ligne(s).") % {"n": count})
                return redirect("awareness:headcounts")
            if form.is_bound and form.is_valid():
                services.save_headcount(
                    user,
                    form.cleaned_data["organisation"],
                    form.cleaned_data["profession"],
                    form.cleaned_data["headcount"],
                )
                messages.success(request, _("Effectif enregistré."))
                return redirect("awareness:headcounts")
        except ValidationError as exc:
            problems = _errors(exc)
        except PermissionDenied as exc:
            problems = [str(exc)]
    rows = scope.restrict(StaffHeadcount.objects.select_related("organisation"), user)
    return render(
        request,
        "awareness/headcounts.html",
        {"rows": rows[:1000], "form": form, "upload": upload, "problems": problems},
    )


def _report_params(request):
    form = ReportForm(request.GET or None, user=request.user)
    visible = form.fields["organisation"].queryset
    if form.is_bound and form.is_valid():
        node = form.cleaned_data["organisation"]
        end = form.cleaned_data["end"] or today_in_paris()
        months = form.cleaned_data["months"] or services.DEFAULT_MONTHS
    else:
        node = visible.order_by("depth", "path").first()
        end, months = today_in_paris(), services.DEFAULT_MONTHS
        if form.is_bound:
            node = None
    return form, node, end, months


@login_required
def shares(request):
    form, node, end, months = _report_params(request)
    report = services.report(request.user, node, end, months) if node else None
    children = []
    if node is not None:
        children = list(
            scope.restrict(Organisation.objects.filter(parent=node), request.user).order_by("name")
        )
    return render(
        request,
        "awareness/shares.html",
        {
            "form": form,
            "node": node,
            "report": report,
            "months": months,
            "end": end,
            "children": children,
        },
    )


@login_required
def shares_export(request, fmt: str):
    form, node, end, months = _report_params(request)
    if node is None:
        raise Http404
    report = services.report(request.user, node, end, months)
    return _download(
        services.report_rows(report), fmt, f"part-formee-{node.pk}-{end:%Y%m%d}", _("Part formée")
    )


@login_required
def phishing(request):
    user = request.user
    form = PhishingImportForm(request.POST or None, request.FILES or None, user=user)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            item = services.import_phishing(
                user,
                form.cleaned_data["organisation"],
                form.cleaned_data["export"],
                name=form.cleaned_data["name"],
                replace=form.cleaned_data["replace"],
            )
        except ValidationError as exc:
            problems = _errors(exc)
        except PermissionDenied as exc:
            problems = [str(exc)]
        else:
            messages.success(request, item.outcome)
            return redirect("awareness:phishing_detail", pk=item.pk)
    campaigns = list(
        scope.restrict(PhishingCampaign.objects.select_related("organisation"), user).order_by(
            "started_on", "pk"
        )[:500]
    )
    return render(
        request,
        "awareness/phishing.html",
        {
            "form": form,
            "problems": problems,
            "campaigns": campaigns,
            "chart": charts.rates_over_campaigns(campaigns[-24:]) if campaigns else None,
        },
    )


@login_required
def phishing_detail(request, pk: int):
    item = get_in_scope(
        PhishingCampaign.objects.select_related("organisation"), request.user, pk=pk
    )
    positions = []
    for position, counts in sorted(item.by_position.items()):
        delivered = counts.get("delivered") or 0
        positions.append(
            {
                "label": position,
                "delivered": delivered,
                **{
                    k: percent(counts.get(k, 0) / delivered if delivered else None)
                    for k in ("opened", "clicked", "submitted", "reported")
                },
            }
        )
    return render(
        request,
        "awareness/phishing_detail.html",
        {
            "campaign": item,
            "positions": positions,
            "can_change": scope.can(request.user, "change", item),
        },
    )


@login_required
def phishing_delete(request, pk: int):
    """A confirmation page (GET), then the deletion (POST): an exercise imported by mistake."""
    item = get_in_scope(
        PhishingCampaign.objects.select_related("organisation"), request.user, "change", pk=pk
    )
    if request.method == "POST":
        messages.success(request, services.delete_phishing(request.user, item))
        return redirect("awareness:phishing")
    return render(request, "awareness/phishing_delete.html", {"campaign": item})


@login_required
def phishing_export(request, fmt: str):
    campaigns = scope.restrict(
        PhishingCampaign.objects.select_related("organisation"), request.user
    ).order_by("started_on", "pk")
    return _download(
        services.phishing_rows(campaigns),
        fmt,
        f"hameconnage-{dt.date.today():%Y%m%d}",
        _("Hameçonnage"),
    )
