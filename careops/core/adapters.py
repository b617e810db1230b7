"""allauth adapters: no self sign-up; password attempts throttled by careops.core.throttle;
second-factor secrets (TOTP keys, recovery-code seeds) encrypted at rest like every other
secret (careops.core.crypto)."""

import time

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from careops.core import crypto, throttle


def _login(credentials) -> str:
    return credentials.get("username") or credentials.get("email") or ""


class AccountAdapter(DefaultAccountAdapter):
    # the login form says « Identifiant », so do its errors (allauth's French says « pseudo »)
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "username_password_mismatch": _("L'identifiant ou le mot de passe est incorrect."),
        "email_password_mismatch": _("L'adresse électronique ou le mot de passe est incorrect."),
    }

    def is_open_for_signup(self, request) -> bool:
        return False

    def pre_authenticate(self, request, **credentials) -> None:
        """Refuse, without checking the password, an attempt made during a throttling delay."""
        self._login_failed_rl_usage = None
        wait = throttle.wait_seconds(request, _login(credentials))
        if wait:
            from careops.core.metrics import LOGIN_THROTTLED

            LOGIN_THROTTLED.inc()
            raise ValidationError(
                ngettext(
                    "Trop de tentatives de connexion : réessayez dans %(seconds)s seconde.",
                    "Trop de tentatives de connexion : réessayez dans %(seconds)s secondes.",
                    wait,
                )
                % {"seconds": wait}
            )

    def authenticate(self, request, **credentials):
        user = super().authenticate(request, **credentials)
        if user is not None:
            throttle.record_success(_login(credentials))
        return user

    def authentication_failed(self, request, **credentials) -> None:
        throttle.record_failure(request, _login(credentials))

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """During the first set-up of the second factor (enrolment, then its recovery codes), a
        password typed at sign-in a few minutes ago counts as the re-check (it used to be asked
        twice in a row); any later change of the second factor asks for it again."""
        request = self.request
        if app == "allauth.mfa" and request is not None and request.user.is_authenticated:
            from allauth.account import app_settings
            from allauth.account.internal.flows.login import get_authentication_records
            from allauth.mfa.models import Authenticator

            now, timeout = time.time(), app_settings.REAUTHENTICATION_TIMEOUT
            recent = [
                r
                for r in get_authentication_records(request, request.user)
                if now - r.get("at", 0) < timeout
            ]
            signed_in = any(r.get("method") == "password" for r in recent)
            setting_up = any(r.get("enrolled") for r in recent) or not (
                Authenticator.objects.filter(user=request.user).exists()
            )
            if signed_in and setting_up:
                return False
        return super().is_reauthentication_required(app=app, **kwargs)

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


class MFAAdapter(DefaultMFAAdapter):
    """TOTP keys and recovery-code seeds stored encrypted (allauth keeps them in clear by
    default): a copy of the database or of a platform backup no longer gives anyone the second
    factor of every instructor and administrator."""

    def encrypt(self, text: str) -> str:
        return crypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        if not crypto.is_encrypted(encrypted_text):
            # enrolled before encryption and not yet encrypted by migration core 0004 or by
            # `careops secrets rotate`
            return encrypted_text
        return crypto.decrypt(encrypted_text)
