"""Training campaigns (sessions, attendance, staff headcounts) and phishing exercises.

A phishing exercise keeps only counts (per campaign and per position): no target's address,
name or IP, and never what a target typed."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SessionFormat(models.TextChoices):
    IN_PERSON = "presentiel", _("présentiel")
    E_LEARNING = "e_learning", _("e-learning")


class CampaignStatus(models.TextChoices):
    OPEN = "open", _("en cours")
    CLOSED = "closed", _("clôturée")


class TrainingCampaign(models.Model):
    """A training campaign of an organisation for an audience (professions, services)."""

    tenant_path = "organisation"

    organisation = models.ForeignKey(
        "tenancy.Organisation", on_delete=models.CASCADE, related_name="training_campaigns"
    )
    title = models.CharField(_("intitulé"), max_length=200)
    audience_professions = models.CharField(
        _("professions visées"),
        max_length=500,
        blank=True,
        help_text=_("séparées par des virgules"),
    )
    audience_services = models.CharField(
        _("services visés"), max_length=500, blank=True, help_text=_("séparés par des virgules")
    )
    starts_on = models.DateField(_("début"))
    ends_on = models.DateField(_("fin"))
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
        ordering = ["-starts_on", "-pk"]
        verbose_name = _("campagne de formation")

    def __str__(self) -> str:
        return self.title


class TrainingSession(models.Model):
    tenant_path = "campaign__organisation"

    campaign = models.ForeignKey(
        TrainingCampaign, on_delete=models.CASCADE, related_name="sessions"
    )
    date = models.DateField(_("date"))
    trainer = models.CharField(_("formateur"), max_length=200, blank=True)
    format = models.CharField(
        _("format"), max_length=12, choices=SessionFormat.choices, default=SessionFormat.IN_PERSON
    )
    topic = models.CharField(_("thème"), max_length=200, blank=True)
    source_name = models.CharField(max_length=200, blank=True)
    imported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["date", "pk"]
        verbose_name = _("séance de formation")

    def __str__(self) -> str:
        return f"{self.campaign} — {self.date:%d/%m/%Y}"


class Attendance(models.Model):
    """A person at a session, as the sign-in sheet or LMS export gave it. Seen by whoever sees
    the person's structure (always inside the campaign's organisation), whatever the campaign."""

    tenant_path = "structure"

    session = models.ForeignKey(
        TrainingSession, on_delete=models.CASCADE, related_name="attendances"
    )
    structure = models.ForeignKey(
        "tenancy.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    line = models.PositiveIntegerField()
    last_name = models.CharField(max_length=150, blank=True)
    first_name = models.CharField(max_length=150, blank=True)
    email = models.CharField(max_length=254, blank=True)
    profession = models.CharField(max_length=150)
    date = models.DateField()
    present = models.BooleanField(default=True)

    class Meta:
        ordering = ["session", "line"]

    def __str__(self) -> str:
        return f"{self.last_name} {self.first_name}".strip() or self.email


class StaffHeadcount(models.Model):
    """Staff of a structure in a profession (persons), entered or imported."""

    tenant_path = "organisation"

    organisation = models.ForeignKey(
        "tenancy.Organisation", on_delete=models.CASCADE, related_name="staff_headcounts"
    )
    profession = models.CharField(_("profession"), max_length=150)
    headcount = models.PositiveIntegerField(_("effectif"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organisation__path", "profession"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "profession"], name="awareness_headcount_unique"
            )
        ]
        verbose_name = _("effectif")

    def __str__(self) -> str:
        return f"{self.organisation} — {self.profession} : {self.headcount}"


class PhishingCampaign(models.Model):
    """One GoPhish campaign's counts (never a target's identity or what was typed)."""

    tenant_path = "organisation"

    organisation = models.ForeignKey(
        "tenancy.Organisation", on_delete=models.CASCADE, related_name="phishing_campaigns"
    )
    name = models.CharField(_("campagne"), max_length=200)
    started_on = models.DateField(_("envoyée le"), null=True, blank=True)
    source_sha256 = models.CharField(max_length=64)
    # what recognises the same campaign exported again (engine.phishing.fingerprint)
    targets_fingerprint = models.CharField(max_length=64, blank=True, default="")
    last_change = models.CharField(max_length=32, blank=True, default="")  # latest modified_date
    targets = models.PositiveIntegerField(default=0)
    delivered = models.PositiveIntegerField(default=0)
    opened = models.PositiveIntegerField(default=0)
    clicked = models.PositiveIntegerField(default=0)
    submitted = models.PositiveIntegerField(default=0)
    reported = models.PositiveIntegerField(default=0)
    by_position = models.JSONField(default=dict, blank=True)
    unknown_statuses = models.JSONField(default=dict, blank=True)
    evidence_id = models.PositiveIntegerField(null=True, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    imported_at = models.DateTimeField(auto_now_add=True)
    replaced_at = models.DateTimeField(null=True, blank=True)  # last re-import of the campaign
    imports = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["started_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "source_sha256"], name="awareness_phishing_once"
            )
        ]
        verbose_name = _("exercice d'hameçonnage")

    def __str__(self) -> str:
        return self.name

    def rate(self, name: str) -> float | None:
        return getattr(self, name) / self.delivered if self.delivered else None
