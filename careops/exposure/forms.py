"""Forms of the exposure pages (French labels)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from careops.exposure.models import FindingStatus


class AssetForm(forms.Form):
    organisation = forms.ModelChoiceField(queryset=None, label=_("Organisation"))
    value = forms.CharField(
        label=_("Domaine, nom d'hôte ou plage d'adresses"),
        max_length=255,
        help_text=_("Exemples : chu-exemple.fr, vpn.chu-exemple.fr, 193.51.24.0/28"),
    )

    def __init__(self, *args, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations


class AttestationForm(forms.Form):
    attestation = forms.CharField(
        label=_("Attestation de détention de la plage"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Titulaire, référence RIPE (inetnum) ou contrat de l'opérateur."),
    )


class ProfileForm(forms.Form):
    ports = forms.CharField(
        label=_("Ports analysés"),
        max_length=500,
        help_text=_(
            "« default » (tous les ports TCP et IKE), « health » (profil santé, plus léger), "
            "ou une liste : 22,80,443,8000-8100"
        ),
    )
    monthly = forms.BooleanField(label=_("Audit mensuel automatique"), required=False)


class FindingForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Statut"),
        choices=[c for c in FindingStatus.choices if c[0] != FindingStatus.FIXED],
    )
    owner = forms.CharField(label=_("Responsable"), max_length=150, required=False)
    due_date = forms.DateField(
        label=_("Échéance"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    justification = forms.CharField(
        label=_("Justification du risque accepté"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    risk_expires_on = forms.DateField(
        label=_("Fin de l'acceptation du risque"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
