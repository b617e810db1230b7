"""allauth adapter: accounts are created by administrators, never by self sign-up."""

from allauth.account.adapter import DefaultAccountAdapter
from django.utils.translation import gettext_lazy as _


class AccountAdapter(DefaultAccountAdapter):
    # the login form says « Identifiant », so do its errors (allauth's French says « pseudo »)
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "username_password_mismatch": _("L'identifiant ou le mot de passe est incorrect."),
        "email_password_mismatch": _("L'adresse électronique ou le mot de passe est incorrect."),
    }

    def is_open_for_signup(self, request) -> bool:
        return False
