"""Home dashboard, audit trail, the user's API tokens, and the CSRF refusal page."""

import logging

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from careops.compliance.models import Assessment
from careops.core import cockpit, tokens
from careops.core.middleware import session_satisfies_mfa
from careops.core.models import ApiToken, AuditEvent
from careops.tenancy import scope
from careops.tenancy.choices import OrgKind
from careops.tenancy.models import Organisation

logger = logging.getLogger("careops.security")


@login_required
def home(request):
    """The cockpit: what to do next for the user's roles, then their candidates' assessments."""
    data = cockpit.build(request.user)
    # the candidates' assessments, for every role (an instructor reaches them from here too)
    candidates = scope.restrict(
        Organisation.objects.filter(kind__in=[OrgKind.GHT, OrgKind.EJ, OrgKind.ESMS]),
        request.user,
    ).order_by("path")
    shown = list(candidates.only("pk", "kind", "name", "finess", "path")[:200])
    assessments = scope.restrict(Assessment.objects.all(), request.user)
    # the cards show the first 200 candidates: only their assessments are read, and only the
    # columns the cards print (not the facts nor the referential file, decoded per row)
    by_candidate: dict[int, list] = {}
    for a in (
        assessments.filter(candidate_id__in=[c.pk for c in shown])
        .select_related("referential_version")
        .only(
            "pk",
            "candidate_id",
            "progress",
            "referential_version__domain",
            "referential_version__title",
        )
        .order_by("candidate__path", "referential_version__domain")
    ):
        by_candidate.setdefault(a.candidate_id, []).append(a)
    rows = [(c, by_candidate.get(c.pk, [])) for c in shown]
    candidate_count = len(shown) if len(shown) < 200 else candidates.count()
    assessment_count = assessments.count()
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


# --- API tokens (/compte/jetons/) -----------------------------------------------------------


class TokenForm(forms.Form):
    """A new API token of the signed-in user."""

    name = forms.CharField(
        label=gettext_lazy("Nom du jeton"),
        max_length=100,
        help_text=gettext_lazy(
            "Son usage ou la machine qui l'utilise, pour le reconnaître plus tard."
        ),
    )
    days = forms.IntegerField(
        label=gettext_lazy("Validité (jours)"),
        min_value=1,
        max_value=tokens.MAX_DAYS,
        initial=tokens.DEFAULT_DAYS,
        help_text=gettext_lazy("De 1 à 365 jours ; 90 par défaut."),
    )
    read_only = forms.BooleanField(
        label=gettext_lazy("Lecture seule"),
        required=False,
        help_text=gettext_lazy("Le jeton pourra lire mais jamais créer, modifier ni supprimer."),
    )


@login_required
def token_list(request):
    """The user's API tokens: list, create (the value is shown once), revoke."""
    form = TokenForm(request.POST or None)
    created_value = None
    allowed = session_satisfies_mfa(request, request.user)
    if request.method == "POST" and form.is_valid():
        try:
            token, created_value = tokens.create(
                request.user,
                request.user,
                form.cleaned_data["name"],
                form.cleaned_data["days"],
                form.cleaned_data["read_only"],
                request=request,
            )
        except PermissionDenied as exc:
            messages.error(request, str(exc))
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(
                request,
                _("Jeton « %(name)s » créé. Copiez-le maintenant : il ne sera plus affiché.")
                % {"name": token.name},
            )
            form = TokenForm()
    status = 422 if request.method == "POST" and created_value is None else 200
    return render(
        request,
        "core/tokens.html",
        {
            "form": form,
            "tokens": ApiToken.objects.filter(user=request.user).order_by("-created_at"),
            "created_value": created_value,
            "allowed": allowed,
            "now": timezone.now(),
        },
        status=status,
    )


@login_required
@require_POST
def token_revoke(request, pk):
    """Revoke one of the user's own tokens."""
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    tokens.revoke(request.user, token)
    messages.success(request, _("Jeton « %(name)s » révoqué.") % {"name": token.name})
    return redirect("core:tokens")


# --- error pages ----------------------------------------------------------------------------


def csrf_failure(request, reason=""):
    """The CSRF refusal, in the site's layout and in French, with a way back."""
    logger.warning("CSRF refusé sur %s : %s", request.path, reason)
    return render(request, "403_csrf.html", status=403)


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
