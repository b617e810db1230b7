"""Request-wide rules: MFA required for some roles, and the audit context."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from careops.core import audit
from careops.tenancy import scope

_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/i18n/", "/api/")


def user_needs_mfa_setup(user) -> bool:
    """Whether the user holds a role that requires MFA and has no authenticator yet."""
    if not user.is_authenticated:
        return False
    if not (scope.roles(user) & set(settings.MFA_REQUIRED_ROLES)) and not user.is_superuser:
        return False
    from allauth.mfa.models import Authenticator

    return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class MfaEnforcementMiddleware:
    """Send users whose role requires MFA to the TOTP set-up page until they have one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            not request.path.startswith(_EXEMPT_PREFIXES)
            and not request.session.get("careops_mfa_via")  # a federated login's second factor
            and user_needs_mfa_setup(request.user)
        ):
            messages.warning(
                request,
                _(
                    "Votre rôle exige une double authentification : configurez une application TOTP."
                ),
            )
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)


class AuditContextMiddleware:
    """Make the client address available to audit.record for this request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = audit.set_request_ip(request.META.get("REMOTE_ADDR"))
        try:
            return self.get_response(request)
        finally:
            audit._request_ip.reset(token)
