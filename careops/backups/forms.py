"""Forms of the backups app; every choice of organisation or object is restricted to the user."""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from careops.backups import choices
from careops.backups.models import (
    BackupCopy,
    BackupSystem,
    Milestone,
    ProtectedSystem,
    Repository,
    Trajectory,
)
from careops.core import forms as base
from careops.tenancy import scope
from careops.tenancy.models import Organisation


class _ScopedForm(base.ModelForm):
    """Limits the organisation (and related objects) to what the user may change."""

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if "organisation" in self.fields:
            self.fields["organisation"].queryset = scope.restrict(
                Organisation.objects.all(), user, "change"
            ).order_by("path")
        for name, field in self.fields.items():
            if name in ("system", "repository"):
                field.queryset = scope.restrict(field.queryset, user, "change")


class BackupSystemForm(_ScopedForm):
    class Meta:
        model = BackupSystem
        fields = [
            "organisation",
            "name",
            "product",
            "version",
            "protects",
            "auth_mode",
            "operator_roles",
            "twofa_status",
            "twofa_proof",
            "twofa_justification",
            "isolation_capable",
            "isolation_procedure",
            "isolation_tested_on",
        ]
        widgets = {
            "protects": forms.Textarea(attrs={"rows": 2}),
            "operator_roles": forms.Textarea(attrs={"rows": 3}),
            "twofa_proof": forms.Textarea(attrs={"rows": 2}),
            "twofa_justification": forms.Textarea(attrs={"rows": 2}),
            "isolation_procedure": forms.Textarea(attrs={"rows": 3}),
            "twofa_status": forms.RadioSelect,
        }

    def clean(self):
        data = super().clean()
        status = data.get("twofa_status")
        if status == choices.TwoFactor.IMPLEMENTED and not data.get("twofa_proof"):
            self.add_error("twofa_proof", _("Décrire la preuve de mise en œuvre de la 2FA."))
        if status == choices.TwoFactor.SUPPORTED_DISABLED and not data.get("twofa_justification"):
            self.add_error("twofa_justification", _("Justifier que la 2FA ne soit pas activée."))
        if status == choices.TwoFactor.NOT_SUPPORTED and not data.get("version"):
            self.add_error("version", _("Indiquer la version du produit qui ne permet pas la 2FA."))
        return data


class BackupCopyForm(_ScopedForm):
    class Meta:
        model = BackupCopy
        fields = ["label", "media", "location", "offsite", "offline", "immutable", "is_production"]


class TrajectoryForm(_ScopedForm):
    class Meta:
        model = Trajectory
        fields = ["organisation", "kind", "title", "target_date", "target_reached", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class MilestoneForm(_ScopedForm):
    class Meta:
        model = Milestone
        fields = ["label", "due_date", "done_on"]


class RepositoryForm(_ScopedForm):
    """A repository: where it is, its password and the S3 probe's keys, entered like the
    password and stored encrypted. Changing where a secret is sent (the location, the S3
    endpoint) clears that secret: it must be entered again in the same form."""

    password = forms.CharField(
        label=_("Mot de passe du dépôt"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_(
            "Stocké chiffré ; laisser vide pour conserver l'actuel (à saisir de nouveau si "
            "l'emplacement change)."
        ),
    )
    s3_bucket = forms.CharField(label=_("Seau S3 à sonder (Object Lock)"), required=False)
    s3_endpoint = forms.URLField(
        label=_("Point d'accès S3"),
        required=False,
        assume_scheme="https",
        help_text=_("https://hôte[:port] du service S3."),
    )
    s3_min_retention_days = forms.IntegerField(
        label=_("Rétention minimale exigée (jours)"), required=False, min_value=0
    )
    s3_access_key = forms.CharField(
        label=_("Clé d'accès S3"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Stockée chiffrée ; laisser vide pour conserver l'actuelle."),
    )
    s3_secret_key = forms.CharField(
        label=_("Clé secrète S3"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Stockée chiffrée ; laisser vide pour conserver l'actuelle."),
    )

    class Meta:
        model = Repository
        fields = [
            "organisation",
            "system",
            "name",
            "driver",
            "location",
            "data_cycle",
            "append_only_expected",
        ]
        labels = {"system": _("Système de sauvegarde")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # a repository makes the server run restic/borg against a location: RSSI only
        self.fields["organisation"].queryset = scope.restrict(
            Organisation.objects.all(), self.user, "manage"
        ).order_by("path")
        lock = self.instance.s3_lock or {}
        for key in ("bucket", "endpoint", "min_retention_days"):
            self.fields[f"s3_{key}"].initial = lock.get(key)
        self.old_location = self.instance.location if self.instance.pk else None
        self.old_endpoint = lock.get("endpoint") or ""
        if not self.instance.pk:
            self.fields["password"].required = True
            self.fields["password"].help_text = _("Stocké chiffré, jamais affiché.")

    def clean_location(self):
        from careops.backups.engine.config import destinations, is_local_location
        from careops.backups.engine.errors import ConfigError

        value = self.cleaned_data["location"].strip()
        driver = self.data.get(self.add_prefix("driver")) or self.instance.driver or "restic"
        if is_local_location(driver, value):
            path = value.removeprefix("local:").removeprefix("file://")
            if not path.startswith("/"):
                raise forms.ValidationError(
                    _("Emplacement local : un chemin absolu est attendu (/srv/…).")
                )
        else:
            try:
                destinations(driver, value)
            except ConfigError as exc:  # a backend careops refuses (rclone)
                raise forms.ValidationError(str(exc)) from exc
        return value

    @property
    def location_changed(self) -> bool:
        return self.old_location is not None and self.cleaned_data.get("location") != (
            self.old_location
        )

    @property
    def endpoint_changed(self) -> bool:
        return bool(self.instance.pk) and (self.cleaned_data.get("s3_endpoint") or "") != (
            self.old_endpoint
        )

    def clean(self):
        data = super().clean()
        data["s3_lock"] = {
            key: data.get(f"s3_{key}")
            for key in ("bucket", "endpoint", "min_retention_days")
            if data.get(f"s3_{key}") not in (None, "")
        }
        if self.instance.pk and "location" in data and self.location_changed:
            if not data.get("password"):
                self.add_error(
                    "password",
                    _(
                        "L'emplacement change : saisissez de nouveau le mot de passe du dépôt "
                        "(il n'est jamais envoyé à un autre emplacement sans être ressaisi)."
                    ),
                )
        if self.instance.pk and self.endpoint_changed and self.instance.s3_access_key_encrypted:
            if not (data.get("s3_access_key") and data.get("s3_secret_key")):
                self.add_error(
                    "s3_secret_key",
                    _(
                        "Le point d'accès S3 change : saisissez de nouveau la clé d'accès et la "
                        "clé secrète."
                    ),
                )
        if bool(data.get("s3_access_key")) != bool(data.get("s3_secret_key")):
            self.add_error("s3_secret_key", _("Saisir la clé d'accès et la clé secrète ensemble."))
        if data["s3_lock"].get("bucket") and not data["s3_lock"].get("endpoint"):
            self.add_error("s3_endpoint", _("Le point d'accès S3 est obligatoire pour la sonde."))
        return data


class ResourceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        campaign = obj.campaign
        return _("%(code)s — %(name)s (BIA « %(title)s » v%(version)s, %(status)s, %(org)s)") % {
            "code": obj.code,
            "name": obj.name,
            "title": campaign.title,
            "version": campaign.version,
            "status": campaign.get_status_display(),
            "org": campaign.organisation.name,
        }


class ProtectedSystemForm(_ScopedForm):
    class Meta:
        model = ProtectedSystem
        fields = [
            "organisation",
            "name",
            "resource",
            "rpo_hours",
            "rto_hours",
            "override_reason",
            "repository",
            "match_host",
            "match_tags",
            "match_path",
            "archive_glob",
            "job_name",
            "manifest",
        ]
        widgets = {"manifest": forms.Textarea(attrs={"rows": 4})}
        field_classes = {"resource": ResourceChoiceField}
        labels = {"repository": _("Dépôt de sauvegarde")}

    def __init__(self, *args, **kwargs):
        from careops.backups.objectives import objectives_of
        from careops.continuity.models import CampaignStatus, Resource

        super().__init__(*args, **kwargs)
        # resources of the BIAs the user may see, current versions only (plus the linked one)
        current = Q(campaign__status__in=[CampaignStatus.VALIDATED, CampaignStatus.DRAFT])
        if self.instance.resource_id:
            current |= Q(pk=self.instance.resource_id)
        self.fields["resource"].queryset = (
            scope.restrict(Resource.objects.filter(current), self.user)
            .select_related("campaign__organisation")
            .order_by("campaign__organisation__path", "-campaign__version", "code")
        )
        if self.instance.pk and self.instance.resource_id:
            self.fields["resource"].help_text = objectives_of(self.instance).label

    def clean(self):
        data = super().clean()
        repo, org = data.get("repository"), data.get("organisation")
        if repo and org and repo.organisation_id != org.pk:
            self.add_error("repository", _("Le dépôt doit appartenir à la même organisation."))
        if not repo and not data.get("job_name"):
            self.add_error("job_name", _("Indiquer un dépôt ou un nom de tâche des rapports."))
        return data


class RestoreForm(base.Form):
    protected_system = forms.ModelChoiceField(
        label=_("Système à restaurer"), queryset=ProtectedSystem.objects.none()
    )
    business_referent = forms.CharField(
        label=_("Référent métier (non nominatif)"),
        max_length=200,
        help_text=_("Fonction du référent qui valide le test fonctionnel, ex. « cadre de santé »."),
    )

    def __init__(self, *args, repository=None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["protected_system"].queryset = scope.restrict(
            ProtectedSystem.objects.filter(repository=repository), user, "change"
        )


class AcknowledgeForm(base.Form):
    comment = forms.CharField(
        label=_("Commentaire"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class JobImportForm(base.Form):
    organisation = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Organisation.objects.none()
    )
    file = forms.FileField(label=_("Rapport de tâches (JSON ou CSV)"))
    format = forms.ChoiceField(
        label=_("Format"),
        choices=[("auto", _("Détection automatique")), ("json", "JSON"), ("csv", "CSV")],
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = scope.restrict(
            Organisation.objects.all(), user, "change"
        ).order_by("path")


class OrganisationForm(base.Form):
    organisation = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Organisation.objects.none()
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = scope.restrict(
            Organisation.objects.all(), user, "change"
        ).order_by("path")
