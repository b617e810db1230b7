"""Log logins and failed logins to the audit trail."""

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from careops.core import audit


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs) -> None:
    audit.record(user, "login", summary=f"connexion de {user.get_username()}")


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    username = credentials.get("username") or credentials.get("email") or "?"
    audit.record(None, "login_failed", summary=f"échec de connexion pour {username}")
