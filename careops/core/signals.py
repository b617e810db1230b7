"""Log logins, failed logins and changes of second factors to the audit trail."""

from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_added, authenticator_removed
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from careops.core import audit


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs) -> None:
    audit.record(user, "login", summary=f"connexion de {user.get_username()}")


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    from careops.core.metrics import LOGIN_FAILURES

    LOGIN_FAILURES.inc()
    username = credentials.get("username") or credentials.get("email") or "?"
    audit.record(None, "login_failed", summary=f"échec de connexion pour {username}")


@receiver(authenticator_added)
def _authenticator_added(sender, request, user, authenticator, **kwargs) -> None:
    """Journal the enrolment; the enrolling session proved the code, so its MFA rule is met."""
    if authenticator.type == Authenticator.Type.TOTP and request is not None:
        record_authentication(request, user, "mfa", id=authenticator.pk, type="totp", enrolled=True)
    audit.record(
        user,
        "mfa.add",
        summary=f"{authenticator.get_type_display()} ajouté par {user.get_username()}",
    )


@receiver(authenticator_removed)
def _authenticator_removed(sender, request, user, authenticator, **kwargs) -> None:
    audit.record(
        user,
        "mfa.remove",
        summary=f"{authenticator.get_type_display()} retiré pour {user.get_username()}",
    )
