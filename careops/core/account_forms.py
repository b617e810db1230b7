"""allauth forms adapted to careops: an account's e-mail address is its own.

allauth, to hide which addresses have an account, lets a user add an address that belongs to
another account (as unverified); careops keeps one account per address (a unique index), so
making it primary failed with a server error, and an address could be held by two accounts.
Accounts are created by invitation, so the user who types a colleague's address learns nothing an
administrator would not tell them.
"""

from __future__ import annotations

from allauth.account.forms import AddEmailForm as AllauthAddEmailForm
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class AddEmailForm(AllauthAddEmailForm):
    def clean_email(self) -> str:
        value = super().clean_email()
        others = get_user_model().objects.filter(email__iexact=value).exclude(pk=self.user.pk)
        held = EmailAddress.objects.filter(email__iexact=value).exclude(user=self.user)
        if others.exists() or held.exists():
            raise ValidationError(
                _(
                    "Cette adresse est celle d'un autre compte careops : une adresse ne peut "
                    "servir qu'à un compte. Voyez avec l'administrateur de careops."
                )
            )
        return value
