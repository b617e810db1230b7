"""API tokens: create one (clear value returned once), authenticate a request with it.

Only users who satisfy their MFA rule get tokens, and a token of a user whose role requires MFA
stops working if that user has no authenticator. A read-only token is refused on every method
that changes something.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.security import HttpBearer, SessionAuth

from careops.core import audit, logs
from careops.core.middleware import has_totp, mfa_required, session_satisfies_mfa
from careops.core.models import ApiToken

DEFAULT_DAYS = 90
MAX_DAYS = 365
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def issue(user, name: str, expires_at=None, read_only: bool = False) -> tuple[ApiToken, str]:
    """Store a token for ``user``; return it with the clear value, which is never stored."""
    value = "cop_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=value[4:12],
        digest=_digest(value),
        expires_at=expires_at,
        read_only=read_only,
    )
    return token, value


def create(
    actor, user, name: str, days: int = DEFAULT_DAYS, read_only: bool = False, request=None
) -> tuple[ApiToken, str]:
    """Create a token of ``user`` valid ``days`` days, journalled; the MFA rule is checked.

    ``request`` is the web request when the user creates their own token: the session must
    then have gone through its second factor. From the CLI, the user must have enrolled one.
    """
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("Donnez un nom au jeton (usage, machine…).")]})
    if not 1 <= days <= MAX_DAYS:
        raise ValidationError(
            {
                "days": [
                    _("La durée doit être comprise entre 1 et %(max)s jours.") % {"max": MAX_DAYS}
                ]
            }
        )
    if mfa_required(user):
        satisfied = session_satisfies_mfa(request, user) if request else has_totp(user)
        if not satisfied:
            raise PermissionDenied(
                _(
                    "Le rôle de %(user)s exige la double authentification : activez-la (et "
                    "connectez-vous avec elle) avant de créer un jeton d'API."
                )
                % {"user": user.get_username()}
            )
    expires_at = timezone.now() + dt.timedelta(days=days)
    with transaction.atomic():
        token, value = issue(user, name, expires_at=expires_at, read_only=read_only)
        audit.record(
            actor,
            "token.create",
            token,
            None,
            f"jeton « {token.name} » ({token.prefix}…) créé pour {user.get_username()}, "
            f"{'lecture seule' if read_only else 'lecture et écriture'}, "
            f"expire le {timezone.localtime(expires_at):%d/%m/%Y}",
        )
    return token, value


def revoke(actor, token: ApiToken) -> None:
    """Delete a token, journalled."""
    with transaction.atomic():
        audit.record(
            actor,
            "token.revoke",
            token,
            None,
            f"jeton « {token.name} » ({token.prefix}…) de {token.user.get_username()} révoqué",
        )
        token.delete()


def token_for(value: str) -> ApiToken | None:
    """The valid token a clear value belongs to (active user, not expired, MFA rule met)."""
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
    if mfa_required(token.user) and not has_totp(token.user):
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def user_for(value: str):
    """Return the active user a token value belongs to, or None."""
    token = token_for(value)
    return token.user if token else None


class TokenAuth(HttpBearer):
    """``Authorization: Bearer cop_…``; a read-only token only reads."""

    def authenticate(self, request, token):
        found = token_for(token)
        if found is None:
            return None
        if found.read_only and request.method not in SAFE_METHODS:
            raise HttpError(403, _("Ce jeton d'API est en lecture seule."))
        request.user = found.user
        logs.note_user(found.user)  # API calls authenticate here, after the middleware
        return found.user


class MfaSessionAuth(SessionAuth):
    """The browser session, for users whose MFA rule is met in that session (CSRF checked)."""

    def _get_key(self, request):
        # No signed-in session: nothing a forged request could use, so no CSRF verdict; the
        # caller (a script whose token is wrong, expired or revoked) gets the French 401.
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        if user is None or not session_satisfies_mfa(request, user):
            return None
        return user
