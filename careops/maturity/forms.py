"""Forms of the maturity self-assessment."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from careops.core.forms import Form
from careops.maturity.engine import questionnaire as engine
from careops.tenancy import scope
from careops.tenancy.models import Organisation


class OpenCampaignForm(Form):
    organisation = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Organisation.objects.none()
    )
    questionnaire = forms.ChoiceField(label=_("Questionnaire"))
    title = forms.CharField(
        label=_("Intitulé"),
        required=False,
        max_length=200,
        help_text=_("Vide : le titre du questionnaire et la date du jour."),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = scope.restrict(
            Organisation.objects.all(), user, "change"
        ).order_by("path")
        self.fields["questionnaire"].choices = [
            (q.id, f"{q.title} (v{q.version})") for q in engine.shipped()
        ]


class AnswersForm(Form):
    """One radio group per question of the questionnaire, context questions first."""

    def __init__(
        self, *args, questionnaire: engine.Questionnaire, answers: dict[str, str], **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.questionnaire = questionnaire
        for question in questionnaire.questions:
            choices = [(o.value, o.label) for o in questionnaire.scales[question.scale]]
            self.fields[question.id] = forms.ChoiceField(
                label=f"{question.id} — {question.text}",
                choices=choices,
                required=False,
                widget=forms.RadioSelect,
                initial=answers.get(question.id),
                help_text=question.reference or question.help,
            )

    def answers(self) -> dict[str, str]:
        return {name: value for name, value in self.cleaned_data.items() if value}
