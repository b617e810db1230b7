"""Forms of the awareness pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from careops.awareness.models import SessionFormat
from careops.core.forms import DateField, Form, preselect_single
from careops.tenancy import scope
from careops.tenancy.models import Organisation

SHEET_ACCEPT = ".csv,.txt,.xlsx"


def _organisations(user, action="change"):
    return scope.restrict(Organisation.objects.all(), user, action).order_by("path")


class CampaignForm(Form):
    organisation = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Organisation.objects.none()
    )
    title = forms.CharField(label=_("Intitulé"), max_length=200)
    audience_professions = forms.CharField(
        label=_("Professions visées"),
        max_length=500,
        required=False,
        help_text=_(
            "Séparées par des virgules (ex. Infirmier, Aide-soignant). Vide : tout le personnel. "
            "La part formée de la campagne se calcule sur l'effectif de ces professions."
        ),
    )
    audience_services = forms.CharField(
        label=_("Services visés"),
        max_length=500,
        required=False,
        help_text=_("Séparés par des virgules (ex. Urgences, Bloc opératoire)."),
    )
    starts_on = DateField(label=_("Début"))
    ends_on = DateField(label=_("Fin"))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = _organisations(user)
        preselect_single(self)

    def clean(self):
        data = super().clean()
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", _("La fin précède le début."))
        return data


class SessionForm(Form):
    date = DateField(label=_("Date de la séance"))
    trainer = forms.CharField(label=_("Formateur"), max_length=200, required=False)
    format = forms.ChoiceField(label=_("Format"), choices=SessionFormat.choices)
    topic = forms.CharField(label=_("Thème"), max_length=200, required=False)


class AttendanceImportForm(Form):
    sheet = forms.FileField(
        label=_("Feuille d'émargement ou export LMS (CSV ou XLSX)"),
        help_text=_(
            "Colonnes reconnues par leur nom : Nom et Prénom (ou Nom complet), Adresse "
            "électronique, Profession (ou Fonction, Métier), Structure (ou Établissement, FINESS), "
            "Date, Présence (ou Statut, Émargement). Séparateur ; ou , ; UTF-8 ou Windows-1252. "
            "L'import remplace l'émargement précédent de la séance."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": SHEET_ACCEPT}),
    )
    structure = forms.ModelChoiceField(
        label=_("Structure des lignes sans structure"),
        queryset=Organisation.objects.none(),
        required=False,
        help_text=_("Vide : l'organisation de la campagne."),
    )

    def __init__(self, *args, campaign=None, **kwargs):
        super().__init__(*args, **kwargs)
        if campaign is not None:
            self.fields["structure"].queryset = campaign.organisation.subtree().order_by("path")


class HeadcountForm(Form):
    organisation = forms.ModelChoiceField(
        label=_("Structure"), queryset=Organisation.objects.none()
    )
    profession = forms.CharField(label=_("Profession"), max_length=150)
    headcount = forms.IntegerField(
        label=_("Effectif (personnes)"), min_value=0, max_value=1_000_000
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = _organisations(user)
        preselect_single(self)


class HeadcountImportForm(Form):
    organisation = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Organisation.objects.none()
    )
    sheet = forms.FileField(
        label=_("Fichier des effectifs (CSV ou XLSX)"),
        help_text=_(
            "Colonnes : Structure (nom ou FINESS, facultative), Profession, Effectif. Une ligne "
            "remplace l'effectif de sa structure et de sa profession."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": SHEET_ACCEPT}),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = _organisations(user)
        preselect_single(self)


class ReportForm(Form):
    organisation = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Organisation.objects.none()
    )
    end = DateField(label=_("Fin de la période"), required=False)
    months = forms.IntegerField(
        label=_("Durée (mois)"), min_value=1, max_value=120, initial=12, required=False
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = _organisations(user, "view")


class PhishingImportForm(Form):
    organisation = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Organisation.objects.none()
    )
    export = forms.FileField(
        label=_("Export « Results » de GoPhish (CSV)"),
        help_text=_(
            "Dans GoPhish : la campagne, « Export CSV », « Results ». Seuls les comptes sont "
            "gardés : ni adresse, ni nom, ni adresse IP, ni ce qui a été saisi."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv"}),
    )
    name = forms.CharField(
        label=_("Nom de la campagne (facultatif)"),
        max_length=200,
        required=False,
        help_text=_("Par défaut, le nom du fichier sans « - Results »."),
    )
    replace = forms.BooleanField(
        label=_("Remplacer la campagne de même nom déjà importée"),
        required=False,
        help_text=_(
            "La même campagne exportée de nouveau est reconnue à ses cibles et remplace son "
            "import précédent ; cochez cette case quand careops ne peut la reconnaître qu'à son "
            "nom (il vous le demande alors)."
        ),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = _organisations(user)
        preselect_single(self)
