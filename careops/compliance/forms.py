"""Evidence and assessment forms."""

import datetime as dt
import re

from django import forms
from django.utils.translation import gettext_lazy as _

from careops.compliance.choices import Validator
from careops.core import forms as base
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


def typed_field(spec) -> forms.Field:
    """A real form field for a referential fact or attribute (``engine.fields.FieldSpec``)."""
    common = {"label": spec.label[:1].upper() + spec.label[1:], "required": False}
    help_text = spec.help
    if spec.type == "bool":
        return forms.BooleanField(help_text=help_text, **common)
    if spec.type == "number":
        return forms.DecimalField(help_text=help_text, **common)
    if spec.type == "date":
        return base.DateField(help_text=help_text, **common)
    if spec.type == "choice":
        return forms.ChoiceField(
            choices=[("", _("— non renseigné —")), *spec.choices], help_text=help_text, **common
        )
    if spec.type == "choices":
        return forms.MultipleChoiceField(
            choices=spec.choices,
            widget=forms.CheckboxSelectMultiple,
            help_text=help_text,
            **common,
        )
    if spec.type == "lines":
        return forms.CharField(
            widget=forms.Textarea(attrs={"rows": 3}), help_text=help_text, **common
        )
    return forms.CharField(help_text=help_text, **common)


def initial_value(spec, value):
    """A stored JSON value as the initial value of its typed field."""
    if value is None:
        return None
    if spec.type == "date" and isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    if spec.type == "choices" and isinstance(value, str):
        return [value]
    if spec.type == "lines" and isinstance(value, list):
        return "\n".join(_line(entry) for entry in value)
    return value


def _line(entry) -> str:
    if isinstance(entry, dict):
        when = entry.get("due_date") or entry.get("date") or ""
        return f"{when} {entry.get('label') or ''}".strip()
    return str(entry)


_LINE = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*(.*)$")


def stored_value(spec, value):
    """A typed field's cleaned value as JSON for the dossier (None: not filled in)."""
    if value in (None, "", []):
        return None
    if spec.type == "number":
        return int(value) if value == value.to_integral_value() else float(value)
    if spec.type == "date":
        return value.isoformat()
    if spec.type == "lines":
        entries = []
        for line in value.splitlines():
            line = line.strip()
            if not line:
                continue
            match = _LINE.match(line)
            if match:
                entries.append({"due_date": match[1], "label": match[2]})
            else:
                entries.append({"label": line})
        return entries or None
    return value


class RevisionForm(base.Form):
    """The dated part of a piece of evidence: a new revision with its files.

    The attributes are real fields generated from the referential (``attribute_specs``: the
    specifications per evidence kind); fields of another kind than the one chosen are ignored.
    """

    effective_date = base.DateField(
        label=_("Date d'effet"),
        help_text=_("Date du document (validation, revue, tenue du test), distincte du dépôt."),
    )
    expires_on = base.DateField(
        label=_("Date d'expiration"),
        required=False,
    )
    validated_by = forms.ChoiceField(
        label=_("Validée par"), choices=Validator.choices, required=False
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

    def __init__(
        self, *args, organisation=None, attribute_specs=None, kind=None, previous=None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        if organisation is not None:
            self.fields["entities"].queryset = organisation.subtree().exclude(finess=None)
        self.fixed_kind = kind
        self.attribute_specs = attribute_specs or {}
        self.previous = dict(previous or {})
        self.spec_by_name = {}
        kinds_of: dict[str, list[str]] = {}
        for spec_kind, specs in self.attribute_specs.items():
            for spec in specs:
                self.spec_by_name.setdefault(spec.name, spec)
                kinds_of.setdefault(spec.name, []).append(spec_kind)
        for name, spec in self.spec_by_name.items():
            field = typed_field(spec)
            field.widget.attrs["data-kinds"] = " ".join(kinds_of[name])
            field.initial = initial_value(spec, self.previous.get(name))
            self.fields[f"attr_{name}"] = field
        # the attribute fields come right after the dates, before entities and files
        order = ["kind", "title", "effective_date", "expires_on", "validated_by"]
        order += [f"attr_{name}" for name in self.spec_by_name]
        self.order_fields(order)

    def chosen_kind(self) -> str | None:
        return self.fixed_kind or self.cleaned_data.get("kind")

    def clean(self):
        data = super().clean()
        kind = self.chosen_kind()
        names = [spec.name for spec in self.attribute_specs.get(kind, [])]
        attributes = {
            key: value for key, value in self.previous.items() if key not in self.spec_by_name
        }
        for name in names:
            value = stored_value(self.spec_by_name[name], data.get(f"attr_{name}"))
            if value is not None:
                attributes[name] = value
        data["attributes"] = attributes
        return data


class EvidenceForm(RevisionForm):
    """A new piece of evidence: kind and title, then its first revision."""

    field_order = ["kind", "title"]
    kind = forms.ChoiceField(label=_("Type de preuve"))
    title = forms.CharField(label=_("Titre"), max_length=255)

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, label) for k, label in kinds]


class AssessmentForm(base.Form):
    """The candidate's dates and declared facts; one real field per fact of the referential."""

    candidacy_date = base.DateField(
        label=_("Date de candidature"),
        required=False,
    )
    filing_date = base.DateField(
        label=_("Date de dépôt de la déclaration"),
        required=False,
        help_text=_(
            "Vide tant que la déclaration n'est pas déposée : l'évaluation se fait à date."
        ),
    )

    def __init__(self, *args, fact_specs=(), facts=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fact_specs = list(fact_specs)
        self.previous = dict(facts or {})
        for spec in self.fact_specs:
            if spec.type == "bool":
                field = forms.TypedChoiceField(
                    label=spec.label[:1].upper() + spec.label[1:],
                    required=False,
                    choices=[
                        ("", _("Non renseigné")),
                        ("true", _("Oui")),
                        ("false", _("Non")),
                    ],
                    coerce=lambda v: v == "true",
                    empty_value=None,
                    widget=forms.RadioSelect,
                    help_text=spec.help,
                )
                value = self.previous.get(spec.name)
                field.initial = "" if value is None else ("true" if value else "false")
            else:
                field = typed_field(spec)
                field.initial = initial_value(spec, self.previous.get(spec.name))
            self.fields[f"fact_{spec.name}"] = field

    def clean(self):
        data = super().clean()
        known = {spec.name for spec in self.fact_specs}
        facts = {key: value for key, value in self.previous.items() if key not in known}
        for spec in self.fact_specs:
            value = data.get(f"fact_{spec.name}")
            if spec.type == "bool":
                if value is not None:
                    facts[spec.name] = value
                continue
            value = stored_value(spec, value)
            if value is not None:
                facts[spec.name] = value
        data["facts"] = facts
        return data
