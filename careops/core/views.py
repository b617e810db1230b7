"""Home dashboard and audit trail."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext as _

from careops.compliance.models import Assessment
from careops.core import cockpit
from careops.core.models import AuditEvent
from careops.tenancy import scope
from careops.tenancy.choices import OrgKind
from careops.tenancy.models import Organisation


@login_required
def home(request):
    """The cockpit: what to do next for the user's roles, then their candidates' assessments."""
    data = cockpit.build(request.user)
    # the candidates' assessments, for every role (an instructor reaches them from here too)
    candidates = scope.restrict(
        Organisation.objects.filter(kind__in=[OrgKind.GHT, OrgKind.EJ, OrgKind.ESMS]),
        request.user,
    ).order_by("path")
    assessments = scope.restrict(
        Assessment.objects.select_related("referential_version", "candidate"), request.user
    ).order_by("candidate__path", "referential_version__domain")
    by_candidate: dict[int, list] = {}
    for a in assessments:
        by_candidate.setdefault(a.candidate_id, []).append(a)
    rows = [(c, by_candidate.get(c.pk, [])) for c in candidates[:200]]
    candidate_count, assessment_count = candidates.count(), len(assessments)
    return render(
        request,
        "core/home.html",
        {
            "rows": rows,
            "candidate_count": candidate_count,
            "assessment_count": assessment_count,
            "cockpit": data,
        },
    )


@login_required
def audit_log(request):
    """The audit trail of the organisations in the user's scope."""
    events = scope.restrict(
        AuditEvent.objects.select_related("actor", "organisation"), request.user
    )
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "core/audit.html", {"page": page})


@login_required
def internal_targets(request):
    """Platform administrators: which organisations may reach internal addresses (egress)."""
    from django.contrib import messages
    from django.http import Http404
    from django.shortcuts import redirect

    from careops.core import egress

    if not egress.is_platform_administrator(request.user):
        raise Http404
    error = ""
    if request.method == "POST":
        organisation = Organisation.objects.filter(pk=request.POST.get("organisation")).first()
        enable = request.POST.get("enable") == "1"
        if organisation is None:
            error = _("Organisation inconnue.")
        else:
            try:
                egress.set_internal_targets(
                    request.user, organisation, enable, request.POST.get("reason", "")
                )
            except ValueError as exc:
                error = str(exc)
            else:
                messages.success(request, _("Politique de sortie enregistrée."))
                return redirect("core:internal_targets")
    nodes = scope.restrict(Organisation.objects.all(), request.user).order_by("path")
    return render(
        request,
        "core/internal_targets.html",
        {"nodes": nodes, "error": error},
        status=400 if error else 200,
    )
