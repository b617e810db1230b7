"""Exposition sur internet (D1): assets and proof of ownership, audits, findings, reports."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from careops.exposure import reports, services
from careops.exposure.forms import (
    ApprovalForm,
    AssetForm,
    AttestationForm,
    FindingForm,
    ProfileForm,
)
from careops.exposure.models import Asset, AssetStatus, Finding, FindingStatus, ScanRun
from careops.tenancy import scope
from careops.tenancy.models import Organisation
from careops.tenancy.shortcuts import get_in_scope

FINDINGS_PER_PAGE = 50  # an organisation's findings page: the open and most severe first


def _error_text(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return " ".join(m for messages_ in exc.message_dict.values() for m in messages_)
    return " ".join(exc.messages)


@login_required
def index(request):
    user = request.user
    organisations = scope.restrict(Organisation.objects.all(), user, "manage")
    form = AssetForm(request.POST or None, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        try:
            services.declare_asset(
                user, form.cleaned_data["organisation"], form.cleaned_data["value"]
            )
        except ValidationError as exc:
            form.add_error("value", _error_text(exc))
        else:
            messages.success(
                request, _("Actif déclaré : prouvez maintenant qu'il vous appartient.")
            )
            return redirect("exposure:index")
    assets = scope.restrict(Asset.objects.all(), user).select_related(
        "organisation", "resolved_from"
    )
    runs = scope.restrict(ScanRun.objects.all(), user).select_related("organisation")[:20]
    open_findings = scope.restrict(
        Finding.objects.filter(status__in=[FindingStatus.OPEN, FindingStatus.IN_PROGRESS]), user
    )
    visible_orgs = scope.restrict(
        Organisation.objects.filter(exposure_assets__isnull=False).distinct(), user
    )
    pending = [
        a
        for a in assets
        if a.status == AssetStatus.ATTESTED and services.can_approve(user, a.organisation)
    ]
    return render(
        request,
        "exposure/index.html",
        {
            "form": form if organisations.exists() else None,
            "assets": assets,
            "runs": runs,
            "open_count": open_findings.count(),
            "organisations": visible_orgs,
            "pending": pending,
        },
    )


@login_required
def organisation(request, pk):
    org = get_in_scope(Organisation, request.user, "view", pk=pk)
    profile = services.profile_for(org)
    can_manage = scope.can(request.user, "manage", org)
    profile_form = ProfileForm(
        request.POST or None, initial={"ports": profile.ports, "monthly": profile.monthly}
    )
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if profile_form.is_valid():
            try:
                services.update_profile(
                    request.user,
                    org,
                    profile_form.cleaned_data["ports"],
                    profile_form.cleaned_data["monthly"],
                )
            except ValidationError as exc:
                profile_form.add_error("ports", _error_text(exc))
            else:
                messages.success(request, _("Profil enregistré."))
                return redirect("exposure:organisation", pk=org.pk)
    findings = services.by_priority(
        scope.restrict(Finding.objects.filter(organisation=org), request.user)
    )
    page = Paginator(findings, FINDINGS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "exposure/organisation.html",
        {
            "org": org,
            "profile": profile,
            "profile_form": profile_form if can_manage else None,
            "can_manage": can_manage,
            "is_admin": services.is_administrator(request.user, org),
            "assets": scope.restrict(Asset.objects.filter(organisation=org), request.user),
            "runs": scope.restrict(
                ScanRun.objects.filter(organisation=org).select_related("organisation"),
                request.user,
            )[:24],
            "findings": page,
            "page": page,
            "history": services.history(org),
        },
    )


@login_required
def asset_detail(request, pk):
    asset = get_in_scope(Asset, request.user, "view", pk=pk)
    return render(
        request,
        "exposure/asset.html",
        {
            "asset": asset,
            "can_manage": scope.can(request.user, "manage", asset),
            "can_approve": services.can_approve(request.user, asset.organisation),
            "is_admin": services.is_administrator(request.user, asset.organisation),
            "limit_text": services.approval_limit_text(asset),
            "attestation_form": AttestationForm(),
            "approval_form": ApprovalForm(),
            "resolved": scope.restrict(asset.resolved_addresses.all(), request.user),
        },
    )


@login_required
@require_POST
def asset_verify(request, pk):
    asset = get_in_scope(Asset, request.user, "manage", pk=pk)
    try:
        ok = services.verify_domain(request.user, asset)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        if ok:
            messages.success(request, _("Domaine vérifié."))
        else:
            messages.error(
                request,
                _("Jeton introuvable dans le DNS : %(note)s.") % {"note": asset.verification_note},
            )
    return redirect("exposure:asset", pk=asset.pk)


@login_required
@require_POST
def asset_attest(request, pk):
    asset = get_in_scope(Asset, request.user, "manage", pk=pk)
    form = AttestationForm(request.POST)
    if form.is_valid():
        try:
            services.attest_range(request.user, asset, form.cleaned_data["attestation"])
            messages.success(
                request,
                _(
                    "Attestation déposée : elle doit être approuvée par un instructeur de votre "
                    "ARS ou un administrateur de la plateforme."
                ),
            )
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
    else:
        messages.error(request, _("L'attestation est obligatoire."))
    return redirect("exposure:asset", pk=asset.pk)


@login_required
@require_POST
def asset_approve(request, pk):
    asset = get_in_scope(Asset, request.user, "view", pk=pk)
    if not services.can_approve(request.user, asset.organisation):
        raise PermissionDenied
    form = ApprovalForm(request.POST)
    form.is_valid()  # one optional field; the service checks it
    try:
        services.approve_range(
            request.user,
            asset,
            approve=request.POST.get("decision") != "reject",
            holder=form.cleaned_data.get("holder", ""),
        )
        messages.success(request, _("Décision enregistrée."))
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    except PermissionDenied as exc:  # size beyond an instructor's limit, or own attestation
        messages.error(request, str(exc))
    return redirect("exposure:asset", pk=asset.pk)


@login_required
@require_POST
def internal_audit(request, pk):
    org = get_in_scope(Organisation, request.user, "view", pk=pk)
    services.set_internal_audit(request.user, org, request.POST.get("enabled") == "1")
    messages.success(request, _("Option d'audit interne mise à jour."))
    return redirect("exposure:organisation", pk=org.pk)


@login_required
@require_POST
def run_start(request, pk):
    org = get_in_scope(Organisation, request.user, "manage", pk=pk)
    try:
        run = services.start_run(request.user, org)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect("exposure:organisation", pk=org.pk)
    messages.success(request, _("Audit lancé."))
    return redirect("exposure:run", pk=run.pk)


@login_required
@require_POST
def run_cancel(request, pk):
    run = get_in_scope(ScanRun, request.user, "manage", pk=pk)
    services.cancel_run(request.user, run)
    return redirect("exposure:run", pk=run.pk)


@login_required
def run_detail(request, pk):
    run = get_in_scope(ScanRun.objects.select_related("organisation"), request.user, "view", pk=pk)
    data = reports.report_data(run)
    findings = {
        f.fingerprint: f
        for f in scope.restrict(Finding.objects.filter(organisation=run.organisation), request.user)
    }
    diff = run.diff or {}
    fixed = [findings[f] for f in diff.get("fixed", []) if f in findings]
    return render(
        request,
        "exposure/run.html",
        {
            "run": run,
            "report": data,
            "tracked": findings,
            "fixed": fixed,
            "new": set(diff.get("new", [])),
            "can_manage": scope.can(request.user, "manage", run),
            "pdf": reports.pdf_available(),
        },
    )


@login_required
def run_progress(request, pk):
    run = get_in_scope(ScanRun, request.user, "view", pk=pk)
    # Served to a page that was watching the run: once done, offer to reload it with the result.
    return render(request, "exposure/_progress.html", {"run": run, "live": True})


@login_required
def run_report(request, pk, fmt):
    run = get_in_scope(ScanRun.objects.select_related("organisation"), request.user, "view", pk=pk)
    name = f"audit-exposition-{run.pk}"
    if fmt == "json":
        response = JsonResponse(
            reports.report_data(run), json_dumps_params={"ensure_ascii": False, "indent": 2}
        )
    elif fmt == "csv":
        response = HttpResponse(
            "\ufeff" + reports.to_csv(run), content_type="text/csv; charset=utf-8"
        )
    elif fmt == "html":
        return HttpResponse(reports.to_html(run))
    elif fmt == "pdf" and reports.pdf_available():
        response = HttpResponse(reports.to_pdf(run), content_type="application/pdf")
    else:
        return HttpResponse(_("Format indisponible."), status=404)
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@login_required
def finding_detail(request, pk):
    finding = get_in_scope(Finding, request.user, "view", pk=pk)
    can_change = scope.can(request.user, "change", finding)
    initial = {
        "status": finding.status if finding.status != FindingStatus.FIXED else FindingStatus.OPEN,
        "owner": finding.owner,
        "due_date": finding.due_date,
        "justification": finding.justification,
        "risk_expires_on": finding.risk_expires_on,
    }
    form = FindingForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.update_finding(request.user, finding, **form.cleaned_data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("Constat mis à jour."))
                return redirect("exposure:finding", pk=finding.pk)
    return render(
        request,
        "exposure/finding.html",
        {
            "finding": finding,
            "form": form if can_change else None,
            "cves": json.dumps(finding.cves),
        },
    )
