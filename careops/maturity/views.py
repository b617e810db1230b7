"""Maturity self-assessment pages: campaigns, answers, result with radar, PDF report."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from careops.awareness import services as awareness
from careops.compliance.services import today_in_paris
from careops.core import audit
from careops.core.pdf import offline_pdf
from careops.maturity import charts, nis2plan, pathways, pools, services
from careops.maturity.engine import pathways as pathway_engine
from careops.maturity.forms import (
    AnswersForm,
    ConfirmPathwayForm,
    ConventionForm,
    InviteForm,
    Nis2ProfileForm,
    OpenCampaignForm,
    PoolForm,
    StaffForm,
)
from careops.maturity.models import (
    Campaign,
    CampaignStatus,
    Convention,
    Membership,
    MembershipStatus,
    Nis2Profile,
    PathwayAssignment,
    PathwayStatus,
)
from careops.tenancy import scope
from careops.tenancy.choices import OrgKind
from careops.tenancy.models import Organisation
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


# --- AAP MS: structures, pathways, NIS 2 plan ------------------------------------------------


def _pk(value: str | None) -> int:
    """An id posted by a form (0, which matches nothing, when it is not a number)."""
    return int(value) if value and value.isdigit() and len(value) < 19 else 0


def _errors(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


@login_required
def structures(request):
    """The medico-social structures in scope with their pathway (the ARS's queue to confirm)."""
    orgs = scope.restrict(Organisation.objects.filter(kind=OrgKind.ESMS), request.user).order_by(
        "name"
    )
    assignments = {
        a.organisation_id: a for a in scope.restrict(PathwayAssignment.objects.all(), request.user)
    }
    today = today_in_paris()
    rows = [
        {
            "organisation": o,
            "assignment": assignments.get(o.pk),
            "progress": pathways.progress(assignments[o.pk], today)
            if o.pk in assignments
            else None,
        }
        for o in orgs[:300]
    ]
    return render(request, "maturity/structures.html", {"rows": rows})


@login_required
def structure(request, pk: int):
    node = get_in_scope(Organisation, request.user, pk=pk)
    can_change = scope.can(request.user, "change", node)
    assignment = scope.restrict(
        PathwayAssignment.objects.filter(organisation=node), request.user
    ).first()
    profile, classification = nis2plan.classification(node)
    profile_form = Nis2ProfileForm(
        request.POST if request.POST.get("action") == "nis2" else None,
        instance=profile or Nis2Profile(organisation=node, sector=nis2plan.default_sector(node)),
    )
    authority = pools.is_regional_authority(request.user, node)
    confirm_form = (
        ConfirmPathwayForm(
            request.POST if request.POST.get("action") == "confirm" else None,
            version=assignment.catalogue_version,
            initial={"pathway": assignment.pathway},
        )
        if assignment and authority
        else None
    )
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "nis2":
                if not can_change:
                    raise PermissionDenied
                if profile_form.is_valid():
                    saved = profile_form.save(commit=False)
                    saved.organisation, saved.updated_by = node, request.user
                    saved.save()
                    audit.record(request.user, "maturity.nis2", saved, node, "profil NIS 2 modifié")
                    return redirect("maturity:structure", pk=node.pk)
            elif action == "confirm" and confirm_form is not None:
                if confirm_form.is_valid():
                    pathways.confirm(
                        request.user,
                        assignment,
                        confirm_form.cleaned_data["pathway"],
                        confirm_form.cleaned_data["reason"],
                    )
                    messages.success(request, _("Parcours confirmé."))
                    return redirect("maturity:structure", pk=node.pk)
            elif action in ("done", "undone") and assignment is not None:
                pathways.declare(
                    request.user, assignment, request.POST.get("deliverable", ""), action == "done"
                )
                return redirect("maturity:structure", pk=node.pk)
            elif action in ("accept", "decline", "leave"):
                membership = get_in_scope(
                    Membership.objects.select_related("pool"),
                    request.user,
                    "manage",
                    pk=_pk(request.POST.get("membership")),
                    organisation=node,
                )
                if action == "leave":
                    pools.leave(request.user, membership, request.POST.get("reason", ""))
                else:
                    pools.answer(request.user, membership, action == "accept")
                return redirect("maturity:structure", pk=node.pk)
            else:
                raise PermissionDenied
        except ValidationError as exc:
            if hasattr(exc, "error_dict") and action == "confirm":
                for field, errors in exc.message_dict.items():
                    confirm_form.add_error(field if field in confirm_form.fields else None, errors)
            else:
                _errors(request, exc)
                return redirect("maturity:structure", pk=node.pk)
    state = pathways.progress(assignment) if assignment else None
    data = pathways.catalogue(assignment.catalogue_version) if assignment else None
    chosen = data.pathway(assignment.pathway) if assignment else None
    for milestone in state.milestones if state else []:
        for deliverable in milestone.deliverables:
            deliverable.fact_label = pathway_engine.FACTS.get(deliverable.fact, "")
    memberships = scope.restrict(
        Membership.objects.filter(organisation=node).select_related("pool"), request.user
    )
    return render(
        request,
        "maturity/structure.html",
        {
            "node": node,
            "can_change": can_change,
            "can_manage": scope.can(request.user, "manage", node)
            and not any(
                g.pool_id for g in scope.grants(request.user) if g.organisation_id == node.pk
            ),
            "assignment": assignment,
            "pathway": chosen,
            "catalogue": data,
            "themes": [data.themes[t] for t in chosen.themes] if chosen else [],
            "state": state,
            "events": assignment.events.select_related("actor")[:30] if assignment else [],
            "confirm_form": confirm_form,
            "profile_form": profile_form,
            "profile": profile,
            "classification": classification,
            "nis2_campaign": nis2plan.last_assessment(node),
            "memberships": [
                {"m": m, "convention": pools.current_convention(m.pool)} for m in memberships
            ],
        },
    )


@login_required
def nis2_plan(request, pk: int, fmt: str = ""):
    node = get_in_scope(Organisation, request.user, pk=pk)
    campaign = nis2plan.last_assessment(node)
    rows = nis2plan.plan(campaign) if campaign else []
    profile, classification = nis2plan.classification(node)
    stamp = campaign.closed_at.strftime("%Y%m%d") if campaign else "vide"
    if fmt == "csv":
        response = HttpResponse(nis2plan.to_csv(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="plan-nis2-{node.pk}-{stamp}.csv"'
        return response
    if fmt == "xlsx":
        response = HttpResponse(
            nis2plan.to_xlsx(rows, f"Plan de conformité NIS 2 — {node.name}"),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="plan-nis2-{node.pk}-{stamp}.xlsx"'
        return response
    return render(
        request,
        "maturity/nis2_plan.html",
        {
            "node": node,
            "campaign": campaign,
            "rows": rows,
            "classification": classification,
            "profile": profile,
        },
    )


# --- pooling of security resources -----------------------------------------------------------


@login_required
def pool_list(request):
    visible = pools.visible_pools(request.user).select_related("region")
    form = PoolForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            pool = pools.create_pool(
                request.user,
                form.cleaned_data["region"],
                form.cleaned_data["name"],
                form.cleaned_data["kind"],
                form.cleaned_data["carrier"],
            )
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("maturity:pool", pk=pool.pk)
    return render(request, "maturity/pools.html", {"pools": visible, "form": form})


def _member_rows(user, pool, today):
    memberships = scope.restrict(pool.memberships.select_related("organisation"), user).order_by(
        "organisation__name", "-invited_at"
    )
    assignments = {
        a.organisation_id: a
        for a in scope.restrict(
            PathwayAssignment.objects.filter(
                organisation__in=[m.organisation_id for m in memberships]
            ),
            user,
        )
    }
    figures = awareness.figures_by_structure(user, [m.organisation for m in memberships], today)
    rows = []
    for m in memberships:
        a = assignments.get(m.organisation_id)
        state = pathways.progress(a, today) if a and m.status == MembershipStatus.ACTIVE else None
        alerts = []
        if m.status == MembershipStatus.INVITED:
            alerts.append(_("Invitation en attente d'acceptation par la structure."))
        if m.status == MembershipStatus.ACTIVE:
            if a is None:
                alerts.append(_("Aucune auto-évaluation validée : pas de parcours proposé."))
            elif a.status != PathwayStatus.CONFIRMED:
                alerts.append(_("Parcours proposé, pas encore confirmé par l'ARS."))
            if state and state.overdue:
                alerts.append(_("Jalon(s) en retard : %(ids)s") % {"ids": ", ".join(state.overdue)})
        rows.append(
            {
                "m": m,
                "assignment": a,
                "progress": state,
                "alerts": alerts,
                **figures[m.organisation_id],
            }
        )
    return rows


def _pool_training(user, rows, today):
    """The share of staff trained over the active members the user sees, counted together
    (None without a headcount)."""
    active = [r["m"].organisation for r in rows if r["m"].status == MembershipStatus.ACTIVE]
    if not active:
        return None
    total = awareness.report_over(user, active, today).total
    return total if total.headcount else None


@login_required
def pool_detail(request, pk: int):
    pool = pools.get_pool(request.user, pk)
    admin = pools.can_administer(request.user, pool)
    action = request.POST.get("action") if request.method == "POST" else None
    staff_form = StaffForm(request.POST if action == "staff" else None)
    invite_form = InviteForm(
        request.POST if action == "invite" else None, pool=pool, user=request.user
    )
    convention_form = ConventionForm(
        request.POST if action == "convention" else None,
        request.FILES if action == "convention" else None,
    )
    if request.method == "POST":
        if not admin:
            raise PermissionDenied
        try:
            if action == "staff" and staff_form.is_valid():
                pools.add_staff(request.user, pool, staff_form.cleaned_data["user"])
                return redirect("maturity:pool", pk=pool.pk)
            if action == "unstaff":
                person = pool.staff.filter(pk=_pk(request.POST.get("user"))).first()
                if person:
                    pools.remove_staff(request.user, pool, person)
                return redirect("maturity:pool", pk=pool.pk)
            if action == "invite" and invite_form.is_valid():
                pools.invite(request.user, pool, invite_form.cleaned_data["organisation"])
                return redirect("maturity:pool", pk=pool.pk)
            if action == "convention" and convention_form.is_valid():
                pools.add_convention(
                    request.user,
                    pool,
                    convention_form.cleaned_data["file"],
                    convention_form.cleaned_data["starts_on"],
                    convention_form.cleaned_data["ends_on"],
                )
                messages.success(request, _("Convention enregistrée."))
                return redirect("maturity:pool", pk=pool.pk)
            if action == "remove":
                membership = pool.memberships.filter(pk=_pk(request.POST.get("membership"))).first()
                if membership:
                    pools.leave(request.user, membership, request.POST.get("reason", ""))
                return redirect("maturity:pool", pk=pool.pk)
        except ValidationError as exc:
            form = {"staff": staff_form, "invite": invite_form, "convention": convention_form}.get(
                action
            )
            if form is not None and hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            elif form is not None:
                form.add_error(None, exc.messages)
    today = today_in_paris()
    rows = _member_rows(request.user, pool, today)
    return render(
        request,
        "maturity/pool.html",
        {
            "pool": pool,
            "admin": admin,
            "is_staff": pool.staff.filter(pk=request.user.pk).exists(),
            "rows": rows,
            "pool_training": _pool_training(request.user, rows, today),
            "alerts": pools.pool_alerts(pool, today),
            "convention": pools.current_convention(pool, today),
            "conventions": pool.conventions.all() if admin else [],
            "staff": pool.staff.order_by("username"),
            "staff_form": staff_form,
            "invite_form": invite_form,
            "convention_form": convention_form,
        },
    )


@login_required
def convention_download(request, pk: int):
    convention = Convention.objects.filter(
        pk=pk, pool__in=pools.visible_pools(request.user)
    ).first()
    if convention is None:
        raise Http404(_("Objet introuvable."))
    response = FileResponse(
        convention.file.open("rb"),
        as_attachment=True,
        filename=convention.original_name,
        content_type=convention.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
