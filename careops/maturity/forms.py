"""Forms of the maturity self-assessment."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from careops.core.forms import DateField, Form, ModelForm, preselect_single
from careops.maturity import pools
from careops.maturity.engine import nis2
from careops.maturity.engine import pathways as pathway_engine
from careops.maturity.engine import questionnaire as engine
from careops.maturity.models import MembershipStatus, Nis2Profile, PoolKind
from careops.tenancy import scope
from careops.tenancy.choices import OrgKind
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
        preselect_single(self)
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


class Nis2ProfileForm(ModelForm):
    """What the structure's NIS 2 classification rests on."""

    class Meta:
        model = Nis2Profile
        fields = ["sector", "employees", "turnover", "balance"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sector"] = forms.ChoiceField(
            label=_("Secteur"),
            choices=[(key, spec["label"]) for key, spec in nis2.data()["sectors"].items()],
        )


class ConfirmPathwayForm(Form):
    pathway = forms.ChoiceField(label=_("Parcours retenu"))
    reason = forms.CharField(
        label=_("Motif (obligatoire si le parcours retenu n'est pas celui proposé)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, version: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pathway"].choices = [
            (p.id, p.title) for p in pathway_engine.load(version).pathways
        ]


class PoolForm(Form):
    region = forms.ModelChoiceField(label=_("Région (ARS)"), queryset=Organisation.objects.none())
    name = forms.CharField(label=_("Nom"), max_length=200)
    kind = forms.ChoiceField(label=_("Type de ressource"), choices=PoolKind.choices)
    carrier = forms.CharField(
        label=_("Porteur"),
        max_length=200,
        required=False,
        help_text=_("ex. GHT, CRRC, employeur du RSSI"),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        regions = scope.restrict(Organisation.objects.filter(kind=OrgKind.ARS), user, "instruct")
        self.fields["region"].queryset = Organisation.objects.filter(
            pk__in=[r.pk for r in regions if pools.is_regional_authority(user, r)]
        ).order_by("name")


class StaffForm(Form):
    user = forms.CharField(
        label=_("Compte du RSSI mutualisé ou d'un membre de l'équipe"),
        max_length=254,
        help_text=_("Identifiant ou adresse électronique d'un compte existant."),
    )


class InviteForm(Form):
    organisation = forms.ModelChoiceField(
        label=_("Structure médico-sociale"), queryset=Organisation.objects.none()
    )

    def __init__(self, *args, pool=None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if pool is not None:
            # a structure already invited or a member is not offered again (pools.invite refuses it)
            taken = pool.memberships.filter(
                status__in=[MembershipStatus.INVITED, MembershipStatus.ACTIVE]
            ).values("organisation")
            self.fields["organisation"].queryset = (
                scope.restrict(
                    Organisation.objects.filter(
                        kind=OrgKind.ESMS, region_code=pool.region.region_code
                    ),
                    user,
                    "instruct",
                )
                .exclude(pk__in=taken)
                .order_by("name")
            )


class ConventionForm(Form):
    file = forms.FileField(label=_("Convention signée"))
    starts_on = DateField(label=_("Début"))
    ends_on = DateField(label=_("Fin"))
