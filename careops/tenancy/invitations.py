"""Invitations: one account per e-mail address, and a real invitation e-mail.

An address belongs to one account at most (case-insensitive; a database index enforces it), so
no link for an account is ever mailed to an address that another account holds. The invitation
says who invites, to which organisation and role, what careops is, and gives the link to choose
a password with its expiry (allauth's password-reset token: single use, ``PASSWORD_RESET_TIMEOUT``).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

logger = logging.getLogger("careops.tenancy")


def email_taken(email: str, exclude_pk=None) -> bool:
    """Whether another account already holds ``email`` (case-insensitive)."""
    accounts = get_user_model().objects.filter(email__iexact=(email or "").strip())
    if exclude_pk is not None:
        accounts = accounts.exclude(pk=exclude_pk)
    return bool(email) and accounts.exists()


def check_email_free(email: str, exclude_pk=None) -> None:
    """Refuse an address another account holds, with a French message on the field."""
    if email_taken(email, exclude_pk):
        raise ValidationError(
            {
                "user": [
                    _(
                        "L'adresse %(email)s est déjà celle d'un autre compte : attribuez le "
                        "rôle à ce compte (son identifiant ou son adresse) au lieu d'en créer un."
                    )
                    % {"email": email}
                ]
            }
        )


def invitation_link(request, user) -> str:
    """The single-use link where the invited person chooses a password."""
    from allauth.account.adapter import get_adapter
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    key = f"{user_pk_to_url_str(user)}-{default_token_generator.make_token(user)}"
    return get_adapter(request).get_reset_password_from_key_url(key)


def send_invitation(request, inviter, assignment) -> None:
    """Mail the invitation to the new account's own address (and to nobody else)."""
    user = assignment.user
    if not user.email or email_taken(user.email, exclude_pk=user.pk):
        logger.error("invitation non envoyée : adresse absente ou partagée (compte %s)", user.pk)
        return
    expires = timezone.localtime(
        timezone.now() + dt.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
    )
    context = {
        "inviter": inviter.get_full_name() or inviter.get_username(),
        "inviter_email": inviter.email,
        "organisation": assignment.organisation.name,
        "role": assignment.get_role_display(),
        "subtree": assignment.include_subtree,
        "username": user.get_username(),
        "link": invitation_link(request, user),
        "expires": expires,
        "site": request.build_absolute_uri("/"),
    }
    subject = render_to_string("tenancy/email/invitation_subject.txt", context).strip()
    body = render_to_string("tenancy/email/invitation_message.txt", context)
    send_mail(subject, body, None, [user.email])
