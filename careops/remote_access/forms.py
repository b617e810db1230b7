"""Forms of the remote-access workspace (organisation and BIA choices limited to the user's scope)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from careops.core import forms as base
from careops.remote_access import choices
from careops.remote_access.models import AccessPath
from careops.tenancy import scope
from careops.tenancy.models import Organisation

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class YesNoSelect(forms.NullBooleanSelect):
    """Oui / Non / Non renseigné, with the instance's value selected again when the form is
    shown for editing (a plain Select would render True as "True" and lose it)."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = [("unknown", _("Non renseigné")), ("true", _("Oui")), ("false", _("Non"))]


def _organisations(user):
    return scope.restrict(Organisation.objects.all(), user, "change").order_by("path")


class _ListField(forms.CharField):
    """A list typed as text: one value per line or separated by commas."""

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        import re

        return [v.strip() for v in re.split(r"[,;\n]", value or "") if v.strip()]


class ResourceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.code} — {obj.name} (BIA « {obj.campaign.title} » v{obj.campaign.version})"


class AccessPathForm(base.ModelForm):
    auth_factors = forms.MultipleChoiceField(
        label=_("Facteurs d'authentification"),
        choices=choices.AuthFactor.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    accounts = _ListField(
        label=_("Comptes"), required=False, help_text=_("séparés par des virgules")
    )
    target_networks = _ListField(
        label=_("Réseaux cibles"),
        required=False,
        help_text=_("ex. 10.20.0.0/24, séparés par des virgules"),
    )

    class Meta:
        model = AccessPath
        fields = [
            "organisation",
            "ref",
            "name",
            "population",
            "vendor",
            "contract_ref",
            "contract_security_clauses",
            "workstation_requirements",
            "justification",
            "business_owner",
            "technical_owner",
            "technology",
            "entry_point",
            "internet_exposed",
            "source_ip_restriction",
            "auth_factors",
            "account_model",
            "accounts",
            "directory",
            "activation",
            "max_session_hours",
            "approval_required",
            "allowed_windows",
            "session_recording",
            "recording_retention_days",
            "logs_to_siem",
            "log_retention_days",
            "protocol_break",
            "through_bastion",
            "managed_devices_only",
            "admin_rights_from_remote",
            "unmanaged_tools",
            "targets",
            "target_networks",
            "last_access_review",
            "vpn_connection",
            "status",
            "vendor_users",
        ]
        widgets = {
            "justification": forms.Textarea(attrs={"rows": 2}),
            "last_access_review": DATE,
            "targets": forms.CheckboxSelectMultiple,
            "vendor_users": forms.CheckboxSelectMultiple,
        }
        field_classes = {"targets": ResourceField}

    def __init__(self, *args, user=None, **kwargs):
        from django.contrib.auth import get_user_model

        from careops.continuity.models import Resource
        from careops.tenancy.models import RoleAssignment

        super().__init__(*args, **kwargs)
        organisations = _organisations(user)
        self.fields["organisation"].queryset = organisations
        self.fields["targets"].queryset = (
            scope.restrict(Resource.objects.all(), user)
            .select_related("campaign")
            .order_by("code", "campaign__version")
        )
        vendors = scope.restrict(RoleAssignment.objects.filter(role="vendor"), user).values(
            "user_id"
        )
        self.fields["vendor_users"].queryset = get_user_model().objects.filter(pk__in=vendors)
        self.fields["vendor_users"].help_text = _(
            "comptes ayant le rôle « Fournisseur » : ils voient et attestent ce seul accès"
        )
        for field in self.fields.values():
            if isinstance(field, forms.NullBooleanField):
                field.widget = YesNoSelect()

    def clean(self):
        data = super().clean()
        organisation = data.get("organisation")
        for resource in data.get("targets") or []:
            if organisation and not resource.campaign.organisation.path.startswith(
                organisation.path
            ):
                self.add_error(
                    "targets",
                    _("« %(code)s » n'appartient pas à un BIA de cette organisation.")
                    % {"code": resource.code},
                )
        import ipaddress

        for network in data.get("target_networks") or []:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                self.add_error(
                    "target_networks",
                    _("« %(net)s » n'est pas un réseau (ex. 10.0.0.0/24).") % {"net": network},
                )
        return data


def _check_size(upload):
    if upload is not None and upload.size > settings.UPLOAD_MAX_BYTES:
        raise forms.ValidationError(_("Le fichier dépasse la taille maximale autorisée."))
    return upload


class ImportForm(base.Form):
    organisation = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Organisation.objects.none()
    )
    workbook = forms.FileField(
        label=_("Inventaire (.xlsx)"),
        help_text=_("Mêmes colonnes que l'export ; les accès sont rapprochés par leur référence."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = _organisations(user)

    def clean_workbook(self):
        return _check_size(self.cleaned_data["workbook"])


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [_check_size(super(MultipleFileField, self).clean(d, initial)) for d in data]
        return [_check_size(super().clean(data, initial))] if data else []


class ReviewForm(base.Form):
    organisation = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Organisation.objects.none()
    )
    use_latest_exposure = forms.BooleanField(
        label=_("Utiliser le dernier audit d'exposition de l'organisation"),
        required=False,
        initial=True,
    )
    exposure = forms.FileField(
        label=_("Résultat d'exposition (JSON de « careops exposure scan --json »)"), required=False
    )
    ad_dump = forms.FileField(
        label=_("Collecte AD (« careops ad collect », .json.gz)"), required=False
    )
    vpn_configs = MultipleFileField(
        label=_("Configurations VPN (swanctl.conf, ipsec.conf, OpenVPN, WireGuard)"),
        help_text=_("Lues puis oubliées : seules les conclusions sont conservées."),
    )
    bastion_logs = MultipleFileField(
        label=_("Journaux de bastion (historique Guacamole CSV, The Bastion syslog ou JSON)")
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = _organisations(user)

    def clean_exposure(self):
        return _check_size(self.cleaned_data.get("exposure"))

    def clean_ad_dump(self):
        return _check_size(self.cleaned_data.get("ad_dump"))


class BulkForm(base.Form):
    field = forms.ChoiceField(
        label=_("Champ"),
        choices=[
            ("activation", _("Activation")),
            ("directory", _("Annuaire")),
            ("account_model", _("Modèle de comptes")),
            ("status", _("Statut")),
            ("session_recording", _("Enregistrement des sessions (true/false)")),
            ("logs_to_siem", _("Journaux centralisés (true/false)")),
            ("through_bastion", _("Passe par un bastion (true/false)")),
            ("last_access_review", _("Dernière revue des accès (AAAA-MM-JJ)")),
        ],
    )
    value = forms.CharField(label=_("Nouvelle valeur"), max_length=40)


class AttestationForm(base.Form):
    contract_security_clauses = forms.BooleanField(
        label=_("Notre contrat comporte les clauses de sécurité demandées"), required=False
    )
    workstation_requirements = forms.BooleanField(
        label=_("Nos postes de télémaintenance respectent les exigences de l'établissement"),
        required=False,
    )
    technicians = forms.CharField(
        label=_("Techniciens nommés"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("un nom par ligne"),
    )
    comment = forms.CharField(
        label=_("Commentaire"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class DecisionForm(base.Form):
    decision = forms.ChoiceField(
        label=_("Décision"),
        choices=[("accept", _("Accepter")), ("reject", _("Refuser"))],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Motif"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000
    )
