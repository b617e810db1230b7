"""Active Directory domains of an organisation, their audits, waivers and convergence data."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ConvergenceStatus(models.TextChoices):
    SEPARATE = "separate", _("distinct, convergence non planifiée")
    PLANNED = "planned", _("convergence planifiée")
    IN_PROGRESS = "in_progress", _("convergence en cours")
    CONVERGED = "converged", _("convergé dans la forêt cible")


class AuditStatus(models.TextChoices):
    QUEUED = "queued", _("en attente")
    RUNNING = "running", _("en cours")
    DONE = "done", _("terminé")
    FAILED = "failed", _("échec")


ACTIVE_AUDIT_STATUSES = (AuditStatus.QUEUED, AuditStatus.RUNNING)


class AuditSource(models.TextChoices):
    LDAP = "ldap", _("collecte LDAP par careops")
    DUMP = "dump", _("import d'une collecte careops")
    ORADAD = "oradad", _("import ORADAD (TSV)")
    PINGCASTLE = "pingcastle", _("import PingCastle (XML)")


class Domain(models.Model):
    """An Active Directory domain of an organisation, with its read-only collection account."""

    tenant_path = "organisation"

    organisation = models.ForeignKey(
        "tenancy.Organisation", on_delete=models.CASCADE, related_name="ad_domains"
    )
    name = models.CharField(_("nom DNS du domaine"), max_length=255)
    server_url = models.CharField(
        _("serveur"),
        max_length=255,
        blank=True,
        help_text=_("ldaps://hôte[:port] ou ldap://hôte (StartTLS)"),
    )
    base_dn = models.CharField(_("DN du domaine"), max_length=255, blank=True)
    bind_user = models.CharField(_("compte de lecture"), max_length=255, blank=True)
    bind_password_encrypted = models.TextField(blank=True, editable=False)
    authentication = models.CharField(
        _("authentification"),
        max_length=10,
        choices=[
            ("simple", _("liaison simple (compte@domaine)")),
            ("ntlm", _("NTLM (DOMAINE\\compte)")),
        ],
        default="simple",
        help_text=_("Toujours à l'intérieur de TLS (LDAPS ou StartTLS)."),
    )
    ca_certificate = models.TextField(
        _("autorité de certification (PEM)"),
        blank=True,
        help_text=_("Certificat de l'autorité qui a signé le certificat du contrôleur."),
    )
    tls_name = models.CharField(
        _("nom attendu dans le certificat"),
        max_length=255,
        blank=True,
        help_text=_("À renseigner si le serveur est désigné par son adresse IP."),
    )
    dedicated_backup = models.BooleanField(
        _("AD dédié à l'infrastructure de sauvegarde"),
        default=False,
        help_text=_("Ses audits servent de preuve au D2.O3.A."),
    )
    target_forest = models.CharField(_("forêt cible de convergence"), max_length=255, blank=True)
    convergence_status = models.CharField(
        _("convergence"),
        max_length=20,
        choices=ConvergenceStatus.choices,
        default=ConvergenceStatus.SEPARATE,
    )
    convergence_due = models.DateField(_("échéance de convergence"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation__name", "name"]
        verbose_name = _("domaine Active Directory")
        verbose_name_plural = _("domaines Active Directory")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="directory_domain_unique")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_credentials(self) -> bool:
        return bool(self.bind_user and self.bind_password_encrypted)

    def latest_audit(self):
        return self.audits.filter(status=AuditStatus.DONE).order_by("-collected_at", "-pk").first()


class Audit(models.Model):
    """One audit run of a domain: collection or import, then analysis; progress kept here."""

    tenant_path = "domain__organisation"

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="audits")
    source = models.CharField(_("origine"), max_length=20, choices=AuditSource.choices)
    status = models.CharField(
        _("état"), max_length=20, choices=AuditStatus.choices, default=AuditStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(default=0)
    # Last sign of life of the worker (claim or progress update): the sweeper fails audits
    # whose worker went silent for longer than DIRECTORY_AUDIT_TIMEOUT_MINUTES.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True)
    upload = models.FileField(upload_to="directory/imports/", blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    collected_at = models.DateTimeField(null=True, blank=True)
    level = models.PositiveSmallIntegerField(null=True, blank=True)
    level_complete = models.BooleanField(default=False)
    failing_count = models.PositiveIntegerField(default=0)
    failing_by_level = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    evidence = models.ForeignKey(
        "compliance.Evidence", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("audit d'annuaire")
        verbose_name_plural = _("audits d'annuaire")

    def __str__(self) -> str:
        return f"{self.domain} — {self.created_at:%d/%m/%Y %H:%M}"

    @property
    def organisation(self):
        return self.domain.organisation


class Waiver(models.Model):
    """A failing point accepted for a domain, with a justification and an expiry date."""

    tenant_path = "domain__organisation"

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="waivers")
    point = models.CharField(_("point de contrôle"), max_length=100)
    justification = models.TextField(_("justification"))
    expires_on = models.DateField(_("échéance"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["point"]
        verbose_name = _("dérogation")
        verbose_name_plural = _("dérogations")

    def __str__(self) -> str:
        return self.point


class MilestoneState(models.TextChoices):
    DONE = "done", _("atteint")
    LATE = "late", _("en retard")
    UPCOMING = "upcoming", _("à venir")


class ConvergenceMilestone(models.Model):
    """A dated step of a GHT's AD convergence trajectory (D1.O6.A), optionally per domain."""

    tenant_path = "organisation"

    organisation = models.ForeignKey(
        "tenancy.Organisation",
        on_delete=models.CASCADE,
        related_name="ad_convergence_milestones",
        verbose_name=_("GHT"),
    )
    title = models.CharField(_("intitulé du jalon"), max_length=200)
    due_date = models.DateField(_("échéance"))
    done_on = models.DateField(_("atteint le"), null=True, blank=True)
    domains = models.ManyToManyField(
        Domain,
        blank=True,
        related_name="convergence_milestones",
        verbose_name=_("domaines concernés"),
        help_text=_("Domaines des établissements du GHT concernés par ce jalon."),
    )
    note = models.TextField(_("commentaire"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_date", "pk"]
        verbose_name = _("jalon de convergence")
        verbose_name_plural = _("jalons de convergence")

    def __str__(self) -> str:
        return self.title

    def state_on(self, today) -> str:
        """Done once a completion date is set; late when the due date has passed; else upcoming."""
        if self.done_on:
            return MilestoneState.DONE
        if self.due_date < today:
            return MilestoneState.LATE
        return MilestoneState.UPCOMING
