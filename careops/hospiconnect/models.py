"""HospiConnect: indicator imports, remembered column mappings, the imported RPPS directory,
identification means (MIE) and yearly account reviews."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    DPI = "dpi", _("export des utilisateurs du DPI")
    MFA = "mfa", _("export de l'IdP ou de l'annuaire (2FA)")
    DMP = "dmp", _("activité DMP mensuelle")
    AD = "ad", _("collecte Active Directory (cartes à puce)")


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("en attente")
    RUNNING = "running", _("en cours")
    DONE = "done", _("terminé")
    FAILED = "failed", _("en échec")


class ColumnMapping(models.Model):
    """The columns of one kind of export, as an establishment's software names them, remembered
    from one import to the next."""

    tenant_path = "organisation"

    organisation = models.ForeignKey(
        "tenancy.Organisation", on_delete=models.CASCADE, related_name="hospiconnect_mappings"
    )
    source = models.CharField(_("export"), max_length=10, choices=Source.choices)
    mapping = models.JSONField(_("correspondance des colonnes"), default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "source"], name="hc_mapping_unique")
        ]

    def __str__(self) -> str:
        return f"{self.organisation} — {self.get_source_display()}"


class IndicatorImport(models.Model):
    """One measurement: the exports given, the indicators computed by the engine, the evidence
    filed. The exports themselves (personal data) are deleted once read."""

    tenant_path = "organisation"

    organisation = models.ForeignKey(
        "tenancy.Organisation", on_delete=models.CASCADE, related_name="hospiconnect_imports"
    )
    as_of = models.DateField(_("date de la mesure"))
    status = models.CharField(
        _("état"), max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(default=0)
    progress_label = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    files = models.JSONField(default=dict, blank=True)  # source → {"name", "path"} until read
    result = models.JSONField(default=dict, blank=True)
    evidence_ids = models.JSONField(default=list, blank=True)
    create_review = models.BooleanField(
        _("créer la revue annuelle des comptes à partir de cet export"), default=False
    )
    review_automatic = models.BooleanField(
        _("l'export est alimenté automatiquement depuis les RH"), default=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-as_of", "-created_at"]
        verbose_name = _("mesure HospiConnect")

    def __str__(self) -> str:
        return f"{self.organisation} — {self.as_of:%d/%m/%Y}"


class RppsDirectoryImport(models.Model):
    """One import of the Annuaire Santé extraction into the platform's RPPS directory."""

    file_name = models.CharField(max_length=300)
    lines = models.PositiveIntegerField(default=0)
    people = models.PositiveIntegerField(default=0)
    imported_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.file_name} ({self.people})"


class RppsEntry(models.Model):
    """What careops keeps of the national directory: an RPPS number and its profession."""

    rpps = models.CharField(max_length=11, primary_key=True)
    profession_code = models.CharField(max_length=10)
    profession_label = models.CharField(max_length=120)

    def __str__(self) -> str:
        return f"{self.rpps} {self.profession_label}"


class MeansKind(models.TextChoices):
    CPS = "cps", _("carte CPS")
    E_CPS = "e_cps", _("e-CPS")
    FIDO2 = "fido2", _("clé FIDO2")
    SMART_CARD = "smart_card", _("carte à puce d'établissement")
    OTP_APP = "otp_app", _("application OTP")


class IdentificationMeans(models.Model):
    """A means of electronic identification (MIE) held by a professional."""

    tenant_path = "organisation"

    organisation = models.ForeignKey(
        "tenancy.Organisation", on_delete=models.CASCADE, related_name="identification_means"
    )
    kind = models.CharField(_("type"), max_length=20, choices=MeansKind.choices)
    holder_account = models.CharField(_("compte du titulaire"), max_length=150)
    holder_name = models.CharField(_("nom du titulaire"), max_length=200, blank=True)
    serial = models.CharField(_("numéro de série"), max_length=100, blank=True)
    issued_on = models.DateField(_("remis le"), null=True, blank=True)
    revoked_on = models.DateField(_("révoqué le"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["holder_account", "kind"]
        verbose_name = _("moyen d'identification électronique")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.holder_account}"


class ReviewStatus(models.TextChoices):
    OPEN = "open", _("en cours")
    DONE = "done", _("terminée")


class AccountReview(models.Model):
    """The yearly review of DPI accounts and rights: each account confirmed or revoked by a
    named manager; once complete it becomes the access-review evidence."""

    tenant_path = "organisation"

    organisation = models.ForeignKey(
        "tenancy.Organisation", on_delete=models.CASCADE, related_name="account_reviews"
    )
    year = models.PositiveSmallIntegerField(_("année"))
    source = models.ForeignKey(
        IndicatorImport, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews"
    )
    automatic = models.BooleanField(_("alimentée automatiquement depuis les RH"), default=False)
    status = models.CharField(
        _("état"), max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.OPEN
    )
    evidence_id = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-year", "-created_at"]
        verbose_name = _("revue des comptes")

    def __str__(self) -> str:
        return f"{self.organisation} — {self.year}"


class Decision(models.TextChoices):
    PENDING = "", _("à revoir")
    CONFIRMED = "confirmed", _("confirmé")
    REVOKED = "revoked", _("révoqué")


class ReviewLine(models.Model):
    tenant_path = "review__organisation"

    review = models.ForeignKey(AccountReview, on_delete=models.CASCADE, related_name="lines")
    account = models.CharField(max_length=150)
    name = models.CharField(max_length=200, blank=True)
    profession = models.CharField(max_length=120, blank=True)
    active = models.BooleanField(default=True)
    decision = models.CharField(max_length=10, choices=Decision.choices, blank=True, default="")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["account"]

    def __str__(self) -> str:
        return self.account
