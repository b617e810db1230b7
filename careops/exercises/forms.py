"""Forms of the crisis exercises."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from careops.core.forms import DateField, Form, ModelForm, preselect_single
from careops.exercises.engine import scenarios
from careops.exercises.models import EntryKind, Finding, Inject, Participant, RetexAction
from careops.tenancy import scope
from careops.tenancy.models import Organisation


class PlanForm(Form):
    organisation = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Organisation.objects.none()
    )
    scenario = forms.ChoiceField(label=_("Scénario"))
    planned_for = forms.DateTimeField(label=_("Date et heure prévues"))
    title = forms.CharField(
        label=_("Intitulé"),
        required=False,
        max_length=200,
        help_text=_("Vide : le titre du scénario et la date prévue."),
    )
    location = forms.CharField(label=_("Lieu"), required=False, max_length=200)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = scope.restrict(
            Organisation.objects.all(), user, "change"
        ).order_by("path")
        preselect_single(self)
        self.fields["scenario"].choices = [
            (s.id, f"{s.title} (v{s.version}, {s.level_label}, {s.duration_minutes} min)")
            for s in scenarios.shipped()
        ]


class ParticipantForm(ModelForm):
    class Meta:
        model = Participant
        fields = ["kind", "role", "name", "function"]

    def __init__(self, *args, roles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"] = forms.ChoiceField(
            label=_("Rôle dans la cellule"),
            required=False,
            choices=[("", _("— aucun (animateur, observateur) —"))]
            + [(r["title"], r["title"]) for r in roles],
        )


class InjectForm(ModelForm):
    class Meta:
        model = Inject
        fields = [
            "code",
            "offset_minutes",
            "channel",
            "sender",
            "recipients",
            "content",
            "expected",
        ]
        widgets = {
            "content": forms.Textarea(attrs={"rows": 3}),
            "expected": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"] = forms.ChoiceField(
            label=_("Canal"), choices=list(scenarios.CHANNELS.items())
        )
        self.fields["expected"].help_text = _("Une réaction attendue par ligne.")


class LogForm(Form):
    kind = forms.ChoiceField(
        label=_("Nature"),
        choices=[
            (k.value, k.label) for k in (EntryKind.DECISION, EntryKind.EVENT, EntryKind.OBSERVATION)
        ],
    )
    text = forms.CharField(
        label=_("Texte"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )


class GridForm(Form):
    """One rating (scale or « non observé ») and one comment per criterion."""

    def __init__(self, *args, scenario: dict, current: dict, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("non observé"))] + [
            (str(s["value"]), f"{s['value']} — {s['label']}") for s in scenario["scale"]
        ]
        for c in scenario["criteria"]:
            value, comment = current.get(c["id"], (None, ""))
            self.fields[f"v_{c['id']}"] = forms.ChoiceField(
                label=f"{c['id']} — {c['text']}",
                choices=choices,
                required=False,
                initial="" if value is None else str(value),
            )
            self.fields[f"c_{c['id']}"] = forms.CharField(
                label=_("Commentaire (%(id)s)") % {"id": c["id"]},
                required=False,
                max_length=2000,
                initial=comment,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
        self.criteria = [c["id"] for c in scenario["criteria"]]

    def ratings(self) -> dict[str, tuple[int | None, str]]:
        data = self.cleaned_data
        return {
            c: (int(data[f"v_{c}"]) if data.get(f"v_{c}") else None, data.get(f"c_{c}", ""))
            for c in self.criteria
        }


class SummaryForm(Form):
    summary = forms.CharField(
        label=_("Synthèse du RETEX"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Ce qui a fonctionné, ce qui a manqué, les enseignements."),
    )


class FindingForm(ModelForm):
    class Meta:
        model = Finding
        fields = ["kind", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 2})}


class ActionForm(ModelForm):
    due_on = DateField(label=_("Échéance"))

    class Meta:
        model = RetexAction
        fields = ["description", "owner", "due_on"]


class LinkForm(Form):
    pca_exercise = forms.ChoiceField(
        label=_("Exercice de PCA enregistré dans Continuité"), required=False
    )

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pca_exercise"].choices = [("", _("— aucun —"))] + [
            (str(e.pk), f"{e} — {e.perimeter} ({e.campaign})") for e in candidates
        ]


class RecordForm(Form):
    campaign = forms.ChoiceField(label=_("Campagne BIA"))

    def __init__(self, *args, campaigns=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].choices = [(str(c.pk), str(c)) for c in campaigns]
