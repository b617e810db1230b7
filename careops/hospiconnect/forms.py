"""Forms of the HospiConnect workspace."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from careops.core.forms import DateInput, Form, ModelForm
from careops.hospiconnect.engine.indicators import DMP_COLUMNS, DPI_COLUMNS, MFA_COLUMNS
from careops.hospiconnect.models import IdentificationMeans, Source

COLUMNS = {Source.DPI: DPI_COLUMNS, Source.MFA: MFA_COLUMNS, Source.DMP: DMP_COLUMNS}


class ImportForm(Form):
    """The exports of one measurement and, for each, how its columns are named (remembered)."""

    as_of = forms.DateField(label=_("Date de la mesure"), widget=DateInput())
    dpi = forms.FileField(
        label=_("Export des utilisateurs du DPI"),
        help_text=_(
            "CSV (; , | ou tabulation ; UTF-8 ou Latin-1) ou XLSX : compte, nom, profession, RPPS, actif, moyen d'authentification."
        ),
    )
    mfa = forms.FileField(
        label=_("Export de l'IdP ou de l'annuaire (2FA)"),
        required=False,
        help_text=_(
            "Comptes et moyen d'authentification ; remplace la colonne du DPI pour les comptes qu'il contient."
        ),
    )
    dmp = forms.FileField(
        label=_("Activité DMP mensuelle"),
        required=False,
        help_text=_(
            "Mois, compte, consultations TD3.1 ; lignes sans compte : consentements et file active du mois."
        ),
    )
    ad = forms.FileField(
        label=_("Collecte Active Directory"),
        required=False,
        help_text=_(
            "Fichier de careops ad collect (.json.gz) : les comptes dont l'ouverture de session "
            "exige une carte à puce comptent comme équipés d'un MIE."
        ),
    )
    create_review = forms.BooleanField(
        label=_("Ouvrir la revue annuelle des comptes à partir de cet export"), required=False
    )
    review_automatic = forms.BooleanField(
        label=_("Cet export est alimenté automatiquement depuis les RH"), required=False
    )

    def __init__(self, *args, mappings: dict[str, dict] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        mappings = mappings or {}
        for source, columns in COLUMNS.items():
            for column in columns:
                name = f"map_{source}_{column.key}"
                self.fields[name] = forms.CharField(
                    label=_("%(source)s — colonne « %(column)s »")
                    % {"source": Source(source).label, "column": column.label},
                    required=False,
                    max_length=200,
                    initial=mappings.get(source, {}).get(column.key, ""),
                    help_text=_(
                        "En-tête tel qu'il figure dans l'export ; vide : reconnu automatiquement."
                    ),
                )

    def mappings(self) -> dict[str, dict]:
        return {
            source: {
                column.key: self.cleaned_data.get(f"map_{source}_{column.key}", "").strip()
                for column in columns
            }
            for source, columns in COLUMNS.items()
        }

    def file_fields(self):
        return [
            self[name]
            for name in ("as_of", "dpi", "mfa", "dmp", "ad", "create_review", "review_automatic")
        ]

    def mapping_fields(self):
        return [self[name] for name in self.fields if name.startswith("map_")]


class MeansForm(ModelForm):
    class Meta:
        model = IdentificationMeans
        fields = ["kind", "holder_account", "holder_name", "serial", "issued_on"]
        widgets = {"issued_on": DateInput()}


class DecisionForm(Form):
    decision = forms.ChoiceField(
        label=_("Décision"),
        choices=[("confirmed", _("confirmer")), ("revoked", _("révoquer"))],
    )
    comment = forms.CharField(
        label=_("Motif (obligatoire pour une révocation)"), required=False, max_length=300
    )
