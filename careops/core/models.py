"""The audit trail: who changed what, when, on which organisation."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """One recorded action; written by services, never edited."""

    tenant_path = "organisation"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    action = models.CharField(_("action"), max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    organisation = models.ForeignKey(
        "tenancy.Organisation", null=True, blank=True, on_delete=models.SET_NULL
    )
    summary = models.TextField(_("résumé"), blank=True)
    changes = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("événement du journal")
        verbose_name_plural = _("journal d'audit")

    def __str__(self) -> str:
        return f"{self.at:%d/%m/%Y %H:%M} {self.actor} {self.action}"


class WorkerPing(models.Model):
    """A round trip through the task queue: written by the web, completed by a worker."""

    requested_by_pid = models.IntegerField()
    worker_pid = models.IntegerField(null=True, blank=True)
    worker_host = models.CharField(max_length=255, blank=True)
    done = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"ping {self.pk} ({'done' if self.done else 'pending'})"


class ApiToken(models.Model):
    """A per-user API token; only its SHA-256 is stored, the clear value is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("nom"), max_length=100)
    prefix = models.CharField(max_length=8, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    read_only = models.BooleanField(_("lecture seule"), default=False)

    class Meta:
        verbose_name = _("jeton d'API")
        verbose_name_plural = _("jetons d'API")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
