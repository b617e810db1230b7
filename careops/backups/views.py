"""Sauvegardes (D2): inventory, repositories, runs, supervision and evidence pages."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from careops.backups import charts, choices, services
from careops.backups.forms import (
    AcknowledgeForm,
    BackupCopyForm,
    BackupSystemForm,
    JobImportForm,
    MilestoneForm,
    OrganisationForm,
    ProtectedSystemForm,
    RepositoryForm,
    RestoreForm,
    TrajectoryForm,
)
from careops.backups.models import (
    Alert,
    BackupSystem,
    JobRecord,
    ProtectedSystem,
    Repository,
    Trajectory,
    VerificationRun,
)
from careops.backups.objectives import ObjectiveResolver
from careops.tenancy import scope
from careops.tenancy.models import Organisation
from careops.tenancy.shortcuts import get_in_scope


def _form_page(request, form, title, back, enctype=False):
    return render(
        request,
        "backups/form.html",
        {"form": form, "title": title, "back": back, "multipart": enctype},
    )


@login_required
def index(request):
    user = request.user
    systems = scope.restrict(BackupSystem.objects.all(), user).select_related("organisation")
    protected = scope.restrict(ProtectedSystem.objects.all(), user).select_related(
        "organisation", "repository"
    )
    repositories = scope.restrict(Repository.objects.all(), user).select_related("organisation")
    trajectories = scope.restrict(Trajectory.objects.all(), user).prefetch_related("milestones")
    runs = scope.restrict(VerificationRun.objects.all(), user).select_related(
        "repository", "protected_system"
    )
    restores = list(
        runs.filter(kind=choices.RunKind.RESTORE, status=choices.RunStatus.DONE).order_by(
            "created_at"
        )
    )
    open_alerts = scope.restrict(Alert.objects.filter(resolved_at=None), user)
    now = timezone.now()
    protected = ObjectiveResolver().annotate(protected.select_related("resource__campaign"))
    return render(
        request,
        "backups/index.html",
        {
            "systems": [(s, s.rule_321()) for s in systems.prefetch_related("copies")],
            "protected": protected,
            "repositories": repositories,
            "trajectories": trajectories,
            "runs": runs[:10],
            "open_alerts": open_alerts.count(),
            "freshness_svg": charts.freshness_chart(protected, now),
            "restore_svg": charts.restore_chart(restores),
            "can_change": scope.restrict(Organisation.objects.all(), user, "change").exists(),
            "org_form": OrganisationForm(user=user),
        },
    )


# ---------------------------------------------------------------- backup systems and copies


@login_required
def system_edit(request, pk=None):
    instance = get_in_scope(BackupSystem, request.user, "change", pk=pk) if pk else None
    form = BackupSystemForm(request.POST or None, instance=instance, user=request.user)
    if request.method == "POST" and form.is_valid():
        system = services.save_with_audit(
            request.user,
            form.save(commit=False),
            form.cleaned_data["organisation"],
            "system_save",
            f"système de sauvegarde « {form.cleaned_data['name']} »",
        )
        messages.success(request, _("Système de sauvegarde enregistré."))
        return redirect("backups:system", pk=system.pk)
    return _form_page(request, form, _("Système de sauvegarde"), "backups:index")


@login_required
def system_detail(request, pk):
    system = get_in_scope(BackupSystem, request.user, "view", pk=pk)
    can_change = scope.can(request.user, "change", system)
    form = BackupCopyForm(request.POST or None, user=request.user)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        if form.is_valid():
            copy = form.save(commit=False)
            copy.system = system
            services.save_with_audit(
                request.user, copy, system.organisation, "copy_add", f"copie « {copy.label} »"
            )
            messages.success(request, _("Copie ajoutée."))
            return redirect("backups:system", pk=system.pk)
    return render(
        request,
        "backups/system.html",
        {
            "system": system,
            "copies": system.copies.all(),
            "rule": system.rule_321(),
            "form": form if can_change else None,
            "can_change": can_change,
        },
    )


@login_required
@require_POST
def system_evidence(request, pk):
    system = get_in_scope(BackupSystem, request.user, "change", pk=pk)
    made = services.system_evidence(request.user, system)
    messages.success(request, _("%(n)d preuve(s) produite(s) pour D2.O3.A.") % {"n": len(made)})
    return redirect("backups:system", pk=system.pk)


# ---------------------------------------------------------------- trajectories


@login_required
def trajectory_edit(request, pk=None):
    instance = get_in_scope(Trajectory, request.user, "change", pk=pk) if pk else None
    form = TrajectoryForm(request.POST or None, instance=instance, user=request.user)
    if request.method == "POST" and form.is_valid():
        trajectory = services.save_with_audit(
            request.user,
            form.save(commit=False),
            form.cleaned_data["organisation"],
            "trajectory_save",
            f"trajectoire « {form.cleaned_data['title']} »",
        )
        return redirect("backups:trajectory", pk=trajectory.pk)
    return _form_page(request, form, _("Trajectoire"), "backups:index")


@login_required
def trajectory_detail(request, pk):
    trajectory = get_in_scope(Trajectory, request.user, "view", pk=pk)
    can_change = scope.can(request.user, "change", trajectory)
    form = MilestoneForm(request.POST or None, user=request.user)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        if form.is_valid():
            milestone = form.save(commit=False)
            milestone.trajectory = trajectory
            services.save_with_audit(
                request.user,
                milestone,
                trajectory.organisation,
                "milestone_add",
                f"jalon « {milestone.label} »",
            )
            return redirect("backups:trajectory", pk=trajectory.pk)
    return render(
        request,
        "backups/trajectory.html",
        {
            "trajectory": trajectory,
            "milestones": trajectory.milestones.all(),
            "form": form if can_change else None,
            "today": timezone.localdate(),
        },
    )


@login_required
@require_POST
def trajectory_evidence(request, pk):
    trajectory = get_in_scope(Trajectory, request.user, "change", pk=pk)
    services.trajectory_evidence(request.user, trajectory)
    messages.success(request, _("Preuve produite."))
    return redirect("backups:trajectory", pk=trajectory.pk)


# ---------------------------------------------------------------- repositories and systems


@login_required
def repository_edit(request, pk=None):
    instance = get_in_scope(Repository, request.user, "manage", pk=pk) if pk else None
    form = RepositoryForm(request.POST or None, instance=instance, user=request.user)
    if request.method == "POST" and form.is_valid():
        repository = form.save(commit=False)
        repository.s3_lock = form.cleaned_data["s3_lock"]
        services.save_repository(
            request.user,
            repository,
            form.cleaned_data["organisation"],
            password=form.cleaned_data["password"],
            s3_access_key=form.cleaned_data["s3_access_key"],
            s3_secret_key=form.cleaned_data["s3_secret_key"],
        )
        return redirect("backups:repository", pk=repository.pk)
    return _form_page(request, form, _("Dépôt de sauvegarde"), "backups:index")


@login_required
def repository_detail(request, pk):
    repository = get_in_scope(Repository, request.user, "view", pk=pk)
    can_change = scope.can(request.user, "change", repository)
    runs = scope.restrict(repository.runs.all(), request.user).select_related("protected_system")
    return render(
        request,
        "backups/repository.html",
        {
            "repository": repository,
            "systems": ObjectiveResolver().annotate(
                scope.restrict(repository.systems.all(), request.user).select_related(
                    "resource__campaign"
                )
            ),
            "runs": runs[:20],
            "can_change": can_change,
            "restore_form": RestoreForm(repository=repository, user=request.user)
            if can_change
            else None,
        },
    )


@login_required
@require_POST
def repository_run(request, pk, kind):
    repository = get_in_scope(Repository, request.user, "change", pk=pk)
    if kind == choices.RunKind.RESTORE:
        form = RestoreForm(request.POST, repository=repository, user=request.user)
        if not form.is_valid():
            messages.error(request, _("Choisir le système et indiquer le référent métier."))
            return redirect("backups:repository", pk=pk)
        run = services.request_run(
            request.user,
            repository,
            kind,
            form.cleaned_data["protected_system"],
            form.cleaned_data["business_referent"],
        )
    else:
        run = services.request_run(request.user, repository, choices.RunKind.VERIFY)
    return redirect("backups:run", pk=run.pk)


@login_required
def protected_edit(request, pk=None):
    instance = get_in_scope(ProtectedSystem, request.user, "change", pk=pk) if pk else None
    form = ProtectedSystemForm(request.POST or None, instance=instance, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.save_with_audit(
            request.user,
            form.save(commit=False),
            form.cleaned_data["organisation"],
            "protected_save",
            f"système protégé « {form.cleaned_data['name']} »",
        )
        return redirect("backups:index")
    return _form_page(request, form, _("Système protégé"), "backups:index")


# ---------------------------------------------------------------- runs


@login_required
def run_detail(request, pk):
    run = get_in_scope(
        VerificationRun.objects.select_related("repository", "protected_system"),
        request.user,
        "view",
        pk=pk,
    )
    template = "backups/_run_live.html" if request.htmx else "backups/run.html"
    return render(
        request,
        template,
        {
            "run": run,
            "can_change": scope.can(request.user, "change", run),
            "repo_rows": _check_rows(run.result.get("repositories", [])),
            "system_rows": _check_rows(run.result.get("systems", [])),
        },
    )


CHECK_LABELS = {
    "access": _lazy("Accès au dépôt"),
    "integrity": _lazy("Intégrité"),
    "append_only": _lazy("Ajout seul (borg)"),
    "object_lock": _lazy("Verrouillage S3 (Object Lock)"),
    "restore": _lazy("Restauration"),
    "freshness": _lazy("Fraîcheur"),
    "jobs": _lazy("Tâches"),
}


def _check_rows(reports) -> list[dict]:
    """Checks of a run's result with French labels, for the run page."""
    outcomes = dict(choices.Outcome.choices)
    return [
        {
            "subject": report.get("name", ""),
            "label": CHECK_LABELS.get(check["name"], check["name"]),
            "status": check["status"],
            "status_label": outcomes.get(check["status"], check["status"]),
            "message": check["message"],
            "duration": check.get("duration_s"),
        }
        for report in reports
        for check in report.get("checks", [])
    ]


@login_required
@require_POST
def run_evidence(request, pk):
    run = get_in_scope(
        VerificationRun.objects.select_related("repository", "protected_system"),
        request.user,
        "change",
        pk=pk,
    )
    try:
        services.restore_test_evidence(request.user, run)
        messages.success(request, _("Preuve D2.O4 produite."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("backups:run", pk=run.pk)


# ---------------------------------------------------------------- supervision


@login_required
def alerts(request):
    """The central view: every open alert the user may see (a GHT RSSI sees all its members)."""
    show_all = request.GET.get("toutes") == "1"
    queryset = scope.restrict(Alert.objects.all(), request.user).select_related(
        "organisation", "acknowledged_by"
    )
    if not show_all:
        queryset = queryset.filter(resolved_at=None)
    rows = [
        (a, scope.can(request.user, "manage", a))
        for a in queryset.order_by("organisation__path", "-opened_at")
    ]
    jobs = scope.restrict(JobRecord.objects.all(), request.user).select_related("organisation")[:20]
    return render(
        request,
        "backups/alerts.html",
        {"rows": rows, "show_all": show_all, "ack_form": AcknowledgeForm(), "jobs": jobs},
    )


@login_required
@require_POST
def alert_acknowledge(request, pk):
    alert = get_in_scope(Alert, request.user, "manage", pk=pk)
    form = AcknowledgeForm(request.POST)
    if form.is_valid():
        services.acknowledge(request.user, alert, form.cleaned_data["comment"])
        messages.success(request, _("Alerte acquittée."))
    else:
        messages.error(request, _("Un commentaire est obligatoire pour acquitter."))
    return redirect("backups:alerts")


@login_required
def jobs_import(request):
    form = JobImportForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > settings.UPLOAD_MAX_BYTES:
            form.add_error("file", _("Fichier trop volumineux."))
            return _form_page(
                request, form, _("Importer un rapport de tâches"), "backups:alerts", True
            )
        try:
            created, total = services.import_job_report(
                request.user,
                form.cleaned_data["organisation"],
                upload.read(),
                upload.name,
                form.cleaned_data["format"],
            )
        except ValidationError as exc:
            form.add_error("file", " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("%(created)d tâche(s) importée(s) sur %(total)d lue(s).")
                % {"created": created, "total": total},
            )
            return redirect("backups:alerts")
    return _form_page(request, form, _("Importer un rapport de tâches"), "backups:alerts", True)


@login_required
@require_POST
def organisation_evidence(request, kind):
    if kind not in ("supervision", "plan"):
        raise Http404
    form = OrganisationForm(request.POST, user=request.user)
    if not form.is_valid():
        raise PermissionDenied
    organisation = form.cleaned_data["organisation"]
    try:
        if kind == "supervision":
            services.monitoring_report_evidence(request.user, organisation)
        else:
            services.backup_plan_evidence(request.user, organisation)
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
        return redirect("backups:index")
    messages.success(request, _("Preuve produite pour %(org)s.") % {"org": organisation.name})
    return redirect("backups:index")
