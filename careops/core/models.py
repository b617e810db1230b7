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
    runs = models.PositiveIntegerField(default=0)  # committed runs: exactly one once done
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


class TaskRecord(models.Model):
    """The durable record of one enqueued task (careops.core.queue): what to run, where it
    stands, who holds it and until when. A task whose worker died (lease expired) is enqueued
    again by the reaper; a task that is done is never run again."""

    QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
    STATES = [(s, s) for s in (QUEUED, RUNNING, DONE, FAILED)]

    task_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=255)
    message = models.BinaryField()  # the serialized huey message, pushed again on resume
    priority = models.IntegerField(null=True, blank=True)
    state = models.CharField(max_length=8, choices=STATES, default=QUEUED)
    attempt = models.PositiveIntegerField(default=0)
    token = models.CharField(max_length=32, blank=True)  # the holder of the current attempt
    worker = models.CharField(max_length=255, blank=True)
    lease_until = models.DateTimeField()
    enqueued_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "lease_until"], name="core_task_state_lease")]

    def __str__(self) -> str:
        return f"{self.name} {self.task_id} ({self.state}, attempt {self.attempt})"
