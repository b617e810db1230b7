"""Annuaires Active Directory (D1): domains, audits, report, comparison, GHT convergence."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from careops.directory import charts, services
from careops.directory.forms import DomainForm, ImportForm, MilestoneForm, WaiverForm
from careops.directory.models import (
    Audit,
    AuditSource,
    AuditStatus,
    ConvergenceMilestone,
    Domain,
)
from careops.tenancy import scope
from careops.tenancy.choices import OrgKind
from careops.tenancy.models import Organisation
from careops.tenancy.shortcuts import get_in_scope

LEVEL_BADGE = {1: "not_met", 2: "not_met", 3: "partial", 4: "met", 5: "met"}


def _errors(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@login_required
def index(request):
    user = request.user
    domains = scope.restrict(Domain.objects.all(), user).select_related("organisation")
    rows = [(d, d.latest_audit()) for d in domains]
    ghts = scope.restrict(Organisation.objects.filter(kind=OrgKind.GHT), user)
    return render(
        request,
        "directory/index.html",
        {
            "rows": rows,
            "ghts": ghts,
            "badge": LEVEL_BADGE,
            "can_change": scope.restrict(Organisation.objects.all(), user, "change").exists(),
        },
    )


@login_required
def domain_edit(request, pk=None):
    status = 200
    domain = get_in_scope(Domain, request.user, "change", pk=pk) if pk else Domain()
    form = DomainForm(request.POST or None, instance=domain, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            domain = services.save_domain(
                request.user, form.save(commit=False), form.cleaned_data.get("password") or None
            )
        except ValidationError as exc:
            form.add_error(None, _errors(exc))
        except PermissionDenied as exc:
            if not pk:
                raise Http404 from exc
            form.add_error(None, str(exc))
            status = 403
        else:
            messages.success(request, _("Domaine enregistré."))
            return redirect("directory:domain", pk=domain.pk)
    return render(
        request,
        "directory/form.html",
        {
            "form": form,
            "title": _("Modifier le domaine") if pk else _("Déclarer un domaine AD"),
            "back": "directory:index",
        },
        status=status,
    )


@login_required
def domain_detail(request, pk):
    domain = get_in_scope(Domain, request.user, "view", pk=pk)
    audits = list(domain.audits.all().select_related("requested_by"))
    done = sorted(
        (a for a in audits if a.status == AuditStatus.DONE), key=lambda a: (a.collected_at, a.pk)
    )
    return render(
        request,
        "directory/domain.html",
        {
            "domain": domain,
            "audits": audits,
            "trend_svg": charts.trend_chart(done),
            "can_change": scope.can(request.user, "change", domain),
            "badge": LEVEL_BADGE,
            "import_form": ImportForm(),
            "waiver_form": WaiverForm(),
            "waivers": domain.waivers.all(),
        },
    )


@login_required
@require_POST
def audit_start(request, pk):
    domain = get_in_scope(Domain, request.user, "change", pk=pk)
    try:
        run = services.start_audit(request.user, domain, AuditSource.LDAP)
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return redirect("directory:domain", pk=domain.pk)
    return redirect("directory:audit", pk=run.pk)


@login_required
@require_POST
def audit_import(request, pk):
    domain = get_in_scope(Domain, request.user, "change", pk=pk)
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Import refusé : choisissez un format et un fichier."))
        return redirect("directory:domain", pk=domain.pk)
    try:
        run = services.start_audit(
            request.user, domain, form.cleaned_data["source"], form.cleaned_data["file"]
        )
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return redirect("directory:domain", pk=domain.pk)
    return redirect("directory:audit", pk=run.pk)


@login_required
@require_POST
def waiver_add(request, pk):
    domain = get_in_scope(Domain, request.user, "change", pk=pk)
    form = WaiverForm(request.POST)
    if form.is_valid():
        try:
            services.add_waiver(request.user, domain, **form.cleaned_data)
            messages.success(
                request, _("Dérogation enregistrée ; elle s'applique aux audits suivants.")
            )
        except ValidationError as exc:
            messages.error(request, _errors(exc))
    else:
        messages.error(request, _("Dérogation refusée : tous les champs sont obligatoires."))
    return redirect("directory:domain", pk=domain.pk)


def _audit_context(run: Audit) -> dict:
    result = run.result or {}
    points = result.get("points", [])
    failing = [p for p in points if p["status"] == "fail" and not p.get("waiver")]
    by_level = {lvl: [p for p in failing if p["level"] == lvl] for lvl in range(1, 5)}
    return {
        "run": run,
        "result": result,
        "by_level": [(lvl, ps) for lvl, ps in by_level.items() if ps],
        "waived": [p for p in points if p["status"] == "fail" and p.get("waiver")],
        "not_evaluated": [p for p in points if p["status"] == "not_evaluated"],
        "passed": sum(1 for p in points if p["status"] == "pass"),
        "paths_svg": charts.paths_graph(result.get("paths", [])),
        "badge": LEVEL_BADGE,
    }


@login_required
def audit_detail(request, pk):
    run = get_in_scope(Audit.objects.select_related("domain__organisation"), request.user, pk=pk)
    previous = (
        run.domain.audits.filter(status=AuditStatus.DONE, pk__lt=run.pk).order_by("-pk").first()
    )
    ctx = _audit_context(run) | {"previous": previous}
    template = (
        "directory/_progress.html" if request.headers.get("HX-Request") else "directory/audit.html"
    )
    return render(request, template, ctx)


@login_required
def audit_report(request, pk, fmt="html"):
    run = get_in_scope(Audit.objects.select_related("domain__organisation"), request.user, pk=pk)
    if run.status != AuditStatus.DONE:
        raise Http404
    html = render_to_string("directory/report.html", _audit_context(run), request=request)
    if fmt == "pdf":
        from weasyprint import HTML

        def no_fetch(url, *args, **kwargs):
            raise ValueError(f"ressource externe refusée : {url}")

        pdf = HTML(string=html, url_fetcher=no_fetch).write_pdf()
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="audit-ad-{run.domain.name}-{run.pk}.pdf"'
        )
        return response
    if fmt == "json":
        response = HttpResponse(services.report_json(run), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="audit-ad-{run.pk}.json"'
        return response
    return HttpResponse(html)


@login_required
def audit_compare(request, pk, other):
    newer = get_in_scope(Audit, request.user, pk=pk)
    older = get_in_scope(Audit, request.user, pk=other)
    if newer.domain_id != older.domain_id:
        raise Http404
    if (older.collected_at or older.created_at) > (newer.collected_at or newer.created_at):
        older, newer = newer, older
    return render(request, "directory/compare.html", services.compare(older, newer))


def _convergence_page(request, ght, milestone_form=None, status=200):
    data = services.convergence(request.user, ght)
    data["can_change"] = scope.can(request.user, "change", ght)
    data["badge"] = LEVEL_BADGE
    data["timeline_svg"] = charts.milestone_timeline(data["milestones"], data["today"])
    if data["can_change"] and ght.kind == OrgKind.GHT:  # milestones belong to a GHT
        data["milestone_form"] = milestone_form or MilestoneForm(user=request.user, ght=ght)
    return render(request, "directory/convergence.html", data, status=status)


@login_required
def convergence(request, pk):
    ght = get_in_scope(Organisation, request.user, "view", pk=pk)
    return _convergence_page(request, ght)


@login_required
@require_POST
def milestone_add(request, pk):
    ght = get_in_scope(Organisation, request.user, "change", pk=pk)
    form = MilestoneForm(request.POST, user=request.user, ght=ght)
    if form.is_valid():
        try:
            milestone = services.add_milestone(request.user, ght, **form.cleaned_data)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(None if field not in form.fields else field, errors)
            else:
                form.add_error(None, _errors(exc))
        except PermissionDenied as exc:
            raise Http404 from exc
        else:
            messages.success(
                request, _("Jalon « %(title)s » ajouté à la trajectoire.") % {"title": milestone}
            )
            return redirect("directory:convergence", pk=ght.pk)
    messages.error(request, _("Jalon refusé : corrigez les champs signalés."))
    return _convergence_page(request, ght, form, status=422)


def _milestone(request, pk, milestone_pk):
    ght = get_in_scope(Organisation, request.user, "change", pk=pk)
    milestone = get_in_scope(
        ConvergenceMilestone, request.user, "change", pk=milestone_pk, organisation=ght
    )
    return ght, milestone


@login_required
@require_POST
def milestone_done(request, pk, milestone_pk):
    ght, milestone = _milestone(request, pk, milestone_pk)
    try:
        services.mark_milestone_done(request.user, milestone)
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(
            request,
            _("Jalon « %(title)s » marqué atteint le %(date)s.")
            % {"title": milestone, "date": f"{milestone.done_on:%d/%m/%Y}"},
        )
    return redirect("directory:convergence", pk=ght.pk)


@login_required
@require_POST
def milestone_delete(request, pk, milestone_pk):
    ght, milestone = _milestone(request, pk, milestone_pk)
    title = milestone.title
    services.delete_milestone(request.user, milestone)
    messages.success(request, _("Jalon « %(title)s » supprimé.") % {"title": title})
    return redirect("directory:convergence", pk=ght.pk)


@login_required
@require_POST
def convergence_evidence(request, pk):
    ght = get_in_scope(Organisation, request.user, "change", pk=pk)
    try:
        services.convergence_evidence(request.user, ght)
        messages.success(request, _("Preuves de convergence déposées (D1.O6.A et D1.O6.B)."))
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    return redirect("directory:convergence", pk=ght.pk)
