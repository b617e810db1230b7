"""Maturity self-assessment campaigns: answers with their history, the closed result."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CampaignStatus(models.TextChoices):
    OPEN = "open", _("en cours")
    CLOSED = "closed", _("validée")


class Campaign(models.Model):
    """One self-assessment of an organisation with one questionnaire version."""

    tenant_path = "organisation"

    organisation = models.ForeignKey(
        "tenancy.Organisation", on_delete=models.CASCADE, related_name="maturity_campaigns"
    )
    questionnaire = models.CharField(_("questionnaire"), max_length=60)
    version = models.CharField(max_length=20)
    title = models.CharField(_("intitulé"), max_length=200)
    status = models.CharField(
        max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.OPEN
    )
    result = models.JSONField(default=dict, blank=True)
    evidence_id = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("campagne d'auto-évaluation")

    def __str__(self) -> str:
        return self.title


class Answer(models.Model):
    tenant_path = "campaign__organisation"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="answers")
    question = models.CharField(max_length=40)
    value = models.CharField(max_length=40)
    prefilled = models.BooleanField(default=False)
    note = models.CharField(max_length=300, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    answered_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "question"], name="maturity_answer_unique")
        ]

    def __str__(self) -> str:
        return f"{self.question} = {self.value}"


class AnswerChange(models.Model):
    """Every change of an answer: who, when, from what to what, and whether careops proposed it."""

    tenant_path = "campaign__organisation"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="changes")
    question = models.CharField(max_length=40)
    old_value = models.CharField(max_length=40, blank=True)
    new_value = models.CharField(max_length=40)
    prefilled = models.BooleanField(default=False)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.question}: {self.old_value} → {self.new_value}"
