"""Crisis-exercise pages: library and planning, the exercise file, the live page (inject
timeline, main courante, clock; htmx with a plain-form fallback), the observers' grid, the
RETEX, the link with Continuité and the PDF file of the exercise."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from careops.core.pdf import offline_pdf
from careops.exercises import forms, services
from careops.exercises.engine import clock, scenarios
from careops.exercises.models import (
    EntryKind,
    Exercise,
    Inject,
    Participant,
    RetexAction,
)
from careops.tenancy import scope
from careops.tenancy.shortcuts import get_in_scope


def _exercise(request, pk: int, action: str = "view") -> Exercise:
    return get_in_scope(
        Exercise.objects.select_related("organisation"), request.user, action, pk=pk
    )


def _errors(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


@login_required
def index(request):
    exercises = scope.restrict(Exercise.objects.select_related("organisation"), request.user)
    form = forms.PlanForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            exercise = services.plan(
                request.user,
                data["organisation"],
                data["scenario"],
                data["planned_for"],
                data["title"],
                data["location"],
            )
        except (ValidationError, PermissionDenied) as exc:
            form.add_error(None, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(
                request,
                _("Exercice planifié : adaptez la chronologie et ajoutez les participants."),
            )
            return redirect("exercises:detail", pk=exercise.pk)
    library, errors = scenarios.validate([scenarios.LIBRARY_DIR])
    return render(
        request,
        "exercises/index.html",
        {"exercises": exercises[:200], "form": form, "library": library, "library_errors": errors},
    )


@login_required
def scenario(request, ident: str):
    try:
        item = scenarios.load(ident)
    except scenarios.ScenarioError as exc:
        from django.http import Http404

        raise Http404(str(exc)) from exc
    return render(request, "exercises/scenario.html", {"scenario": item})


def _roles(exercise: Exercise) -> list[dict]:
    return exercise.scenario.get("roles", [])


@login_required
def detail(request, pk: int):
    exercise = _exercise(request, pk)
    can_change = scope.can(request.user, "change", exercise)
    context = {
        "exercise": exercise,
        "can_change": can_change,
        "participants": exercise.participants.all(),
        "injects": exercise.injects.all(),
        "participant_form": forms.ParticipantForm(prefix="p", roles=_roles(exercise)),
        "problems": services.retex_problems(exercise),
        "pca": exercise.continuity_exercise,
    }
    if can_change and not exercise.continuity_exercise_id:
        context["link_form"] = forms.LinkForm(
            prefix="l", candidates=services.continuity_candidates(request.user, exercise)
        )
        campaigns = services.bia_campaigns(request.user, exercise)
        context["record_form"] = (
            forms.RecordForm(prefix="r", campaigns=campaigns) if campaigns.exists() else None
        )
    return render(request, "exercises/detail.html", context)


@login_required
@require_POST
def participant_add(request, pk: int):
    exercise = _exercise(request, pk, "change")
    form = forms.ParticipantForm(request.POST, prefix="p", roles=_roles(exercise))
    if form.is_valid():
        try:
            services.add_participant(request.user, exercise, form.save(commit=False))
        except ValidationError as exc:
            _errors(request, exc)
    else:
        messages.error(
            request,
            _("Participant non ajouté : le nom et la fonction dans l'exercice sont obligatoires."),
        )
    return redirect("exercises:detail", pk=exercise.pk)


@login_required
@require_POST
def participant_delete(request, pk: int, participant_pk: int):
    exercise = _exercise(request, pk, "change")
    participant = get_in_scope(
        Participant.objects.filter(exercise=exercise), request.user, "change", pk=participant_pk
    )
    try:
        services.remove_participant(request.user, exercise, participant)
    except ValidationError as exc:
        _errors(request, exc)
    return redirect("exercises:detail", pk=exercise.pk)


@login_required
def inject_edit(request, pk: int, inject_pk: int | None = None):
    exercise = _exercise(request, pk, "change")
    inject = (
        get_in_scope(Inject.objects.filter(exercise=exercise), request.user, "change", pk=inject_pk)
        if inject_pk
        else Inject(exercise=exercise)
    )
    if not exercise.is_planned:
        messages.error(request, _("L'exercice a commencé : la chronologie ne se modifie plus."))
        return redirect("exercises:detail", pk=exercise.pk)
    form = forms.InjectForm(request.POST or None, instance=inject)
    if request.method == "POST":
        if request.POST.get("delete") and inject.pk:
            services.delete_inject(request.user, exercise, inject)
            messages.success(request, _("Inject retiré."))
            return redirect("exercises:detail", pk=exercise.pk)
        if form.is_valid():
            services.save_inject(request.user, exercise, form.save(commit=False))
            messages.success(request, _("Inject enregistré."))
            return redirect("exercises:detail", pk=exercise.pk)
    return render(
        request,
        "exercises/inject_form.html",
        {"exercise": exercise, "form": form, "inject": inject},
    )


# --- live ------------------------------------------------------------------------------------


def _live_context(request, exercise: Exercise) -> dict:
    played = services.elapsed(exercise)
    return {
        "exercise": exercise,
        "can_change": scope.can(request.user, "change", exercise),
        "injects": exercise.injects.select_related("delivered_by"),
        "entries": exercise.log.select_related("author").order_by("-at", "-pk"),
        "elapsed": clock.format_elapsed(played),
        "elapsed_minutes": played // 60,
        "now": timezone.now(),
    }


def _live_response(request, exercise: Exercise, form=None):
    """The htmx fragment (timeline and main courante, plus a fresh entry form out of band), or
    a redirect to the live page for a plain form post."""
    if request.htmx:
        context = _live_context(request, exercise)
        html = render_to_string("exercises/_timeline.html", context, request=request)
        if form is not None:
            html += render_to_string(
                "exercises/_log_form.html",
                {**context, "log_form": form, "oob": True},
                request=request,
            )
        return HttpResponse(html)
    return redirect("exercises:live", pk=exercise.pk)


@login_required
def live(request, pk: int):
    exercise = _exercise(request, pk)
    if request.htmx and request.GET.get("fragment"):
        return HttpResponse(
            render_to_string(
                "exercises/_timeline.html", _live_context(request, exercise), request=request
            )
        )
    return render(
        request,
        "exercises/live.html",
        {**_live_context(request, exercise), "log_form": forms.LogForm()},
    )


@login_required
@require_POST
def clock_move(request, pk: int):
    exercise = _exercise(request, pk, "change")
    move = request.POST.get("move", "")
    if (
        move == "end"
        and request.POST.get("confirm") != "1"
        and exercise.status
        in (
            "running",
            "paused",
        )
    ):
        # ending cannot be undone: one click by mistake mid-exercise stopped the clock for good
        return render(
            request,
            "exercises/end_confirm.html",
            {
                "exercise": exercise,
                "elapsed": clock.format_elapsed(services.elapsed(exercise)),
                "pending": exercise.injects.filter(delivered_at__isnull=True).count(),
            },
        )
    try:
        services.move_clock(request.user, exercise, request.POST.get("move", ""))
    except ValidationError as exc:
        _errors(request, exc)
    return redirect("exercises:live", pk=exercise.pk)


@login_required
@require_POST
def deliver(request, pk: int, inject_pk: int):
    exercise = _exercise(request, pk, "change")
    inject = get_in_scope(
        Inject.objects.filter(exercise=exercise), request.user, "change", pk=inject_pk
    )
    try:
        services.deliver(request.user, exercise, inject)
    except ValidationError as exc:
        if request.htmx:
            return HttpResponse(" ".join(exc.messages), status=409)
        _errors(request, exc)
    return _live_response(request, exercise)


@login_required
@require_POST
def log_add(request, pk: int):
    exercise = _exercise(request, pk, "change")
    form = forms.LogForm(request.POST)
    if form.is_valid():
        try:
            services.log(
                request.user, exercise, form.cleaned_data["kind"], form.cleaned_data["text"]
            )
        except ValidationError as exc:
            if request.htmx:
                return HttpResponse(" ".join(exc.messages), status=409)
            _errors(request, exc)
        form = forms.LogForm()
    elif not request.htmx:
        messages.error(request, _("Entrée vide : rien n'a été enregistré."))
    return _live_response(request, exercise, form)


# --- grid, RETEX -----------------------------------------------------------------------------


@login_required
def grid(request, pk: int):
    exercise = _exercise(request, pk)
    mine = {
        r.criterion: (r.value, r.comment) for r in exercise.ratings.filter(observer=request.user)
    }
    form = forms.GridForm(request.POST or None, scenario=exercise.scenario, current=mine)
    if request.method == "POST":
        if form.is_valid():
            try:
                ratings = form.ratings()
                services.rate(request.user, exercise, ratings)
            except ValidationError as exc:
                _errors(request, exc)
            else:
                rated = sum(1 for value, _comment in ratings.values() if value is not None)
                messages.success(
                    request,
                    _(
                        "Votre grille est enregistrée : %(rated)s critère(s) noté(s), "
                        "%(unobserved)s non observé(s)."
                    )
                    % {"rated": rated, "unobserved": len(ratings) - rated},
                )
            return redirect("exercises:grid", pk=exercise.pk)
    results, overall = services.grid_results(exercise)
    rows = [(form[f"v_{c}"], form[f"c_{c}"]) for c in form.criteria]
    return render(
        request,
        "exercises/grid.html",
        {
            "exercise": exercise,
            "form": form,
            "rows": rows,
            "results": results,
            "overall": overall,
            "observers": exercise.ratings.values("observer").distinct().count(),
            "can_rate": scope.can(request.user, "change", exercise)
            and exercise.status in ("running", "paused", "ended"),
        },
    )


@login_required
def retex(request, pk: int):
    exercise = _exercise(request, pk)
    summary_form = forms.SummaryForm(prefix="s", initial={"summary": exercise.retex_summary})
    finding_form = forms.FindingForm(prefix="f")
    action_form = forms.ActionForm(prefix="a")
    if request.method == "POST":
        exercise = _exercise(request, pk, "change")
        what = request.POST.get("what")
        try:
            if what == "summary":
                summary_form = forms.SummaryForm(request.POST, prefix="s")
                if summary_form.is_valid():
                    services.save_summary(
                        request.user, exercise, summary_form.cleaned_data["summary"]
                    )
                    messages.success(request, _("Synthèse enregistrée."))
                    return redirect("exercises:retex", pk=exercise.pk)
            elif what == "finding":
                finding_form = forms.FindingForm(request.POST, prefix="f")
                if finding_form.is_valid():
                    services.add_finding(
                        request.user,
                        exercise,
                        finding_form.cleaned_data["kind"],
                        finding_form.cleaned_data["text"],
                    )
                    return redirect("exercises:retex", pk=exercise.pk)
            elif what == "action":
                action_form = forms.ActionForm(request.POST, prefix="a")
                if action_form.is_valid():
                    services.add_action(request.user, exercise, action_form.save(commit=False))
                    messages.success(
                        request,
                        _(
                            "Action ajoutée : elle apparaît au tableau de bord tant qu'elle est ouverte."
                        ),
                    )
                    return redirect("exercises:retex", pk=exercise.pk)
            elif what == "validate":
                services.validate_retex(request.user, exercise)
                messages.success(
                    request, _("RETEX validé : l'exercice est versé comme preuve de D1.O3.")
                )
                return redirect("exercises:detail", pk=exercise.pk)
        except ValidationError as exc:
            _errors(request, exc)
            return redirect("exercises:retex", pk=exercise.pk)
    results, overall = services.grid_results(exercise)
    return render(
        request,
        "exercises/retex.html",
        {
            "exercise": exercise,
            "can_change": scope.can(request.user, "change", exercise),
            "can_write": exercise.status == "ended",
            "findings": exercise.findings.all(),
            "actions": exercise.actions.all(),
            "summary_form": summary_form,
            "finding_form": finding_form,
            "action_form": action_form,
            "problems": services.retex_problems(exercise),
            "results": results,
            "overall": overall,
            "decisions": exercise.log.filter(kind=EntryKind.DECISION),
            "statuses": RetexAction._meta.get_field("status").choices,
            "today": timezone.localdate(),
        },
    )


@login_required
@require_POST
def action_status(request, pk: int, action_pk: int):
    exercise = _exercise(request, pk, "change")
    action = get_in_scope(
        RetexAction.objects.filter(exercise=exercise), request.user, "change", pk=action_pk
    )
    try:
        services.set_action_status(request.user, action, request.POST.get("status", ""))
    except ValidationError as exc:
        _errors(request, exc)
    return redirect("exercises:retex", pk=exercise.pk)


# --- Continuité, PDF -------------------------------------------------------------------------


@login_required
@require_POST
def link(request, pk: int):
    exercise = _exercise(request, pk, "change")
    try:
        if request.POST.get("what") == "record":
            campaign = request.POST.get("r-campaign") or ""
            services.record_in_continuity(
                request.user, exercise, int(campaign) if campaign.isdigit() else 0
            )
            messages.success(
                request,
                _("Exercice enregistré dans Continuité comme exercice de PCA sur le terrain."),
            )
        else:
            value = request.POST.get("l-pca_exercise") or ""
            services.link_continuity(
                request.user, exercise, int(value) if value.isdigit() else None
            )
            messages.success(request, _("Lien avec Continuité enregistré."))
    except ValidationError as exc:
        _errors(request, exc)
    return redirect("exercises:detail", pk=exercise.pk)


def file_context(exercise: Exercise) -> dict:
    results, overall = services.grid_results(exercise)
    return {
        "exercise": exercise,
        "participants": exercise.participants.all(),
        "injects": exercise.injects.all(),
        "entries": exercise.log.select_related("author"),
        "results": results,
        "overall": overall,
        "findings": exercise.findings.all(),
        "actions": exercise.actions.all(),
        "elapsed": clock.format_elapsed(services.elapsed(exercise)),
    }


@login_required
def file_pdf(request, pk: int):
    exercise = _exercise(request, pk)
    html = render_to_string("exercises/file_pdf.html", file_context(exercise), request=request)
    response = HttpResponse(offline_pdf(html), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="exercice-de-crise-{exercise.pk}.pdf"'
    return response
