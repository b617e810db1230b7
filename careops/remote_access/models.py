"""Remote-access paths (D3), their reviews (engine runs) and vendors' attestations."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from careops.remote_access import choices

YES_NO = {"null": True, "blank": True}


class AccessPath(models.Model):
    """One remote access path of an organisation (one row of the inventory)."""

    tenant_path = "organisation"

    organisation = models.ForeignKey(
        "tenancy.Organisation", on_delete=models.CASCADE, related_name="remote_access_paths"
    )
    ref = models.CharField(_("référence"), max_length=40)
    name = models.CharField(_("nom"), max_length=200)
    population = models.CharField(
        _("population"), max_length=32, choices=choices.Population.choices
    )
    vendor = models.CharField(_("fournisseur / organisation"), max_length=200, blank=True)
    contract_ref = models.CharField(_("contrat"), max_length=200, blank=True)
    contract_security_clauses = models.BooleanField(_("clauses de sécurité au contrat"), **YES_NO)
    workstation_requirements = models.BooleanField(_("exigences sur le poste du tiers"), **YES_NO)
    justification = models.TextField(_("justification"), blank=True)
    business_owner = models.CharField(_("responsable métier"), max_length=200, blank=True)
    technical_owner = models.CharField(_("responsable technique"), max_length=200, blank=True)
    technology = models.CharField(
        _("technologie"), max_length=32, choices=choices.Technology.choices
    )
    entry_point = models.CharField(
        _("point d'entrée"), max_length=255, blank=True, help_text=_("nom ou adresse, avec le port")
    )
    internet_exposed = models.BooleanField(_("exposé sur internet"), **YES_NO)
    source_ip_restriction = models.CharField(
        _("filtrage des adresses sources"), max_length=255, blank=True
    )
    auth_factors = models.JSONField(_("facteurs d'authentification"), default=list, blank=True)
    account_model = models.CharField(
        _("modèle de comptes"), max_length=20, choices=choices.AccountModel.choices, blank=True
    )
    accounts = models.JSONField(_("comptes"), default=list, blank=True)
    directory = models.CharField(
        _("annuaire"), max_length=20, choices=choices.Directory.choices, blank=True
    )
    activation = models.CharField(
        _("activation"), max_length=20, choices=choices.Activation.choices, blank=True
    )
    max_session_hours = models.FloatField(_("durée maximale de session (h)"), null=True, blank=True)
    approval_required = models.BooleanField(_("validation préalable"), **YES_NO)
    allowed_windows = models.CharField(
        _("plages autorisées"), max_length=200, blank=True, help_text=_("ex. lun-ven 08:00-18:00")
    )
    session_recording = models.BooleanField(_("enregistrement des sessions"), **YES_NO)
    recording_retention_days = models.PositiveIntegerField(
        _("conservation des enregistrements (j)"), null=True, blank=True
    )
    logs_to_siem = models.BooleanField(_("journaux centralisés (SIEM)"), **YES_NO)
    log_retention_days = models.PositiveIntegerField(
        _("conservation des journaux (j)"), null=True, blank=True
    )
    protocol_break = models.BooleanField(_("rupture protocolaire"), **YES_NO)
    through_bastion = models.BooleanField(_("passe par un bastion"), **YES_NO)
    managed_devices_only = models.BooleanField(_("postes maîtrisés uniquement"), **YES_NO)
    admin_rights_from_remote = models.BooleanField(
        _("droits d'administration à distance"), **YES_NO
    )
    unmanaged_tools = models.BooleanField(_("outils de prise de main non maîtrisés"), **YES_NO)
    targets = models.ManyToManyField(
        "continuity.Resource",
        blank=True,
        related_name="remote_access_paths",
        verbose_name=_("ressources cibles (BIA)"),
    )
    target_networks = models.JSONField(_("réseaux cibles"), default=list, blank=True)
    last_access_review = models.DateField(_("dernière revue des accès"), null=True, blank=True)
    vpn_connection = models.CharField(_("connexion VPN"), max_length=200, blank=True)
    status = models.CharField(
        _("statut"),
        max_length=20,
        choices=choices.PathStatus.choices,
        default=choices.PathStatus.ACTIVE,
    )
    vendor_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="remote_access_paths",
        verbose_name=_("comptes fournisseur invités"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organisation", "ref"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "ref"], name="unique_access_path_ref")
        ]
        verbose_name = _("accès distant")
        verbose_name_plural = _("accès distants")

    def __str__(self) -> str:
        return f"{self.ref} — {self.name}"


class Review(models.Model):
    """One evaluation of an organisation's paths (the engine's report, kept for the trend)."""

    tenant_path = "organisation"

    organisation = models.ForeignKey(
        "tenancy.Organisation", on_delete=models.CASCADE, related_name="remote_access_reviews"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    band = models.CharField(max_length=20, blank=True)
    paths_count = models.PositiveIntegerField(default=0)
    blocking_count = models.PositiveIntegerField(default=0)
    undeclared_count = models.PositiveIntegerField(default=0)
    sources = models.JSONField(default=dict, blank=True)  # what fed the checks (no file content)
    result = models.JSONField(default=dict, blank=True)
    evidence = models.ForeignKey(
        "compliance.Evidence", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("revue des accès distants")
        verbose_name_plural = _("revues des accès distants")

    def __str__(self) -> str:
        return f"{self.organisation} — {self.created_at:%d/%m/%Y %H:%M}"


class Attestation(models.Model):
    """A vendor's attestation for one path, accepted or rejected by the RSSI."""

    tenant_path = "path__organisation"

    path = models.ForeignKey(AccessPath, on_delete=models.CASCADE, related_name="attestations")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(auto_now_add=True)
    contract_security_clauses = models.BooleanField(
        _("le contrat comporte les clauses de sécurité")
    )
    workstation_requirements = models.BooleanField(_("nos postes respectent les exigences"))
    technicians = models.TextField(_("techniciens nommés"), help_text=_("un nom par ligne"))
    comment = models.TextField(_("commentaire"), blank=True)
    status = models.CharField(
        _("décision"),
        max_length=20,
        choices=choices.AttestationStatus.choices,
        default=choices.AttestationStatus.PENDING,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(_("motif de la décision"), blank=True)
    evidence = models.ForeignKey(
        "compliance.Evidence", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        verbose_name = _("attestation fournisseur")
        verbose_name_plural = _("attestations fournisseur")

    def __str__(self) -> str:
        return f"{self.path} — {self.submitted_at:%d/%m/%Y}"
