"""Choice sets of the backups app, with translated labels."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuthMode(models.TextChoices):
    DEDICATED_AD = "dedicated_ad", _("AD dédié à la sauvegarde")
    LOCAL_ACCOUNTS = "local_accounts", _("Comptes locaux")
    SHARED_AD = "shared_ad", _("AD de production partagé")


class TwoFactor(models.TextChoices):
    IMPLEMENTED = "implemented", _("2FA mise en œuvre")
    SUPPORTED_DISABLED = "supported_disabled", _("2FA possible mais non activée")
    NOT_SUPPORTED = "not_supported", _("2FA non permise par le produit")


class Media(models.TextChoices):
    DISK = "disk", _("Disque / baie")
    NAS = "nas", _("NAS")
    TAPE = "tape", _("Bande")
    OBJECT = "object", _("Stockage objet (S3)")
    CLOUD = "cloud", _("Hébergeur tiers / cloud")
    REMOVABLE = "removable", _("Support amovible")


class TrajectoryKind(models.TextChoices):
    ISOLATION = "isolation", _("Cloisonnement de la sauvegarde")
    RULE_321 = "rule_321", _("Sauvegarde 3-2-1")


class Driver(models.TextChoices):
    RESTIC = "restic", "restic"
    BORG = "borg", "borg"


class RunKind(models.TextChoices):
    VERIFY = "verify", _("Vérification")
    RESTORE = "restore", _("Test de restauration")


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("En attente")
    RUNNING = "running", _("En cours")
    DONE = "done", _("Terminée")
    CRASHED = "crashed", _("Interrompue")


class Outcome(models.TextChoices):
    OK = "ok", _("Conforme")
    WARNING = "warning", _("Avertissement")
    FAILED = "failed", _("En échec")
    ERROR = "error", _("Non vérifié (erreur)")
    SKIPPED = "skipped", _("Non demandé")


class JobStatus(models.TextChoices):
    SUCCESS = "success", _("Réussie")
    WARNING = "warning", _("Avertissement")
    FAILED = "failed", _("Échec")


class AlertKind(models.TextChoices):
    STALE = "stale", _("Sauvegarde trop ancienne")
    INTEGRITY = "integrity", _("Erreur d'intégrité")
    RESTORE = "restore", _("Échec du test de restauration")
    ACCESS = "access", _("Dépôt inaccessible")
    JOB_FAILED = "job_failed", _("Tâche de sauvegarde en échec")
    IMMUTABILITY = "immutability", _("Immuabilité non assurée")


class Severity(models.TextChoices):
    WARNING = "warning", _("Avertissement")
    CRITICAL = "critical", _("Critique")
