"""Maturity self-assessment pages: campaigns, answers, result with radar, PDF report."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from careops.core.pdf import offline_pdf
from careops.maturity import charts, services
from careops.maturity.forms import AnswersForm, OpenCampaignForm
from careops.maturity.models import Campaign, CampaignStatus
from careops.tenancy import scope
from careops.tenancy.shortcuts import get_in_scope


@login_required
def index(request):
    campaigns = scope.restrict(Campaign.objects.select_related("organisation"), request.user)
    form = OpenCampaignForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.open_campaign(
                request.user,
                form.cleaned_data["organisation"],
                form.cleaned_data["questionnaire"],
                form.cleaned_data["title"],
            )
        except (ValidationError, PermissionDenied) as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("maturity:campaign", pk=campaign.pk)
    return render(request, "maturity/index.html", {"campaigns": campaigns[:200], "form": form})


def _sections(questionnaire, form, answers, notes):
    """The form's fields grouped as shown: context first, then each theme."""
    context = [form[q.id] for q in questionnaire.questions if not q.scored]
    sections = (
        [{"title": _("Contexte"), "fields": [(f, None, "") for f in context]}] if context else []
    )
    for theme in questionnaire.themes:
        fields = []
        for question in (q for q in questionnaire.questions if q.theme == theme.id):
            hidden = not questionnaire.shown(question, answers)
            fields.append((form[question.id], hidden, notes.get(question.id, "")))
        sections.append({"title": theme.title, "fields": fields})
    return sections


@login_required
def campaign(request, pk: int):
    item = get_in_scope(Campaign.objects.select_related("organisation"), request.user, pk=pk)
    questionnaire = services.questionnaire_of(item)
    answers = services.answers_of(item)
    can_change = item.status == CampaignStatus.OPEN and scope.can(request.user, "change", item)
    form = AnswersForm(request.POST or None, questionnaire=questionnaire, answers=answers)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        action = request.POST.get("action", "save")
        try:
            if action == "prefill":
                proposed = services.prefill(request.user, item)
                messages.success(
                    request,
                    _(
                        "%(n)s réponse(s) pré-remplie(s) à partir des données de careops (à vérifier)."
                    )
                    % {"n": len(proposed)}
                    if proposed
                    else _("careops n'a rien à proposer pour les questions restées sans réponse."),
                )
                return redirect("maturity:campaign", pk=item.pk)
            if form.is_valid():
                changed = services.save_answers(request.user, item, form.answers())
                if action == "close":
                    services.close_campaign(request.user, item)
                    messages.success(
                        request, _("Auto-évaluation validée : le résultat est versé comme preuve.")
                    )
                    return redirect("maturity:result", pk=item.pk)
                messages.success(request, _("%(n)s réponse(s) enregistrée(s).") % {"n": changed})
                return redirect("maturity:campaign", pk=item.pk)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect("maturity:campaign", pk=item.pk)
    notes = dict(item.answers.filter(prefilled=True).values_list("question", "note"))
    return render(
        request,
        "maturity/campaign.html",
        {
            "campaign": item,
            "questionnaire": questionnaire,
            "sections": _sections(questionnaire, form, answers, notes),
            "can_change": can_change,
            "result": services.current_result(item),
            "changes": item.changes.select_related("changed_by")[:30],
            "form_errors": form.is_bound and bool(form.errors),
        },
    )


def _result_context(item):
    result = services.current_result(item)
    before = services.previous(item)
    previous_scores = {t["id"]: t["score"] for t in before.result["themes"]} if before else None
    rows = []
    for theme in result["themes"]:
        old = previous_scores.get(theme["id"]) if previous_scores else None
        delta = None if old is None or theme["score"] is None else theme["score"] - old
        rows.append(theme | {"previous": old, "delta": delta})
    return {
        "campaign": item,
        "questionnaire": services.questionnaire_of(item),
        "result": result,
        "rows": rows,
        "previous": before,
        "radar": charts.radar(result["themes"], previous_scores),
    }


@login_required
def result(request, pk: int):
    item = get_in_scope(Campaign.objects.select_related("organisation"), request.user, pk=pk)
    return render(request, "maturity/result.html", _result_context(item))


@login_required
def report_pdf(request, pk: int):
    item = get_in_scope(Campaign.objects.select_related("organisation"), request.user, pk=pk)
    html = render_to_string("maturity/report_pdf.html", _result_context(item), request=request)
    pdf = offline_pdf(html)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="auto-evaluation-{item.pk}.pdf"'
    return response


@login_required
@require_POST
def close(request, pk: int):
    item = get_in_scope(Campaign, request.user, "change", pk=pk)
    try:
        services.close_campaign(request.user, item)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("maturity:campaign", pk=item.pk)
    return redirect("maturity:result", pk=item.pk)
