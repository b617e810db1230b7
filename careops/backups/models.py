"""D2 backups: inventory (systems, copies), trajectories, repositories, runs, jobs and alerts."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from careops.backups import choices


class BackupSystem(models.Model):
    """A backup product in use (D2.O3.A authentication, 2FA, isolation) and its copies."""

    tenant_path = "organisation"

    organisation = models.ForeignKey(
        "tenancy.Organisation", on_delete=models.CASCADE, related_name="backup_systems"
    )
    name = models.CharField(_("nom"), max_length=200)
    product = models.CharField(_("produit"), max_length=200)
    version = models.CharField(_("version"), max_length=100, blank=True)
    protects = models.TextField(_("ce qu'il protège"), blank=True)
    auth_mode = models.CharField(
        _("authentification"), max_length=20, choices=choices.AuthMode.choices
    )
    operator_roles = models.TextField(
        _("rôles d'opération"),
        blank=True,
        help_text=_("Rôles (opérateur, administrateur…) et leur gestion."),
    )
    twofa_status = models.CharField(
        _("double authentification"), max_length=20, choices=choices.TwoFactor.choices
    )
    twofa_proof = models.TextField(_("preuve de mise en œuvre de la 2FA"), blank=True)
    twofa_justification = models.TextField(_("justification (2FA non activée)"), blank=True)
    isolation_capable = models.BooleanField(_("isolable (« bouton rouge »)"), default=False)
    isolation_procedure = models.TextField(_("procédure d'isolement"), blank=True)
    isolation_tested_on = models.DateField(_("dernier test d'isolement"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organisation__name", "name"]
        verbose_name = _("système de sauvegarde")
        verbose_name_plural = _("systèmes de sauvegarde")

    def __str__(self) -> str:
        return self.name

    @property
    def isolation_test_due(self) -> bool:
        """The isolation ("bouton rouge") has not been tested in the last 12 months."""
        from django.utils import timezone

        if not self.isolation_tested_on:
            return True
        return (timezone.localdate() - self.isolation_tested_on).days > 365

    def rule_321(self):
        """The 3-2-1(-1) assessment computed from the copies."""
        from careops.backups.services import assess_321

        return assess_321(list(self.copies.all()))


class BackupCopy(models.Model):
    """One copy of the protected data: its medium, place, offline or immutable."""

    tenant_path = "system__organisation"

    system = models.ForeignKey(BackupSystem, on_delete=models.CASCADE, related_name="copies")
    label = models.CharField(_("libellé"), max_length=200)
    media = models.CharField(_("support"), max_length=20, choices=choices.Media.choices)
    location = models.CharField(_("lieu"), max_length=200)
    offsite = models.BooleanField(_("hors site"), default=False)
    offline = models.BooleanField(_("hors ligne"), default=False)
    immutable = models.BooleanField(_("immuable"), default=False)
    is_production = models.BooleanField(
        _("donnée de production"),
        default=False,
        help_text=_("La donnée d'origine compte comme copie."),
    )

    class Meta:
        ordering = ["system", "pk"]
        verbose_name = _("copie")
        verbose_name_plural = _("copies")

    def __str__(self) -> str:
        return self.label


class Trajectory(models.Model):
    """A dated plan (isolation or 3-2-1) with milestones, evidence of D2.O3.B/C."""

    tenant_path = "organisation"

    organisation = models.ForeignKey(
        "tenancy.Organisation", on_delete=models.CASCADE, related_name="backup_trajectories"
    )
    kind = models.CharField(_("trajectoire"), max_length=20, choices=choices.TrajectoryKind.choices)
    title = models.CharField(_("intitulé"), max_length=200)
    target_date = models.DateField(_("date cible"))
    target_reached = models.BooleanField(_("cible déjà atteinte"), default=False)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation__name", "kind", "target_date"]
        verbose_name = _("trajectoire")
        verbose_name_plural = _("trajectoires")

    def __str__(self) -> str:
        return self.title

    @property
    def beyond_three_years(self) -> bool:
        """The target lies 3 years or more after today (D2.O3.B/C ask for less than 3 years)."""
        from django.utils import timezone

        today = timezone.localdate()
        try:
            limit = today.replace(year=today.year + 3)
        except ValueError:  # 29 February
            limit = today.replace(year=today.year + 3, day=28)
        return not self.target_reached and self.target_date >= limit


class Milestone(models.Model):
    """A dated step of a trajectory."""

    tenant_path = "trajectory__organisation"

    trajectory = models.ForeignKey(Trajectory, on_delete=models.CASCADE, related_name="milestones")
    label = models.CharField(_("jalon"), max_length=200)
    due_date = models.DateField(_("échéance"))
    done_on = models.DateField(_("atteint le"), null=True, blank=True)

    class Meta:
        ordering = ["trajectory", "due_date"]
        verbose_name = _("jalon")
        verbose_name_plural = _("jalons")

    def __str__(self) -> str:
        return self.label


class Repository(models.Model):
    """A restic or borg repository that careops verifies (password and S3 keys stored encrypted
    only; ``s3_lock`` holds the probe's bucket, endpoint and retention, never a credential)."""

    tenant_path = "organisation"

    organisation = models.ForeignKey(
        "tenancy.Organisation", on_delete=models.CASCADE, related_name="backup_repositories"
    )
    system = models.ForeignKey(
        BackupSystem, null=True, blank=True, on_delete=models.SET_NULL, related_name="repositories"
    )
    name = models.CharField(_("nom"), max_length=100)
    driver = models.CharField(_("logiciel"), max_length=10, choices=choices.Driver.choices)
    location = models.CharField(_("emplacement"), max_length=500)
    password_encrypted = models.TextField(editable=False)
    data_cycle = models.PositiveIntegerField(
        _("cycle de lecture des données"),
        default=7,
        help_text=_("n/t : un t-ième des données relu à chaque vérification (1 = tout)."),
    )
    append_only_expected = models.BooleanField(_("ajout seul attendu (borg)"), default=False)
    s3_lock = models.JSONField(_("sonde S3 Object Lock"), default=dict, blank=True)
    s3_access_key_encrypted = models.TextField(blank=True, editable=False)
    s3_secret_key_encrypted = models.TextField(blank=True, editable=False)
    integrity_history = models.JSONField(default=list, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"], name="backups_repo_unique_name"
            )
        ]
        verbose_name = pgettext_lazy("backup repository", "dépôt")
        verbose_name_plural = _("dépôts")

    def __str__(self) -> str:
        return self.name


class ProtectedSystem(models.Model):
    """An application or server whose backups must be at most RPO old (RPO/RTO of the BIA)."""

    tenant_path = "organisation"

    organisation = models.ForeignKey(
        "tenancy.Organisation", on_delete=models.CASCADE, related_name="protected_systems"
    )
    name = models.CharField(_("nom"), max_length=200)
    resource = models.ForeignKey(
        "continuity.Resource",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="protected_systems",
        verbose_name=_("ressource du BIA"),
        help_text=_(
            "La PDMA et le RTO sont alors hérités du BIA (dernière campagne validée, sinon le "
            "brouillon en cours) ; le test de restauration devient le RTO mesuré de la ressource."
        ),
    )
    rpo_hours = models.FloatField(
        _("PDMA / RPO (heures)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0.01)],
        help_text=_("Pour un système rattaché au BIA : laisser vide pour hériter de sa PDMA."),
    )
    rto_hours = models.FloatField(
        _("DMIA / RTO (heures)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0.01)],
        help_text=_("Pour un système rattaché au BIA : laisser vide pour hériter de son RTO."),
    )
    override_reason = models.CharField(
        _("motif de la dérogation au BIA"),
        max_length=300,
        blank=True,
        help_text=_("Obligatoire quand une valeur saisie remplace celle héritée du BIA."),
    )
    repository = models.ForeignKey(
        Repository, null=True, blank=True, on_delete=models.SET_NULL, related_name="systems"
    )
    match_host = models.CharField(_("hôte (restic)"), max_length=200, blank=True)
    match_tags = models.CharField(
        _("étiquettes (restic, séparées par des virgules)"), max_length=200, blank=True
    )
    match_path = models.CharField(_("chemin sauvegardé"), max_length=500, blank=True)
    archive_glob = models.CharField(_("motif d'archive (borg)"), max_length=200, blank=True)
    job_name = models.CharField(
        _("nom dans les rapports de tâches"),
        max_length=200,
        blank=True,
        help_text=_("Pour les produits dont on importe les rapports (Veeam, Bareos…)."),
    )
    manifest = models.TextField(
        _("manifeste SHA-256 de référence"),
        blank=True,
        help_text=_("Sortie de « careops backups manifest DOSSIER » prise à la sauvegarde."),
    )
    last_backup_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    backup_interval_hours = models.FloatField(null=True, blank=True, editable=False)
    freshness_status = models.CharField(
        max_length=10, choices=choices.Outcome.choices, default="skipped", editable=False
    )

    class Meta:
        ordering = ["organisation__name", "name"]
        verbose_name = _("système protégé")
        verbose_name_plural = _("systèmes protégés")

    def __str__(self) -> str:
        return self.name

    def clean(self):
        """The linked resource is on the organisation's branch; an objective comes from the BIA
        or is typed, and a typed one that replaces the BIA's says why."""
        from careops.backups.objectives import ObjectiveResolver

        super().clean()
        errors = {}
        if self.resource_id and self.organisation_id:
            org = self.organisation
            theirs = self.resource.campaign.organisation
            if not (org.path.startswith(theirs.path) or theirs.path.startswith(org.path)):
                errors["resource"] = _(
                    "La ressource doit appartenir à un BIA de la même organisation (ou de son "
                    "GHT, ou d'un de ses établissements)."
                )
        if not errors:
            objectives = ObjectiveResolver().objectives(self)
            if objectives.rpo_hours is None:
                errors["rpo_hours"] = (
                    _("Indiquer la PDMA : la ressource du BIA n'en hérite d'aucune.")
                    if self.resource_id
                    else _("Indiquer la PDMA (ou rattacher le système à une ressource du BIA).")
                )
            if objectives.overridden and not self.override_reason.strip():
                errors["override_reason"] = _(
                    "Justifier la valeur saisie à la place de celle héritée du BIA."
                )
        if errors:
            raise ValidationError(errors)


class VerificationRun(models.Model):
    """A verification or restore test run by a task, with its progress and result."""

    tenant_path = "organisation"

    organisation = models.ForeignKey(
        "tenancy.Organisation", on_delete=models.CASCADE, related_name="backup_runs"
    )
    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="runs")
    protected_system = models.ForeignKey(
        ProtectedSystem, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    kind = models.CharField(_("type"), max_length=10, choices=choices.RunKind.choices)
    status = models.CharField(
        _("état"), max_length=10, choices=choices.RunStatus.choices, default="queued"
    )
    outcome = models.CharField(
        _("résultat"), max_length=10, choices=choices.Outcome.choices, blank=True
    )
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=1)
    progress_label = models.CharField(max_length=200, blank=True)
    business_referent = models.CharField(
        _("référent métier (non nominatif)"), max_length=200, blank=True
    )
    result = models.JSONField(default=dict, blank=True)
    restore_seconds = models.FloatField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    evidence = models.ForeignKey(
        "compliance.Evidence", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("vérification")
        verbose_name_plural = _("vérifications")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.repository} ({self.created_at:%d/%m/%Y})"

    @property
    def progress(self) -> float:
        return min(1.0, self.progress_done / self.progress_total) if self.progress_total else 0.0


class JobRecord(models.Model):
    """A job outcome ingested from another product's report (JSON or CSV export)."""

    tenant_path = "organisation"

    organisation = models.ForeignKey(
        "tenancy.Organisation", on_delete=models.CASCADE, related_name="backup_jobs"
    )
    system_name = models.CharField(_("système"), max_length=200)
    job = models.CharField(_("tâche"), max_length=200)
    status = models.CharField(_("statut"), max_length=10, choices=choices.JobStatus.choices)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(_("fin"))
    size_bytes = models.BigIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)
    source = models.CharField(_("fichier importé"), max_length=255, blank=True)
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-finished_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "system_name", "job", "finished_at"],
                name="backups_job_unique",
            )
        ]
        verbose_name = _("résultat de tâche")
        verbose_name_plural = _("résultats de tâches")

    def __str__(self) -> str:
        return f"{self.job} {self.finished_at:%d/%m/%Y %H:%M}"


class Alert(models.Model):
    """A supervision alert (stale backup, failed check…) with its procedure and acknowledgement."""

    tenant_path = "organisation"

    organisation = models.ForeignKey(
        "tenancy.Organisation", on_delete=models.CASCADE, related_name="backup_alerts"
    )
    key = models.CharField(max_length=300, editable=False)
    kind = models.CharField(_("type"), max_length=20, choices=choices.AlertKind.choices)
    severity = models.CharField(_("gravité"), max_length=10, choices=choices.Severity.choices)
    subject = models.CharField(_("objet"), max_length=255)
    message = models.TextField(_("message"))
    procedure = models.TextField(_("procédure"))
    opened_at = models.DateTimeField(_("ouverte le"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("vue le"), auto_now=True)
    resolved_at = models.DateTimeField(_("résolue le"), null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(_("acquittée le"), null=True, blank=True)
    ack_comment = models.TextField(_("commentaire d'acquittement"), blank=True)

    class Meta:
        ordering = ["resolved_at", "-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "key"],
                condition=models.Q(resolved_at__isnull=True),
                name="backups_alert_one_open_per_key",
            )
        ]
        verbose_name = _("alerte")
        verbose_name_plural = _("alertes")

    def __str__(self) -> str:
        return self.subject
