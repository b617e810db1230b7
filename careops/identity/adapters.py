"""allauth social adapter: federated identities never create nor claim accounts by themselves."""

from __future__ import annotations

import logging

from allauth.socialaccount.adapter import DefaultSocialAccountAdapter

logger = logging.getLogger("careops.identity")


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin) -> bool:
        """An identity unknown to careops is refused: accounts come from invitations."""
        from careops.core import audit

        provider = sociallogin.account.get_provider()
        logger.warning(
            "OIDC login refused (%s): identity %s linked to no account",
            provider.app.provider_id,
            sociallogin.account.uid,
        )
        audit.record(
            None,
            "login.oidc_unknown",
            summary=f"{provider.app.name} : identité {sociallogin.account.uid} liée à aucun compte",
        )
        return False

    def on_authentication_error(
        self, request, provider, error=None, exception=None, extra_context=None
    ):
        logger.warning("OIDC authentication error (%s): %s %s", provider.id, error, exception)
