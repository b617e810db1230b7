"""Forms of the exposure pages (French labels)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from careops.core import forms as base
from careops.exposure.models import FindingStatus


class AssetForm(base.Form):
    organisation = forms.ModelChoiceField(queryset=None, label=_("Organisation"))
    value = forms.CharField(
        label=_("Domaine, nom d'hôte ou plage d'adresses"),
        max_length=255,
        help_text=_("Exemples : chu-exemple.fr, vpn.chu-exemple.fr, 193.51.24.0/28"),
    )

    def __init__(self, *args, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations


class AttestationForm(base.Form):
    attestation = forms.CharField(
        label=_("Attestation de détention de la plage"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Titulaire, référence RIPE (inetnum) ou contrat de l'opérateur ou de l'hébergeur."
        ),
    )


class ApprovalForm(base.Form):
    """The approver's decision on a range or address, with its holder as they saw it."""

    holder = forms.CharField(
        label=_("Titulaire constaté"),
        max_length=255,
        required=False,
        help_text=_(
            "Obligatoire pour approuver : le titulaire tel que vous l'avez vu (inetnum RIPE et "
            "organisation, opérateur, hébergeur), pas celui que déclare l'établissement."
        ),
    )


class ProfileForm(base.Form):
    ports = forms.CharField(
        label=_("Ports analysés"),
        max_length=500,
        help_text=_(
            "« default » (tous les ports TCP et IKE), « health » (profil santé, plus léger), "
            "ou une liste : 22,80,443,8000-8100"
        ),
    )
    monthly = forms.BooleanField(label=_("Audit mensuel automatique"), required=False)


class FindingForm(base.Form):
    status = forms.ChoiceField(
        label=_("Statut"),
        choices=[c for c in FindingStatus.choices if c[0] != FindingStatus.FIXED],
    )
    owner = forms.CharField(label=_("Responsable"), max_length=150, required=False)
    due_date = base.DateField(
        label=_("Échéance"),
        required=False,
    )
    justification = forms.CharField(
        label=_("Justification du risque accepté"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    risk_expires_on = base.DateField(
        label=_("Fin de l'acceptation du risque"),
        required=False,
    )
