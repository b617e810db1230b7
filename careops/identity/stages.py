"""allauth's second-factor login stage, skipped when a federation's level already is one."""

from __future__ import annotations

from allauth.mfa.stages import AuthenticateStage as AllauthAuthenticateStage


def mfa_provider(login) -> str | None:
    """The provider id when ``login`` is a federated login whose level counts as MFA."""
    sociallogin = (getattr(login, "signal_kwargs", None) or {}).get("sociallogin")
    if sociallogin is None:
        return None
    provider = sociallogin.account.get_provider()
    counts = getattr(provider, "counts_as_mfa", None)
    return provider.app.provider_id if counts and counts() else None


class AuthenticateStage(AllauthAuthenticateStage):
    def _should_handle(self, request) -> bool:
        if mfa_provider(self.login):
            return False
        return super()._should_handle(request)
