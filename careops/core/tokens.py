"""API tokens: issue one (clear value returned once) and authenticate a request with it."""

from __future__ import annotations

import hashlib
import secrets

from django.utils import timezone
from ninja.security import HttpBearer

from careops.core.models import ApiToken


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def issue(user, name: str, expires_at=None) -> tuple[ApiToken, str]:
    """Create a token for ``user``; return it with the clear value, which is never stored."""
    value = "cop_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=value[4:12], digest=_digest(value), expires_at=expires_at
    )
    return token, value


def user_for(value: str):
    """Return the active user a token value belongs to, or None."""
    token = (
        ApiToken.objects.select_related("user").filter(digest=_digest(value)).first()
        if value
        else None
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.expires_at and token.expires_at <= now:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


class TokenAuth(HttpBearer):
    """``Authorization: Bearer cop_…``; the browser session also works for the same user."""

    def authenticate(self, request, token):
        user = user_for(token)
        if user is not None:
            request.user = user
        return user


def session_auth(request):
    """Accept an authenticated browser session (CSRF is checked by ninja for unsafe methods)."""
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None
