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

    def get_login_stages(self):
        """allauth's stages, its second-factor stage replaced by one that a federated login
        whose level stands for the second factor (Pro Santé Connect) satisfies."""
        return [
            "careops.identity.stages.AuthenticateStage"
            if stage == "allauth.mfa.stages.AuthenticateStage"
            else stage
            for stage in super().get_login_stages()
        ]

    def get_logout_redirect_url(self, request):
        """After a federated login, logging out also ends the provider's session (RP-initiated
        logout) where the provider publishes an end_session_endpoint."""
        from careops.identity.logout import provider_logout_url

        return provider_logout_url(request) or super().get_logout_redirect_url(request)
