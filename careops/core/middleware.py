"""Request-wide rules: MFA required for some roles, security headers, and the audit context."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from careops.core import audit
from careops.tenancy import scope

_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/i18n/", "/api/")


def mfa_required(user) -> bool:
    """Whether the user's roles (or superuser status) require a second factor."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or bool(scope.roles(user) & set(settings.MFA_REQUIRED_ROLES))


def has_totp(user) -> bool:
    """Whether the user has enrolled a TOTP authenticator."""
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def user_needs_mfa_setup(user) -> bool:
    """Whether the user holds a role that requires MFA and has no authenticator yet."""
    return mfa_required(user) and not has_totp(user)


def session_mfa_done(request, user) -> bool:
    """Whether this browser session went through a second factor (login code or enrolment)."""
    from allauth.account.internal.flows.login import get_authentication_records

    return any(r.get("method") == "mfa" for r in get_authentication_records(request, user))


def session_satisfies_mfa(request, user) -> bool:
    """A session counts for the API and for tokens only once its MFA rule is met."""
    if not mfa_required(user):
        return True
    if request.session.get("careops_mfa_via"):  # a federated login whose level is the 2nd factor
        return True
    return has_totp(user) and session_mfa_done(request, user)


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


class SecurityHeadersMiddleware:
    """Content-Security-Policy on every answer; no caching of what a signed-in user sees."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        user = getattr(request, "user", None)
        authenticated = user is not None and user.is_authenticated
        if authenticated or request.path.startswith(("/accounts/", "/api/")):
            add_never_cache_headers(response)
        return response


class AuditContextMiddleware:
    """Make the client address available to audit.record for this request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from careops.core.throttle import client_address

        token = audit.set_request_ip(client_address(request) or None)
        try:
            return self.get_response(request)
        finally:
            audit._request_ip.reset(token)
