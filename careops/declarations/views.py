"""Déclarations et instruction: the establishment's, the ARS's and the ANS's pages.

Every object is read through the restriction helper (``get_in_scope`` / ``services.visible``);
every action goes through ``careops.declarations.services``, whose French refusals are shown as
messages.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from careops.catalogue import bridge
from careops.catalogue.models import ReferentialVersion
from careops.compliance.choices import Status
from careops.compliance.models import EvidenceRevision
from careops.declarations import dashboards, exports, services
from careops.declarations import review as guarded
from careops.declarations.choices import Level, State, Verdict
from careops.declarations.models import Candidacy, Declaration, ItemReview
from careops.tenancy.models import Organisation
from careops.tenancy.shortcuts import get_in_scope

STATUS_LABELS = dict(Status.choices)


def _candidacy(request, pk) -> Candidacy:
    return get_in_scope(
        Candidacy.objects.select_related("candidate", "referential_version", "assessment"),
        request.user,
        pk=pk,
    )


def _errors(request, exc: Exception) -> None:
    if isinstance(exc, PermissionDenied):
        messages.error(request, str(exc) or _("Action non autorisée."))
        return
    for message in exc.messages:
        messages.error(request, message)


@login_required
def index(request):
    # the list shows no referential: its ``data`` (the whole domain file) is not read per row
    candidacies = (
        services.visible(request.user)
        .select_related("candidate")
        .only("pk", "candidate__name", "domain", "region_code", "state", "amount_eur")
    )
    versions = list(bridge.current_versions().order_by("domain"))
    now = timezone.now()
    windows = [
        (v, *services.window_state(services.domain_of(v), "candidacy", now)) for v in versions
    ]
    return render(
        request,
        "declarations/index.html",
        {
            "candidacies": candidacies[:200],
            "choices": services.candidate_choices(request.user),
            "windows": windows,
            "open_versions": [v for v, is_open, _ in windows if is_open],
        },
    )


@login_required
@require_POST
def apply(request):
    candidate = get_in_scope(
        Organisation, request.user, "manage", pk=request.POST.get("candidate") or 0
    )
    version = ReferentialVersion.objects.filter(
        pk=request.POST.get("version") or 0, is_current=True
    ).first()
    if version is None:
        messages.error(request, _("Choisissez un domaine."))
        return redirect("declarations:index")
    try:
        candidacy = services.apply(request.user, candidate, version)
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
        return redirect("declarations:index")
    messages.success(request, _("Candidature déposée : elle attend la validation de l'ARS."))
    return redirect("declarations:detail", pk=candidacy.pk)


@login_required
def detail(request, pk):
    candidacy = _candidacy(request, pk)
    declaration = Declaration.objects.filter(candidacy=candidacy).first()
    now = timezone.now()
    domain = services.domain_of(candidacy)
    rows = []
    revisions = []
    if declaration is not None:
        reviews = list(
            declaration.reviews.prefetch_related("answers__revisions__evidence").order_by(
                "at", "pk"
            )
        )
        kinds = guarded.item_kinds(candidacy.referential_version)
        for item in declaration.snapshot["items"]:
            mine = [r for r in reviews if r.item_code == item["id"]]
            current = {
                lvl: next((r for r in reversed(mine) if r.level == lvl and r.is_current), None)
                for lvl in Level.values
            }
            rows.append(
                {
                    "item": item,
                    "status_label": STATUS_LABELS.get(item["status"], item["status"]),
                    "reviews": mine,
                    "ars": current["ars"],
                    "ans": current["ans"],
                    "reviewable": item["kind"] != "group" and item["status"] != "not_applicable",
                    "evidence": [
                        e
                        for e in declaration.snapshot["evidence"]
                        if e["kind"] in kinds.get(item["id"], ())
                    ],
                }
            )
        revisions = list(
            EvidenceRevision.objects.filter(
                evidence__organisation__path__startswith=candidacy.candidate.path,
                uploaded_at__gte=declaration.filed_at,
            )
            .select_related("evidence")
            .order_by("-uploaded_at")[:50]
        )
    windows = [
        (services.WINDOW_LABELS[name], *services.window_state(domain, name, now))
        for name in services.WINDOW_LABELS
    ]
    return render(
        request,
        "declarations/detail.html",
        {
            "candidacy": candidacy,
            "declaration": declaration,
            "verified": declaration.verify() if declaration else None,
            "rows": rows,
            "transitions": candidacy.transitions.select_related("actor"),
            "actions": services.actions_for(request.user, candidacy, now),
            "funding": services.funding_of(candidacy),
            "windows": windows,
            "verdicts": Verdict.choices,
            "revisions": revisions,
            "today": services.paris_date(now),
            "default_due": services.paris_date(now) + dt.timedelta(days=15),
            "State": State,
        },
    )


def _act(request, pk, action, success: str):
    candidacy = _candidacy(request, pk)
    try:
        action(candidacy)
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
    else:
        messages.success(request, success)
    return redirect("declarations:detail", pk=candidacy.pk)


@login_required
@require_POST
def validate(request, pk):
    post = request.POST
    if post.get("decision") == "reject":
        return _act(
            request,
            pk,
            lambda c: services.reject_candidacy(request.user, c, post.get("comment", "")),
            _("Candidature refusée."),
        )
    return _act(
        request,
        pk,
        lambda c: services.validate_candidacy(
            request.user,
            c,
            post.get("ceiling_eur", "").replace(" ", "").replace(",", "."),
            post.get("comment", ""),
        ),
        _("Candidature validée."),
    )


def _prefiling_context(request, candidacy: Candidacy) -> dict:
    return {
        "candidacy": candidacy,
        "review": guarded.prefiling_review(candidacy),
        "actions": services.actions_for(request.user, candidacy),
    }


@login_required
def prefiling(request, pk):
    """The pre-filing review: what filing now would freeze, the implied funding, and the
    filing form with its explicit confirmation."""
    candidacy = _candidacy(request, pk)
    if Declaration.objects.filter(candidacy=candidacy).exists():
        messages.info(request, _("La déclaration est déjà déposée."))
        return redirect("declarations:detail", pk=candidacy.pk)
    return render(request, "declarations/prefiling.html", _prefiling_context(request, candidacy))


@login_required
def prefiling_pdf(request, pk):
    """The pre-filing review as PDF (WeasyPrint), to circulate before signing."""
    candidacy = _candidacy(request, pk)
    pdf = exports.prefiling_pdf(candidacy, guarded.prefiling_review(candidacy))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="revue-avant-depot-{candidacy.domain}-'
        f'{candidacy.candidate.finess or candidacy.pk}.pdf"'
    )
    return response


@login_required
@require_POST
def file(request, pk):
    post = request.POST

    def action(candidacy):
        if post.get("confirmed") != "on":
            raise ValidationError(
                _("Confirmez le dépôt : cochez la case de confirmation après relecture.")
            )
        services.file_declaration(
            request.user,
            candidacy,
            post.get("representative_name", ""),
            post.get("representative_title", ""),
            post.get("attested") == "on",
            review_fingerprint=post.get("review_fingerprint", ""),
        )

    candidacy = _candidacy(request, pk)
    try:
        action(candidacy)
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
        return redirect("declarations:prefiling", pk=candidacy.pk)
    messages.success(request, _("Déclaration déposée : statuts et preuves sont figés et attestés."))
    return redirect("declarations:detail", pk=candidacy.pk)


def _declaration_or_none(request, candidacy: Candidacy) -> Declaration | None:
    """The filed declaration, or None with a message saying the dossier is not there yet."""
    declaration = Declaration.objects.filter(candidacy=candidacy).first()
    if declaration is None:
        messages.info(
            request,
            _("Aucune déclaration déposée pour ce dossier : il est à l'étape « %(state)s ».")
            % {"state": candidacy.get_state_display()},
        )
    return declaration


def _opinions_from(post) -> dict[str, dict]:
    opinions = {}
    for key, verdict in post.items():
        if not key.startswith("verdict-") or not verdict:
            continue
        code = key[len("verdict-") :]
        due = post.get(f"due-{code}") or None
        try:
            day = dt.date.fromisoformat(due) if due else None
        except ValueError as exc:
            raise ValidationError(_("%(code)s : échéance invalide.") % {"code": code}) from exc
        opinions[code] = {
            "verdict": verdict,
            "message": post.get(f"message-{code}", ""),
            "due_date": day,
        }
    return opinions


@login_required
def instruction(request, pk):
    """The one-page instruction: every item's opinion at the dossier's level (ARS or ANS),
    with « conforme » for every item left without one."""
    candidacy = _candidacy(request, pk)
    declaration = _declaration_or_none(request, candidacy)
    if declaration is None:
        return redirect("declarations:detail", pk=candidacy.pk)
    actions = services.actions_for(request.user, candidacy)
    level = Level.ARS if actions["review_ars"] else Level.ANS if actions["review_ans"] else None
    if request.method == "POST":
        if level is None:
            raise PermissionDenied
        try:
            created = guarded.review_all(
                request.user,
                declaration,
                _opinions_from(request.POST),
                rest_compliant=request.POST.get("rest_compliant") == "on",
            )
        except (ValidationError, PermissionDenied) as exc:
            _errors(request, exc)
            status = 422
        else:
            messages.success(request, _("%(n)s avis enregistré(s).") % {"n": len(created)})
            return redirect("declarations:instruction", pk=candidacy.pk)
    else:
        status = 200
    rows = guarded.instruction_rows(declaration)
    kinds = guarded.item_kinds(candidacy.referential_version)
    for row in rows:
        row["evidence"] = [
            e
            for e in declaration.snapshot["evidence"]
            if e["kind"] in kinds.get(row["item"]["id"], [])
        ]
        row["mine"] = row["ars"] if level == Level.ARS else row["ans"]
    return render(
        request,
        "declarations/instruction.html",
        {
            "candidacy": candidacy,
            "declaration": declaration,
            "rows": rows,
            "level": level,
            "level_label": Level(level).label if level else "",
            "verdicts": Verdict.choices,
            "actions": actions,
            "default_due": services.paris_date(timezone.now()) + dt.timedelta(days=15),
            "post": request.POST if request.method == "POST" else {},
        },
        status=status,
    )


@login_required
@require_POST
def review(request, pk):
    post = request.POST
    due = post.get("due_date") or None

    def action(candidacy):
        declaration = Declaration.objects.filter(candidacy=candidacy).first()
        if declaration is None:
            raise ValidationError(_("Aucune déclaration déposée."))
        try:
            day = dt.date.fromisoformat(due) if due else None
        except ValueError as exc:
            raise ValidationError(_("Échéance invalide.")) from exc
        services.review_item(
            request.user,
            declaration,
            post.get("item_code", ""),
            post.get("verdict", ""),
            post.get("message", ""),
            day,
        )

    return _act(request, pk, action, _("Avis enregistré."))


@login_required
@require_POST
def answer(request, pk, review_pk):
    found = get_in_scope(ItemReview, request.user, pk=review_pk, declaration__candidacy_id=pk)
    return _act(
        request,
        pk,
        lambda c: services.answer_complement(
            request.user, found, request.POST.get("message", ""), request.POST.getlist("revisions")
        ),
        _("Réponse envoyée à l'instructeur."),
    )


@login_required
@require_POST
def transmit(request, pk):
    return _act(
        request,
        pk,
        lambda c: services.transmit(request.user, c, request.POST.get("comment", "")),
        _("Instruction ARS close : dossier transmis à l'ANS."),
    )


@login_required
def decide(request, pk):
    """The ANS's decision step: what it decides on (each item's ARS and ANS opinions, the
    funding), then an explicit confirmation; refused while an ANS opinion is missing."""
    candidacy = _candidacy(request, pk)
    declaration = _declaration_or_none(request, candidacy)
    if declaration is None:
        return redirect("declarations:detail", pk=candidacy.pk)
    actions = services.actions_for(request.user, candidacy)
    if request.method == "POST":
        try:
            if not actions["review_ans"]:
                raise PermissionDenied(_("Votre rôle ne permet pas de rendre cette décision."))
            guarded.require_decidable(candidacy, request.POST.get("confirmed") == "on")
            services.decide(request.user, candidacy, request.POST.get("comment", ""))
        except (ValidationError, PermissionDenied) as exc:
            _errors(request, exc)
        else:
            messages.success(request, _("Décision rendue."))
            return redirect("declarations:detail", pk=candidacy.pk)
    return render(
        request,
        "declarations/decision.html",
        {
            "candidacy": candidacy,
            "declaration": declaration,
            "summary": guarded.decision_summary(candidacy),
            "actions": actions,
        },
        status=422 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def pay(request, pk):
    return _act(
        request,
        pk,
        lambda c: services.record_payment(request.user, c, request.POST.get("reference", "")),
        _("Paiement enregistré."),
    )


@login_required
def dossier(request, pk):
    candidacy = _candidacy(request, pk)
    declaration = get_in_scope(Declaration, request.user, candidacy=candidacy)
    response = HttpResponse(
        exports.dossier_bytes(declaration, request.user), content_type="application/zip"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="dossier-{candidacy.domain}-{candidacy.candidate.finess or candidacy.pk}.zip"'
    )
    return response


@login_required
def dashboard(request):
    data = dashboards.build(request.user, request.GET.get("domaine") or None)
    charts = {
        "states": dashboards.bars([(s["label"], s["n"]) for s in data["states"]]),
        "categories": dashboards.bars(
            [(c["label"], round(100 * c["share_applied"], 1)) for c in data["categories"]], " %"
        ),
        "attainment": dashboards.bars(
            [(o["id"], round(100 * o["share"], 1)) for o in data["attainment"]], " %"
        ),
        "ad_levels": dashboards.bars([(f"niveau {a['level']}", a["n"]) for a in data["ad_levels"]]),
    }
    return render(request, "declarations/dashboard.html", {"data": data, "charts": charts})


@login_required
def export(request, fmt):
    if fmt not in ("csv", "xlsx"):
        raise Http404(_("Format inconnu."))
    data = dashboards.build(request.user, request.GET.get("domaine") or None)
    candidacies = services.visible(request.user)
    if data["domain"]:
        candidacies = candidacies.filter(domain=data["domain"])
    rows = exports.rows(candidacies)
    stamp = services.paris_date(timezone.now()).isoformat()
    if fmt == "csv":
        response = HttpResponse(exports.to_csv(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="candidatures-{data["domain"]}-{stamp}.csv"'
        )
        return response
    response = HttpResponse(
        exports.to_xlsx(rows, data),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="candidatures-{data["domain"]}-{stamp}.xlsx"'
    )
    return response
