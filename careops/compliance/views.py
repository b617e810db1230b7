"""Assessment dashboard, objective page with evidence upload, evidence and file downloads."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from careops.catalogue import bridge
from careops.catalogue.models import Item, ReferentialVersion
from careops.compliance import library, services
from careops.compliance.forms import AssessmentForm, EvidenceForm, RevisionForm
from careops.compliance.models import Assessment, Evidence, EvidenceFile, EvidenceRevision
from careops.core import storage
from careops.tenancy import scope
from careops.tenancy.models import Organisation
from careops.tenancy.shortcuts import get_in_scope


def _statuses(assessment: Assessment) -> dict[str, object]:
    return {s.item_code: s for s in assessment.statuses.all()}


@login_required
def assessment_detail(request, pk):
    assessment = get_in_scope(
        Assessment.objects.select_related("candidate", "referential_version"), request.user, pk=pk
    )
    statuses = _statuses(assessment)
    items = list(assessment.referential_version.items.all())
    rows = [(item, statuses.get(item.code)) for item in items]
    counts: dict[str, int] = {}
    for item, status in rows:
        if item.kind != "group" and status is not None:
            counts[status.status] = counts.get(status.status, 0) + 1
    return render(
        request,
        "compliance/assessment.html",
        {
            "assessment": assessment,
            "rows": rows,
            "counts": counts,
            "can_change": scope.can(request.user, "change", assessment),
            "candidacies": _candidacies_of(request.user, assessment),
        },
    )


def _candidacies_of(user, assessment: Assessment) -> list:
    """The candidacy (and its declaration) filed with this assessment, in the user's scope."""
    from django.apps import apps  # declarations builds on compliance, not the reverse

    candidacy = apps.get_model("declarations", "Candidacy")
    return list(
        scope.restrict(candidacy.objects.filter(assessment=assessment), user).only(
            "pk", "state", "domain"
        )
    )


@login_required
def assessment_edit(request, pk):
    assessment = get_in_scope(Assessment, request.user, "change", pk=pk)
    initial = {
        "candidacy_date": assessment.candidacy_date,
        "filing_date": assessment.filing_date,
    }
    form = AssessmentForm(
        request.POST or None,
        initial=initial,
        fact_specs=bridge.fact_fields(assessment.referential_version),
        facts=assessment.facts,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_assessment(
                request.user,
                assessment,
                candidacy_date=form.cleaned_data["candidacy_date"],
                filing_date=form.cleaned_data["filing_date"],
                facts=form.cleaned_data["facts"],
            )
        except ValidationError as exc:
            assessment.refresh_from_db()
            form.add_error(None, exc.messages)
        else:
            messages.success(request, _("L'évaluation a été mise à jour et recalculée."))
            return redirect("compliance:assessment", pk=assessment.pk)
    return render(
        request, "compliance/assessment_form.html", {"form": form, "assessment": assessment}
    )


@login_required
@require_POST
def assessment_open(request, org_pk):
    candidate = get_in_scope(Organisation, request.user, "change", pk=org_pk)
    version = ReferentialVersion.objects.filter(pk=request.POST.get("version")).first()
    if version is None:
        messages.error(request, _("Version du référentiel inconnue."))
        return redirect("tenancy:detail", pk=candidate.pk)
    raw_date = request.POST.get("candidacy_date") or None
    try:
        candidacy = dt.date.fromisoformat(raw_date) if raw_date else None
        assessment = services.open_assessment(request.user, candidate, version, candidacy)
    except (ValueError, ValidationError) as exc:
        messages.error(request, _("Impossible d'ouvrir l'évaluation : %(e)s") % {"e": exc})
        return redirect("tenancy:detail", pk=candidate.pk)
    return redirect("compliance:assessment", pk=assessment.pk)


def _item_context(request, assessment: Assessment, item: Item, form=None):
    status = assessment.statuses.filter(item_code=item.code).first()
    kinds = bridge.evidence_kinds(item.data)
    evidence = (
        scope.restrict(Evidence.objects.all(), request.user)
        .filter(
            organisation__path__startswith=assessment.candidate.path, kind__in=[k for k, _ in kinds]
        )
        .select_related("organisation")
        .prefetch_related("revisions__files")
    )
    can_change = scope.can(request.user, "change", assessment)
    if form is None and can_change and kinds:
        form = _evidence_form(assessment, kinds)
    history = assessment.history.filter(item_code=item.code)[:20]
    return {
        "assessment": assessment,
        "item": item,
        "status": status,
        "evidence": evidence,
        "form": form,
        "kinds": kinds,
        "history": history,
        "can_change": can_change,
        "children": assessment.referential_version.items.filter(parent_code=item.code),
    }


def _evidence_form(assessment: Assessment, kinds, *args) -> EvidenceForm:
    version = assessment.referential_version
    return EvidenceForm(
        *args,
        kinds=kinds,
        organisation=assessment.candidate,
        attribute_specs={kind: bridge.attribute_fields(version, kind) for kind, _label in kinds},
    )


@login_required
def item_detail(request, pk, code):
    assessment = get_in_scope(
        Assessment.objects.select_related("candidate", "referential_version"), request.user, pk=pk
    )
    item = get_item(assessment, code)
    return render(request, "compliance/item.html", _item_context(request, assessment, item))


def get_item(assessment: Assessment, code: str) -> Item:
    from django.http import Http404

    item = assessment.referential_version.items.filter(code=bridge.normalize_code(code)).first()
    if item is None:
        raise Http404(_("Exigence inconnue."))
    return item


@login_required
@require_POST
def evidence_upload(request, pk, code):
    """Create evidence for an item; with htmx, answer with the refreshed status and evidence."""
    assessment = get_in_scope(
        Assessment.objects.select_related("candidate", "referential_version"),
        request.user,
        "change",
        pk=pk,
    )
    item = get_item(assessment, code)
    kinds = bridge.evidence_kinds(item.data)
    form = _evidence_form(assessment, kinds, request.POST, request.FILES)
    template = "compliance/_item_live.html" if request.htmx else "compliance/item.html"
    if form.is_valid():
        data = services.RevisionInput(
            effective_date=form.cleaned_data["effective_date"],
            expires_on=form.cleaned_data["expires_on"],
            validated_by=form.cleaned_data["validated_by"],
            attributes=form.cleaned_data["attributes"],
            entity_ids=[o.pk for o in form.cleaned_data["entities"]],
            comment=form.cleaned_data["comment"],
            files=request.FILES.getlist("files"),
        )
        try:
            services.create_evidence(
                request.user,
                assessment.candidate,
                form.cleaned_data["kind"],
                form.cleaned_data["title"],
                data,
                item_codes=[item.code],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Preuve enregistrée ; le statut a été recalculé."))
            if not request.htmx:
                return redirect("compliance:item", pk=assessment.pk, code=item.code)
            form = None
    context = _item_context(request, assessment, item, form=form)
    status = 200 if form is None or not form.errors else 422
    return render(request, template, context, status=status)


@login_required
def evidence_detail(request, pk):
    evidence = get_in_scope(
        Evidence.objects.select_related("organisation", "created_by"), request.user, pk=pk
    )
    revisions = evidence.revisions.prefetch_related("files", "entities").select_related("author")
    can_change = scope.can(request.user, "change", evidence)
    form = None
    if can_change:
        latest = revisions.first()
        form = RevisionForm(
            request.POST or None,
            request.FILES or None,
            organisation=evidence.organisation,
            kind=evidence.kind,
            attribute_specs={evidence.kind: bridge.current_attribute_fields(evidence.kind)},
            previous=latest.attributes if latest is not None else {},
        )
        if request.method == "POST" and form.is_valid():
            data = services.RevisionInput(
                effective_date=form.cleaned_data["effective_date"],
                expires_on=form.cleaned_data["expires_on"],
                validated_by=form.cleaned_data["validated_by"],
                attributes=form.cleaned_data["attributes"],
                entity_ids=[o.pk for o in form.cleaned_data["entities"]],
                comment=form.cleaned_data["comment"],
                files=request.FILES.getlist("files"),
            )
            try:
                services.add_revision(request.user, evidence, data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("Nouvelle révision enregistrée."))
                return redirect("compliance:evidence", pk=evidence.pk)
    elif request.method == "POST":
        raise PermissionDenied
    labels = dict(bridge.kind_labels(evidence.kind))
    specs = {spec.name: spec for spec in bridge.current_attribute_fields(evidence.kind)}
    revisions = list(revisions)
    for revision in revisions:
        revision.shown_attributes = [
            _shown_attribute(specs.get(name), name, value)
            for name, value in (revision.attributes or {}).items()
        ]
    return render(
        request,
        "compliance/evidence.html",
        {
            "evidence": evidence,
            "revisions": revisions,
            "form": form,
            "kind_label": labels.get(evidence.kind, evidence.kind),
        },
        status=422 if form is not None and form.errors else 200,
    )


def _shown_attribute(spec, name: str, value) -> tuple[str, str]:
    """(French label, French text) of a stored attribute for the revision table."""
    from careops.catalogue.engine.dates import fmt_date
    from careops.catalogue.engine.schema import BUILTIN_ATTRIBUTES

    label = spec.label if spec is not None else BUILTIN_ATTRIBUTES.get(name, name)
    choices = dict(spec.choices) if spec is not None else {}

    def text(item) -> str:
        if item is True:
            return _("oui")
        if item is False:
            return _("non")
        if isinstance(item, dict):
            return " ".join(text(v) for v in item.values() if v not in (None, ""))
        if isinstance(item, list):
            return " ; ".join(text(v) for v in item)
        if isinstance(item, str):
            try:
                return fmt_date(dt.date.fromisoformat(item))
            except ValueError:
                return str(choices.get(item, item))
        return str(item)

    return label[:1].upper() + label[1:], text(value)


@login_required
def file_download(request, pk):
    stored = get_in_scope(
        EvidenceFile.objects.select_related("revision__evidence"), request.user, pk=pk
    )
    try:
        content = storage.open_for_download(stored.file)
    except storage.StorageError as exc:
        return HttpResponse(str(exc), status=500, content_type="text/plain; charset=utf-8")
    response = FileResponse(
        content,
        as_attachment=True,
        filename=stored.original_name,
        content_type=stored.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def evidence_library(request):
    """Every evidence of the organisations in scope, filtered and paginated."""
    from django.core.paginator import Paginator

    found, notes = library.search(request.user, request.GET, services.today_in_paris())
    page = Paginator(found, 25).get_page(request.GET.get("page"))
    revisions: dict[int, list] = {}
    for r in EvidenceRevision.objects.filter(evidence__in=[e.pk for e in page]).order_by(
        "evidence_id", "-number"
    ):
        revisions.setdefault(r.evidence_id, []).append(r)
    labels = dict(library.kind_choices())
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "compliance/library.html",
        {
            "page": page,
            "rows": [(e, labels.get(e.kind, e.kind), revisions.get(e.pk, [])) for e in page],
            "kinds": labels.items(),
            "entities": library.entity_choices(request.user),
            "expiry_choices": library.EXPIRY_CHOICES.items(),
            "params": request.GET,
            "query": query.urlencode(),
            "errors": notes["errors"],
            "today": services.today_in_paris(),
        },
    )
