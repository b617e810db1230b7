"""Forms of the continuity pages."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from careops.continuity.models import (
    Activity,
    Campaign,
    CrisisRole,
    Dependency,
    Exercise,
    Need,
    Procedure,
    Resource,
    RetexAction,
    Scenario,
)
from careops.core import forms as base
from careops.tenancy.models import Organisation


class CampaignCreateForm(base.Form):
    organisation = forms.ModelChoiceField(queryset=Organisation.objects.none(), label=_("Entité"))
    title = forms.CharField(label=_("Titre"), max_length=200)

    def __init__(self, *args, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        if organisations is not None:
            self.fields["organisation"].queryset = organisations


class WorkbookForm(base.Form):
    workbook = forms.FileField(
        label=_("Classeur BIA (.xlsx)"),
        help_text=_(
            "Le classeur remplace les activités, cotations, ressources, dépendances et besoins."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )

    def clean_workbook(self):
        upload = self.cleaned_data["workbook"]
        if upload.size > settings.UPLOAD_MAX_BYTES:
            raise forms.ValidationError(_("Le classeur dépasse la taille maximale autorisée."))
        return upload


class CampaignPcraForm(base.ModelForm):
    class Meta:
        model = Campaign
        fields = [
            "title",
            "next_review_on",
            "governance",
            "governance_body",
            "governance_approved_on",
            "activation_criteria",
            "white_plan_link",
            "communication_plan",
            "pcri_reference",
        ]
        widgets = {}
        for name in ("governance", "activation_criteria", "white_plan_link", "communication_plan"):
            widgets[name] = forms.Textarea(attrs={"rows": 3})


class ActivityForm(base.ModelForm):
    class Meta:
        model = Activity
        fields = [
            "code",
            "name",
            "kind",
            "owner",
            "patient_impact_major",
            "rto_hours",
            "rpo_hours",
            "dmia_override_hours",
            "dmia_override_reason",
            "mbco",
        ]
        widgets = {"mbco": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, campaign=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign

    def clean(self):
        data = super().clean()
        if data.get("dmia_override_hours") is not None and not data.get("dmia_override_reason"):
            self.add_error(
                "dmia_override_reason", _("Le motif est obligatoire pour forcer la DMIA.")
            )
        code = data.get("code")
        if code and self.campaign is not None:
            clash = self.campaign.activities.filter(code=code).exclude(pk=self.instance.pk).exists()
            clash = clash or self.campaign.resources.filter(code=code).exists()
            if clash:
                self.add_error("code", _("Ce code est déjà utilisé dans la campagne."))
        return data


class ResourceForm(base.ModelForm):
    class Meta:
        model = Resource
        fields = [
            "code",
            "name",
            "kind",
            "owner",
            "trust_core",
            "restore_hours",
            "measured_rto_hours",
            "measured_rpo_hours",
            "contract",
        ]

    def __init__(self, *args, campaign=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign

    def clean_code(self):
        code = self.cleaned_data["code"]
        if self.campaign is not None and (
            self.campaign.resources.filter(code=code).exclude(pk=self.instance.pk).exists()
            or self.campaign.activities.filter(code=code).exists()
        ):
            raise forms.ValidationError(_("Ce code est déjà utilisé dans la campagne."))
        return code


class DependencyForm(base.ModelForm):
    source = forms.ChoiceField(label=_("De (activité ou ressource)"))

    class Meta:
        model = Dependency
        fields = ["source", "target", "hard", "workaround", "notes"]

    def __init__(self, *args, campaign=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.fields["target"].queryset = campaign.resources.all()
        self.fields["source"].choices = [
            (_("Activités"), [(a.code, str(a)) for a in campaign.activities.all()]),
            (_("Ressources"), [(r.code, str(r)) for r in campaign.resources.all()]),
        ]

    def clean(self):
        data = super().clean()
        source, target = data.get("source"), data.get("target")
        if source and target:
            if source == target.code:
                raise forms.ValidationError(_("Une ressource ne peut pas dépendre d'elle-même."))
            if (
                self.campaign.dependencies.filter(source=source, target=target)
                .exclude(pk=self.instance.pk)
                .exists()
            ):
                raise forms.ValidationError(_("Cette dépendance existe déjà."))
        return data


class NeedForm(base.ModelForm):
    class Meta:
        model = Need
        fields = ["activity", "kind", "item", "quantity", "per", "location", "ready"]
        labels = {"activity": _("Activité")}

    def __init__(self, *args, campaign=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["activity"].queryset = campaign.activities.all()


class ScenarioForm(base.ModelForm):
    class Meta:
        model = Scenario
        fields = ["kind", "title", "description", "strategy"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "strategy": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, campaign=None, **kwargs):
        super().__init__(*args, **kwargs)


class CrisisRoleForm(base.ModelForm):
    class Meta:
        model = CrisisRole
        fields = ["role", "holder", "deputy", "contact"]

    def __init__(self, *args, campaign=None, **kwargs):
        super().__init__(*args, **kwargs)


class ProcedureForm(base.ModelForm):
    class Meta:
        model = Procedure
        fields = ["kind", "title", "scenario", "activity", "version", "owner", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args, campaign=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scenario"].queryset = campaign.scenarios.all()
        self.fields["activity"].queryset = campaign.activities.all()


class ExerciseForm(base.ModelForm):
    class Meta:
        model = Exercise
        fields = [
            "held_on",
            "kind",
            "scenario",
            "perimeter",
            "participants",
            "duration_hours",
            "results",
            "retex",
        ]
        widgets = {
            "participants": forms.Textarea(attrs={"rows": 2}),
            "results": forms.Textarea(attrs={"rows": 3}),
            "retex": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, campaign=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scenario"].queryset = campaign.scenarios.all()


class RetexActionForm(base.ModelForm):
    class Meta:
        model = RetexAction
        fields = ["exercise", "description", "owner", "due_on", "status"]
        labels = {"exercise": _("Exercice")}

    def __init__(self, *args, campaign=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["exercise"].queryset = campaign.exercises.all()
