from django import forms
from django.core import validators
from django.utils.translation import gettext_lazy as _

from careops.core import forms as base
from careops.tenancy.choices import ALLOWED_CHILDREN
from careops.tenancy.models import Organisation


class OrganisationForm(base.ModelForm):
    """Create or edit a node under a given parent (the kind must fit the parent)."""

    class Meta:
        model = Organisation
        fields = [
            "kind",
            "name",
            "finess",
            "finess_category",
            "category",
            "activity_weight",
            "activity_unit",
        ]
        help_texts = {
            "finess": _("9 caractères : département, numéro d'ordre, clé de contrôle."),
            "activity_weight": _(
                "Part de l'activité combinée du candidat (pour la règle des 66 %)."
            ),
        }

    def __init__(self, *args, parent=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.parent = parent if self.instance.pk is None else self.instance.parent
        allowed = ALLOWED_CHILDREN.get(parent.kind if parent else "", set())
        if self.instance.pk is None:
            self.fields["kind"].choices = [
                c for c in self.fields["kind"].choices if c[0] in allowed
            ]
        else:
            self.fields["kind"].disabled = True


class GrantForm(base.Form):
    """Grant a role on a node to an existing account, or invite a new person by e-mail."""

    user = forms.CharField(
        label=_("Identifiant ou adresse électronique"),
        max_length=150,
        help_text=_(
            "Un compte existant (identifiant ou adresse), ou l'adresse d'une personne à "
            "inviter : son compte est créé et elle reçoit une invitation pour choisir son mot "
            "de passe."
        ),
    )
    role = forms.ChoiceField(label=_("Rôle"))
    include_subtree = forms.BooleanField(
        label=_("Sur tout le périmètre rattaché"), required=False, initial=True
    )

    def __init__(self, *args, roles=(), subtree_allowed=True, **kwargs):
        super().__init__(*args, **kwargs)
        from careops.tenancy.choices import Role

        self.fields["role"].choices = [c for c in Role.choices if c[0] in roles]
        if not subtree_allowed:
            # a node-only granter grants on the node only (the service refuses it anyway)
            field = self.fields["include_subtree"]
            field.initial, field.disabled = False, True
            field.help_text = _("Votre rôle ne porte que sur ce nœud : le rôle attribué aussi.")

    def invite_email(self) -> str:
        """The address to invite when the identifier is an e-mail address, else ""."""
        ident = self.cleaned_data.get("user", "").strip()
        try:
            validators.validate_email(ident)
        except forms.ValidationError:
            return ""
        return ident.lower()
