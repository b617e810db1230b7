"""Evidence and assessment forms."""

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from careops.compliance.choices import Validator
from careops.tenancy.models import Organisation


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file field that takes several files (checked one by one by compliance.uploads)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data]
        return [super().clean(data, initial)] if data else []


class RevisionForm(forms.Form):
    """The dated part of a piece of evidence: a new revision with its files."""

    effective_date = forms.DateField(
        label=_("Date d'effet"),
        help_text=_("Date du document (validation, revue, tenue du test), distincte du dépôt."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    expires_on = forms.DateField(
        label=_("Date d'expiration"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    validated_by = forms.ChoiceField(
        label=_("Validée par"), choices=Validator.choices, required=False
    )
    attributes = forms.CharField(
        label=_("Attributs (JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_('Ex. {"level": 3} pour un audit, {"business_referent": "référent métier"}.'),
    )
    entities = forms.ModelMultipleChoiceField(
        label=_("Entités couvertes"),
        queryset=Organisation.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        # xgettext:no-python-format
        help_text=_("Pour les règles de couverture (66 % de l'activité combinée)."),
    )
    files = MultipleFileField(label=_("Fichiers"), required=False)
    comment = forms.CharField(
        label=_("Commentaire"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, organisation=None, **kwargs):
        super().__init__(*args, **kwargs)
        if organisation is not None:
            self.fields["entities"].queryset = organisation.subtree().exclude(finess=None)

    def clean_attributes(self):
        raw = self.cleaned_data["attributes"].strip()
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                _("JSON invalide (ligne %(line)s, colonne %(col)s).")
                % {"line": exc.lineno, "col": exc.colno}
            ) from exc
        if not isinstance(value, dict):
            raise forms.ValidationError(_("Les attributs doivent être un objet JSON {…}."))
        return value


class EvidenceForm(RevisionForm):
    """A new piece of evidence: kind and title, then its first revision."""

    field_order = ["kind", "title"]
    kind = forms.ChoiceField(label=_("Type de preuve"))
    title = forms.CharField(label=_("Titre"), max_length=255)

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, label) for k, label in kinds]


class AssessmentForm(forms.Form):
    candidacy_date = forms.DateField(
        label=_("Date de candidature"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    filing_date = forms.DateField(
        label=_("Date de dépôt de la déclaration"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_(
            "Vide tant que la déclaration n'est pas déposée : l'évaluation se fait à date."
        ),
    )
    facts = forms.CharField(
        label=_("Faits déclarés (JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_('Ex. {"dedicated_backup_ad": true}'),
    )

    def clean_facts(self):
        raw = self.cleaned_data["facts"].strip()
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(_("JSON invalide.")) from exc
        if not isinstance(value, dict):
            raise forms.ValidationError(_("Les faits doivent être un objet JSON {…}."))
        return value
