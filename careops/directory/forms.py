"""Forms of the directory app (labels and help in French)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from careops.core import forms as base
from careops.directory.models import AuditSource, Domain
from careops.tenancy import scope
from careops.tenancy.models import Organisation


class DomainForm(base.ModelForm):
    password = forms.CharField(
        label=_("mot de passe du compte de lecture"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Stocké chiffré ; laissez vide pour garder le mot de passe enregistré."),
    )

    class Meta:
        model = Domain
        fields = [
            "organisation",
            "name",
            "server_url",
            "base_dn",
            "bind_user",
            "authentication",
            "ca_certificate",
            "tls_name",
            "dedicated_backup",
            "target_forest",
            "convergence_status",
            "convergence_due",
        ]
        widgets = {
            "ca_certificate": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = scope.restrict(
            Organisation.objects.all(), user, "change"
        )

    def clean_server_url(self):
        value = self.cleaned_data["server_url"].strip()
        if value and not value.lower().startswith(("ldaps://", "ldap://")):
            raise forms.ValidationError(_("Adresse attendue : ldaps://hôte[:port] ou ldap://hôte."))
        return value


IMPORT_MAX_BYTES = 512 * 1024 * 1024


class ImportForm(base.Form):
    source = forms.ChoiceField(
        label=_("format"), choices=[c for c in AuditSource.choices if c[0] != AuditSource.LDAP]
    )
    file = forms.FileField(
        label=_("fichier"),
        help_text=_(
            "Collecte careops (.json.gz), ORADAD (ZIP du dossier TSV en clair) ou "
            "rapport PingCastle (ad_hc_….xml)."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise forms.ValidationError(_("Fichier trop volumineux (512 Mio au plus)."))
        return upload


class WaiverForm(base.Form):
    point = forms.CharField(
        label=_("point de contrôle"),
        max_length=100,
        help_text=_("Identifiant, par exemple vuln_guest-l2."),
    )
    justification = forms.CharField(
        label=_("justification"), widget=forms.Textarea(attrs={"rows": 3})
    )
    expires_on = base.DateField(
        label=_("échéance"),
    )


class MilestoneForm(base.Form):
    """A milestone of a GHT's convergence trajectory; domains offered: those under the GHT."""

    title = forms.CharField(label=_("intitulé du jalon"), max_length=200)
    due_date = base.DateField(
        label=_("échéance"),
    )
    domains = forms.ModelMultipleChoiceField(
        label=_("domaines concernés"),
        queryset=Domain.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(
        label=_("commentaire"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, user=None, ght=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["domains"].queryset = (
            scope.restrict(Domain.objects.all(), user)
            .filter(organisation__in=ght.subtree())
            .select_related("organisation")
            .order_by("organisation__name", "name")
        )
        self.fields["domains"].label_from_instance = lambda d: f"{d.name} ({d.organisation.name})"
