"""Accès distants (D3): inventory, reviews (checks, heatmap, remediation, trend), attestations."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from careops.remote_access import charts, choices, services
from careops.remote_access.forms import (
    AccessPathForm,
    AttestationForm,
    BulkForm,
    DecisionForm,
    ImportForm,
    ReviewForm,
)
from careops.remote_access.models import AccessPath, Attestation, Review
from careops.tenancy import scope
from careops.tenancy.models import Organisation
from careops.tenancy.shortcuts import get_in_scope


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "message_dict"):
        return [m for values in exc.message_dict.values() for m in values]
    return list(exc.messages)


def _visible_path(request, pk) -> AccessPath:
    path = services.visible_paths(request.user).filter(pk=pk).select_related("organisation").first()
    if path is None:
        raise Http404(_("Objet introuvable."))
    return path


def _latest_reviews(user):
    reviews = scope.restrict(Review.objects.all(), user).select_related("organisation")
    latest: dict[int, Review] = {}
    for review in reviews.order_by("-created_at", "-pk"):
        latest.setdefault(review.organisation_id, review)
    return list(latest.values())


@login_required
def index(request):
    user = request.user
    paths = services.visible_paths(user).select_related("organisation").prefetch_related("targets")
    can_change = scope.restrict(Organisation.objects.all(), user, "change").exists()
    latest = _latest_reviews(user)
    by_ref: dict[tuple[int, str], dict] = {}
    for review in latest:
        for result in review.result.get("paths", []):
            by_ref[(review.organisation_id, result["ref"])] = result
    rows = [(p, by_ref.get((p.organisation_id, p.ref))) for p in paths]
    pending = scope.restrict(
        Attestation.objects.filter(status=choices.AttestationStatus.PENDING), user, "manage"
    ).select_related("path")
    return render(
        request,
        "remote_access/index.html",
        {
            "rows": rows,
            "latest": latest,
            "can_change": can_change,
            "vendor_only": services.is_vendor_only(user),
            "pending": pending,
            "bulk_form": BulkForm(),
        },
    )


@login_required
def path_detail(request, pk):
    path = _visible_path(request, pk)
    user = request.user
    staff = scope.can(user, "view", path)
    result = None
    review = (
        scope.restrict(Review.objects.filter(organisation=path.organisation), user)
        .order_by("-created_at", "-pk")
        .first()
    )
    if review:
        result = next((p for p in review.result.get("paths", []) if p["ref"] == path.ref), None)
    own = path.vendor_users.filter(pk=user.pk).exists() and scope.can(user, "vendor_attest", path)
    attestations = path.attestations.select_related("submitted_by", "decided_by")
    if not staff:
        attestations = attestations.filter(submitted_by=user)
    return render(
        request,
        "remote_access/path.html",
        {
            "path": path,
            "result": charts.heatmap({"paths": [result]})[0] if result else None,
            "review": review,
            "staff": staff,
            "can_change": scope.can(user, "change", path),
            "can_manage": scope.can(user, "manage", path),
            "attestations": attestations,
            "attest_form": AttestationForm() if own else None,
            "decision_form": DecisionForm(),
        },
    )


@login_required
def path_edit(request, pk=None):
    user = request.user
    path = get_in_scope(AccessPath, user, "change", pk=pk) if pk else None
    form = AccessPathForm(request.POST or None, instance=path, user=user)
    if request.method == "POST" and form.is_valid():
        if not scope.can(user, "change", form.cleaned_data["organisation"]):
            raise PermissionDenied
        saved = form.save()
        from careops.core import audit

        audit.record(
            user, "remote_access.edit", saved, saved.organisation, f"accès {saved.ref} enregistré"
        )
        messages.success(request, _("Accès distant enregistré."))
        return redirect("remote_access:path", saved.pk)
    title = _("Modifier l'accès distant") if path else _("Déclarer un accès distant")
    return render(
        request, "remote_access/form.html", {"form": form, "title": title, "multipart": False}
    )


@login_required
def import_inventory(request):
    form = ImportForm(request.POST or None, request.FILES or None, user=request.user)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            created, updated = services.import_inventory(
                request.user,
                form.cleaned_data["organisation"],
                form.cleaned_data["workbook"].read(),
            )
        except ValidationError as exc:
            problems = _errors(exc)
        else:
            messages.success(
                request,
                _("Inventaire importé : %(c)s créé(s), %(u)s mis à jour.")
                % {"c": created, "u": updated},
            )
            return redirect("remote_access:index")
    return render(
        request,
        "remote_access/form.html",
        {
            "form": form,
            "title": _("Importer un inventaire"),
            "multipart": True,
            "problems": problems,
        },
    )


@login_required
def export(request, fmt):
    paths = (
        scope.restrict(AccessPath.objects.all(), request.user)
        .select_related("organisation")
        .prefetch_related("targets__campaign")
    )
    if fmt == "xlsx":
        response = HttpResponse(
            services.export_xlsx(paths),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = 'attachment; filename="acces-distants.xlsx"'
        return response
    if fmt == "csv":
        response = HttpResponse(services.export_csv(paths), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="acces-distants.csv"'
        return response
    raise Http404


@login_required
@require_POST
def bulk(request):
    form = BulkForm(request.POST)
    ids = [int(v) for v in request.POST.getlist("paths") if v.isdigit()]
    paths = scope.restrict(AccessPath.objects.filter(pk__in=ids), request.user).select_related(
        "organisation"
    )
    if not ids:
        messages.error(request, _("Cochez au moins un accès."))
    elif form.is_valid():
        try:
            count = services.bulk_update(
                request.user, paths, form.cleaned_data["field"], form.cleaned_data["value"].strip()
            )
        except ValidationError as exc:
            messages.error(request, " ".join(_errors(exc)))
        else:
            messages.success(request, _("%(n)s accès modifié(s).") % {"n": count})
    else:
        messages.error(request, _("Choisissez un champ et une valeur."))
    return redirect("remote_access:index")


@login_required
def review_new(request):
    form = ReviewForm(request.POST or None, request.FILES or None, user=request.user)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        exposure_json = None
        if data.get("exposure"):
            import json

            try:
                exposure_json = json.loads(data["exposure"].read().decode("utf-8", "replace"))
            except ValueError:
                problems.append(_("Le résultat d'exposition n'est pas un JSON valide."))
        if not problems:
            try:
                review = services.run_review(
                    request.user,
                    data["organisation"],
                    exposure_json=exposure_json,
                    ad_dump=data["ad_dump"].read() if data.get("ad_dump") else None,
                    vpn_files=[(f.name, f.read()) for f in data["vpn_configs"]],
                    bastion_files=[(f.name, f.read()) for f in data["bastion_logs"]],
                    use_latest_exposure=data["use_latest_exposure"],
                )
            except ValidationError as exc:
                problems = _errors(exc)
            else:
                messages.success(request, _("Revue enregistrée et versée comme preuve D3."))
                return redirect("remote_access:review", review.pk)
    return render(
        request,
        "remote_access/form.html",
        {
            "form": form,
            "title": _("Évaluer les accès distants"),
            "multipart": True,
            "problems": problems,
        },
    )


@login_required
def review_detail(request, pk):
    review = get_in_scope(
        Review.objects.select_related("organisation", "evidence"), request.user, pk=pk
    )
    history = services.trend(review.organisation, request.user)
    previous = (
        scope.restrict(Review.objects.filter(organisation=review.organisation), request.user)
        .filter(created_at__lt=review.created_at)
        .order_by("-created_at")
        .first()
    )
    from careops.remote_access.engine.rules import CODES, load

    rules = load()
    return render(
        request,
        "remote_access/review.html",
        {
            "review": review,
            "rows": charts.heatmap(review.result),
            "codes": [(c, rules.checks[c].title) for c in CODES],
            "rules": [rules.checks[c] for c in CODES],
            "rules_version": rules.version,
            "remediation": review.result.get("remediation", [])[:50],
            "undeclared": review.result.get("undeclared", []),
            "history": history,
            "trend_svg": charts.trend_svg(history),
            "previous": previous,
            "comparison": services.compare(previous, review) if previous else [],
            "band_label": choices.BAND_LABELS.get(review.band, ""),
            "sources": [
                (key, ", ".join(map(str, value)) if isinstance(value, list) else str(value or ""))
                for key, value in review.sources.items()
            ],
        },
    )


@login_required
@require_POST
def attest(request, pk):
    path = _visible_path(request, pk)
    form = AttestationForm(request.POST)
    if form.is_valid():
        try:
            services.submit_attestation(request.user, path, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(_errors(exc)))
        else:
            messages.success(request, _("Attestation transmise au RSSI."))
    else:
        messages.error(request, _("Nommez au moins un technicien."))
    return redirect("remote_access:path", path.pk)


@login_required
@require_POST
def decide(request, pk):
    attestation = get_in_scope(
        Attestation.objects.select_related("path__organisation"), request.user, "manage", pk=pk
    )
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            services.decide_attestation(
                request.user,
                attestation,
                form.cleaned_data["decision"] == "accept",
                form.cleaned_data["comment"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(_errors(exc)))
        else:
            messages.success(request, _("Décision enregistrée."))
    else:
        messages.error(request, _("Choisissez une décision."))
    return redirect("remote_access:path", attestation.path_id)
