"""HospiConnect workspace: measurements from exports, indicators against targets, failing
accounts, MIE inventory and the yearly account review."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from careops.core import spreadsheet
from careops.hospiconnect import charts, services
from careops.hospiconnect.forms import DecisionForm, ImportForm, MeansForm
from careops.hospiconnect.models import (
    AccountReview,
    Decision,
    IdentificationMeans,
    IndicatorImport,
    RppsDirectoryImport,
    RunStatus,
    Source,
)
from careops.tenancy import scope
from careops.tenancy.choices import OrgKind
from careops.tenancy.models import Organisation
from careops.tenancy.shortcuts import get_in_scope

CANDIDATE_KINDS = (OrgKind.GHT, OrgKind.EJ)


@login_required
def index(request):
    organisations = scope.restrict(
        Organisation.objects.filter(kind__in=CANDIDATE_KINDS), request.user
    ).order_by("path")
    latest = {}
    imports = scope.restrict(
        IndicatorImport.objects.filter(status=RunStatus.DONE), request.user
    ).order_by("organisation_id", "-as_of", "-created_at")
    for run in imports.only("id", "organisation_id", "as_of", "result"):
        latest.setdefault(run.organisation_id, run)
    rows = [(organisation, latest.get(organisation.pk)) for organisation in organisations]
    return render(
        request,
        "hospiconnect/index.html",
        {"rows": rows, "directory": RppsDirectoryImport.objects.order_by("-imported_at").first()},
    )


def _indicator_rows(run: IndicatorImport) -> list[dict]:
    rows = []
    for indicator in run.result.get("indicators", []):
        current = [item for item in indicator["items"] if item["current_year"]] or indicator[
            "items"
        ]
        rows.append(indicator | {"shown_items": current})
    return rows


@login_required
def organisation(request, pk: int):
    node = get_in_scope(Organisation, request.user, pk=pk)
    imports = list(
        scope.restrict(IndicatorImport.objects.filter(organisation=node), request.user)[:24]
    )
    done = [run for run in imports if run.status == RunStatus.DONE]
    latest = done[0] if done else None
    charts_html = []
    if latest:
        history = list(reversed(done[:12]))
        for index, indicator in enumerate(latest.result.get("indicators", [])):
            target = next(
                (i["target"] for i in indicator["items"] if i["current_year"]),
                indicator["items"][0]["target"] if indicator["items"] else None,
            )
            if indicator.get("trend"):
                points = [
                    (p["month"], p["ratio"]) for p in indicator["trend"] if p["ratio"] is not None
                ]
            else:
                points = []
                for run in history:
                    match = next(
                        (i for i in run.result.get("indicators", []) if i["id"] == indicator["id"]),
                        None,
                    )
                    if match and match["ratio"] is not None:
                        points.append((run.as_of.strftime("%d/%m/%y"), match["ratio"]))
            chart = charts.ratio_chart(indicator["label"], points, target, f"hc{index}")
            if chart:
                charts_html.append(chart)
    means = scope.restrict(IdentificationMeans.objects.filter(organisation=node), request.user)
    means_counts = means.filter(revoked_on=None).values("kind").annotate(n=Count("id"))
    reviews = scope.restrict(
        AccountReview.objects.filter(organisation=node), request.user
    ).annotate(
        pending=Count("lines", filter=Q(lines__decision=Decision.PENDING)), total=Count("lines")
    )
    labels = dict(IdentificationMeans._meta.get_field("kind").choices)
    year = timezone.localdate().year
    review_due = not reviews.filter(year=year, status="done").exists()
    return render(
        request,
        "hospiconnect/organisation.html",
        {
            "node": node,
            "imports": imports,
            "latest": latest,
            "rows": _indicator_rows(latest) if latest else [],
            "charts": charts_html,
            "means_counts": [(labels[row["kind"]], row["n"]) for row in means_counts],
            "reviews": reviews,
            "review_due": review_due,
            "year": year,
            "can_change": scope.can(request.user, "change", node),
        },
    )


@login_required
def import_new(request, pk: int):
    node = get_in_scope(Organisation, request.user, "change", pk=pk)
    remembered = {
        source: services.remembered_mapping(node, source) for source in services.COLUMN_SOURCES
    }
    form = ImportForm(request.POST or None, request.FILES or None, mappings=remembered)
    if request.method == "POST" and form.is_valid():
        uploads = {source: form.cleaned_data.get(source) for source in Source.values}
        try:
            run = services.start_import(
                request.user,
                node,
                form.cleaned_data["as_of"],
                uploads,
                form.mappings(),
                create_review=form.cleaned_data["create_review"],
                review_automatic=form.cleaned_data["review_automatic"],
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                for message in exc.messages:
                    form.add_error(None, message)
        else:
            messages.success(request, _("Exports reçus : le calcul des indicateurs est lancé."))
            return redirect("hospiconnect:import", pk=run.pk)
    elif request.method == "GET":
        form.initial.setdefault("as_of", timezone.localdate())
    return render(request, "hospiconnect/import_form.html", {"form": form, "node": node})


@login_required
def import_detail(request, pk: int):
    run = get_in_scope(IndicatorImport.objects.select_related("organisation"), request.user, pk=pk)
    context = {"run": run, "rows": _indicator_rows(run) if run.status == RunStatus.DONE else []}
    if request.htmx:
        return render(request, "hospiconnect/_import_live.html", context)
    return render(request, "hospiconnect/import.html", context)


@login_required
def failing_csv(request, pk: int, indicator: str):
    run = get_in_scope(IndicatorImport, request.user, pk=pk, status=RunStatus.DONE)
    found = next((i for i in run.result.get("indicators", []) if i["id"] == indicator), None)
    if found is None:
        raise Http404(_("Indicateur inconnu."))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="comptes-{indicator}-{run.as_of:%Y%m%d}.csv"'
    )
    response.write("\ufeff")
    writer = spreadsheet.csv_writer(response)
    writer.writerow([_("compte"), _("nom"), _("motif")])
    for failing in found["failing"]:
        writer.writerow([failing["account"], failing["name"], failing["reason"]])
    return response


@login_required
def means(request, pk: int):
    node = get_in_scope(Organisation, request.user, pk=pk)
    can_change = scope.can(request.user, "change", node)
    form = MeansForm(request.POST or None)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.add_means(request.user, node, **form.cleaned_data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                messages.success(request, _("Moyen d'identification enregistré."))
                return redirect("hospiconnect:means", pk=node.pk)
    rows = scope.restrict(IdentificationMeans.objects.filter(organisation=node), request.user)
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "hospiconnect/means.html",
        {"node": node, "page": page, "form": form, "can_change": can_change},
    )


@login_required
@require_POST
def means_revoke(request, pk: int):
    item = get_in_scope(IdentificationMeans, request.user, "change", pk=pk)
    try:
        services.revoke_means(request.user, item, timezone.localdate())
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Moyen d'identification révoqué."))
    return redirect("hospiconnect:means", pk=item.organisation_id)


@login_required
def review(request, pk: int):
    item = get_in_scope(AccountReview.objects.select_related("organisation"), request.user, pk=pk)
    can_change = scope.can(request.user, "change", item)
    form = DecisionForm(request.POST or None)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        action = request.POST.get("action")
        try:
            if action == "confirm_all":
                count = services.confirm_remaining(request.user, item)
                messages.success(request, _("%(n)s compte(s) confirmé(s).") % {"n": count})
            elif action == "complete":
                services.complete_review(request.user, item)
                messages.success(request, _("Revue close : elle est versée comme preuve."))
            elif form.is_valid():
                ids = [int(v) for v in request.POST.getlist("lines") if v.isdigit()]
                if not ids:
                    raise ValidationError(_("Cochez au moins un compte."))
                count = services.decide(
                    request.user,
                    item,
                    ids,
                    form.cleaned_data["decision"],
                    form.cleaned_data["comment"],
                )
                messages.success(request, _("%(n)s compte(s) mis à jour.") % {"n": count})
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        return redirect(request.get_full_path())
    lines = item.lines.select_related("decided_by")
    shown = request.GET.get("etat", "pending")
    if shown == "pending":
        lines = lines.filter(decision=Decision.PENDING)
    page = Paginator(lines, 100).get_page(request.GET.get("page"))
    counts = item.lines.aggregate(
        total=Count("id"),
        pending=Count("id", filter=Q(decision=Decision.PENDING)),
        revoked=Count("id", filter=Q(decision=Decision.REVOKED)),
    )
    return render(
        request,
        "hospiconnect/review.html",
        {
            "review": item,
            "page": page,
            "form": form,
            "counts": counts,
            "shown": shown,
            "can_change": can_change,
        },
    )
