"""Record federated logins: the level returned, and whether it stands for the second factor."""

from __future__ import annotations

from allauth.account.signals import user_logged_in
from django.dispatch import receiver

SESSION_MFA = "careops_mfa_via"


@receiver(user_logged_in)
def remember_federated_login(sender, request, user, **kwargs):
    from careops.core import audit
    from careops.identity.stages import mfa_provider

    sociallogin = kwargs.get("sociallogin")
    if sociallogin is None:
        request.session.pop(SESSION_MFA, None)
        return
    provider = sociallogin.account.get_provider()
    acr = (sociallogin.account.extra_data.get("userinfo") or {}).get("careops_acr")
    via = mfa_provider(type("L", (), {"signal_kwargs": kwargs})())
    if via:
        request.session[SESSION_MFA] = via
    audit.record(
        user,
        "login.oidc",
        user,
        None,
        f"connexion par {provider.app.name} (niveau {acr or 'non communiqué'})"
        + (", vaut double authentification" if via else ""),
    )
