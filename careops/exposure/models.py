"""Exposure audits: declared assets and their proof of ownership, runs (sharded), findings."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class AssetKind(models.TextChoices):
    DOMAIN = "domain", _("Domaine")
    HOSTNAME = "hostname", _("Nom d'hôte")
    IPV4 = "ipv4", _("Plage IPv4")
    IPV6 = "ipv6", _("Plage IPv6")


class AssetStatus(models.TextChoices):
    PENDING = "pending", _("À vérifier")
    ATTESTED = "attested", _("Attestation à approuver")
    VERIFIED = "verified", _("Vérifié")
    REJECTED = "rejected", _("Refusé")


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("En attente")
    RUNNING = "running", _("En cours")
    DONE = "done", _("Terminé")
    FAILED = "failed", _("Échec")
    CANCELLED = "cancelled", _("Annulé")


ACTIVE_RUN_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)


class FindingStatus(models.TextChoices):
    OPEN = "open", _("Ouvert")
    IN_PROGRESS = "in_progress", _("En cours de correction")
    FIXED = "fixed", _("Corrigé")
    ACCEPTED = "accepted", _("Risque accepté")
    FALSE_POSITIVE = "false_positive", _("Faux positif")


class Severity(models.TextChoices):
    CRITICAL = "critical", _("Critique")
    HIGH = "high", _("Élevée")
    MEDIUM = "medium", _("Moyenne")
    LOW = "low", _("Faible")
    INFO = "info", _("Information")


def new_token() -> str:
    return secrets.token_urlsafe(24)


class ExposureProfile(models.Model):
    """Per-organisation settings: port set, monthly schedule, internal-audit option (admin only)."""

    tenant_path = "organisation"

    organisation = models.OneToOneField(
        "tenancy.Organisation", on_delete=models.CASCADE, related_name="exposure_profile"
    )
    ports = models.CharField(_("ports analysés"), max_length=500, default="default")
    monthly = models.BooleanField(_("audit mensuel automatique"), default=True)
    internal_audit = models.BooleanField(
        _("audit interne (adresses privées autorisées)"), default=False
    )
    internal_audit_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("profil d'exposition")

    def __str__(self) -> str:
        return f"Profil d'exposition — {self.organisation}"


class Asset(models.Model):
    """A declared internet-facing domain, host name or IP range, and how ownership was proven."""

    tenant_path = "organisation"

    organisation = models.ForeignKey(
        "tenancy.Organisation", on_delete=models.CASCADE, related_name="exposure_assets"
    )
    kind = models.CharField(_("type"), max_length=16, choices=AssetKind.choices)
    value = models.CharField(_("valeur"), max_length=255)
    status = models.CharField(
        _("statut"), max_length=16, choices=AssetStatus.choices, default=AssetStatus.PENDING
    )
    token = models.CharField(_("jeton de vérification"), max_length=64, default=new_token)
    attestation = models.TextField(_("attestation"), blank=True)
    attested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attested_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    verification_note = models.CharField(max_length=500, blank=True)
    # Filled by the approver of a range or address: its holder as the approver saw it
    # (RIPE inetnum holder, operator, hosting provider…), kept with the approval.
    holder = models.CharField(
        _("titulaire de la plage (vu par l'approbateur)"), max_length=255, blank=True
    )
    # An address a verified name resolves to, outside the approved ranges: recorded by careops,
    # scanned only once approved like a range (and only while the name still resolves to it).
    resolved_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="resolved_addresses",
        verbose_name=_("adresse du nom"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "value"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "value"], name="exposure_asset_unique")
        ]
        verbose_name = _("actif exposé")
        verbose_name_plural = _("actifs exposés")

    def __str__(self) -> str:
        return self.value

    @property
    def is_network(self) -> bool:
        return self.kind in (AssetKind.IPV4, AssetKind.IPV6)

    @property
    def address_count(self) -> int:
        """Addresses of a range (0 for a name)."""
        import ipaddress

        return (
            ipaddress.ip_network(self.value, strict=False).num_addresses if self.is_network else 0
        )

    @property
    def txt_name(self) -> str:
        return f"_careops-challenge.{self.value}"

    @property
    def txt_value(self) -> str:
        return f"careops-verification={self.token}"


class ScanRun(models.Model):
    """One audit of an organisation's verified scope: who asked, what scope, when, the result."""

    tenant_path = "organisation"

    organisation = models.ForeignKey(
        "tenancy.Organisation", on_delete=models.CASCADE, related_name="exposure_runs"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    trigger = models.CharField(max_length=16, default="manual")  # manual | schedule
    status = models.CharField(
        max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED, db_index=True
    )
    scope = models.JSONField(default=dict)  # targets, networks, domains, ports, allow_private
    hosts_total = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)
    diff = models.JSONField(default=dict, blank=True)
    exposure_level = models.CharField(max_length=8, blank=True)
    minimum_level_met = models.BooleanField(null=True)
    errors = models.JSONField(default=list, blank=True)
    evidence = models.ForeignKey(
        "compliance.Evidence", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation"],
                condition=Q(status__in=["queued", "running"]),
                name="exposure_one_active_run",
            )
        ]
        verbose_name = _("audit d'exposition")
        verbose_name_plural = _("audits d'exposition")

    def __str__(self) -> str:
        return f"Audit {self.pk} — {self.organisation}"

    @property
    def hosts_done(self) -> int:
        return sum(self.shards.values_list("hosts_done", flat=True))

    @property
    def progress(self) -> float:
        if self.status == RunStatus.DONE:
            return 1.0
        return min(1.0, self.hosts_done / self.hosts_total) if self.hosts_total else 0.0


class ScanShard(models.Model):
    """A block of hosts of a run: the unit a worker takes, with a lease so a dead worker's
    block is taken again (results are written once, when the block is done)."""

    tenant_path = "run__organisation"

    run = models.ForeignKey(ScanRun, on_delete=models.CASCADE, related_name="shards")
    index = models.PositiveIntegerField()
    addresses = models.JSONField(default=dict)  # {address: [hostnames]}
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    hosts_done = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=100, blank=True)  # host:pid of the last taker
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["run", "index"]
        constraints = [
            models.UniqueConstraint(fields=["run", "index"], name="exposure_shard_unique")
        ]

    def __str__(self) -> str:
        return f"Bloc {self.index} de l'audit {self.run_id}"


class Finding(models.Model):
    """A finding tracked across runs (same fingerprint), with its remediation."""

    tenant_path = "organisation"

    organisation = models.ForeignKey(
        "tenancy.Organisation", on_delete=models.CASCADE, related_name="exposure_findings"
    )
    fingerprint = models.CharField(max_length=300)
    rule = models.CharField(max_length=32)
    severity = models.CharField(max_length=16, choices=Severity.choices)
    category = models.CharField(max_length=100, blank=True)
    host = models.CharField(max_length=64)
    port = models.PositiveIntegerField(null=True, blank=True)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    evidence = models.TextField(blank=True)
    remediation = models.TextField(blank=True)
    cves = models.JSONField(default=list, blank=True)
    kev = models.BooleanField(default=False)
    confidence = models.CharField(max_length=16, blank=True)
    status = models.CharField(
        _("statut"), max_length=16, choices=FindingStatus.choices, default=FindingStatus.OPEN
    )
    owner = models.CharField(_("responsable"), max_length=150, blank=True)
    due_date = models.DateField(_("échéance"), null=True, blank=True)
    justification = models.TextField(_("justification du risque accepté"), blank=True)
    risk_expires_on = models.DateField(_("fin de l'acceptation du risque"), null=True, blank=True)
    first_run = models.ForeignKey(ScanRun, on_delete=models.CASCADE, related_name="+")
    last_run = models.ForeignKey(ScanRun, on_delete=models.CASCADE, related_name="+")
    closed_run = models.ForeignKey(
        ScanRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    fixed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["status", "severity", "host", "port"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "fingerprint"], name="exposure_finding_unique"
            )
        ]
        # the cockpits' recent findings (chart over 6 months, critical alerts of 30 days): a
        # range on first_seen, not a scan of every finding of the country
        indexes = [models.Index(fields=["first_seen"], name="exposure_finding_first_seen")]
        verbose_name = _("constat")
        verbose_name_plural = _("constats")

    def __str__(self) -> str:
        return self.title
