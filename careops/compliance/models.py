"""Evidence (revisions, files, hashes) and objective statuses with their history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from careops.compliance.choices import Status, Validator


class Assessment(models.Model):
    """A candidate's assessment against one referential version (kept when a new one loads)."""

    tenant_path = "candidate"

    candidate = models.ForeignKey(
        "tenancy.Organisation", on_delete=models.CASCADE, related_name="assessments"
    )
    referential_version = models.ForeignKey(
        "catalogue.ReferentialVersion", on_delete=models.PROTECT, related_name="assessments"
    )
    candidacy_date = models.DateField(_("date de candidature"), null=True, blank=True)
    filing_date = models.DateField(_("date de dépôt de la déclaration"), null=True, blank=True)
    facts = models.JSONField(_("faits déclarés"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    progress = models.FloatField(default=0.0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["candidate", "referential_version"], name="unique_assessment"
            )
        ]
        verbose_name = _("évaluation")
        verbose_name_plural = _("évaluations")

    def __str__(self) -> str:
        return f"{self.candidate} — {self.referential_version}"


class ItemStatus(models.Model):
    """The current computed status of one item of an assessment, with the reasons."""

    tenant_path = "assessment__candidate"

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="statuses")
    item_code = models.CharField(max_length=32)
    status = models.CharField(max_length=20, choices=Status.choices)
    reasons = models.JSONField(default=list)
    criteria = models.JSONField(default=list)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["assessment", "item_code"], name="unique_item_status")
        ]

    def __str__(self) -> str:
        return f"{self.item_code}: {self.status}"


class StatusChange(models.Model):
    """History: each time an item's status changes, what it was, what it became and why."""

    tenant_path = "assessment__candidate"

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="history")
    item_code = models.CharField(max_length=32)
    previous = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices)
    reasons = models.JSONField(default=list)
    cause = models.CharField(max_length=255, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.item_code}: {self.previous or '—'} → {self.status}"


class Evidence(models.Model):
    """A piece of evidence of a kind (PSSI, exposure audit, restore test…) kept with revisions."""

    tenant_path = "organisation"

    organisation = models.ForeignKey(
        "tenancy.Organisation", on_delete=models.CASCADE, related_name="evidence"
    )
    kind = models.CharField(_("type de preuve"), max_length=64, db_index=True)
    title = models.CharField(_("titre"), max_length=255)
    item_codes = models.JSONField(_("exigences visées"), default=list, blank=True)
    source = models.CharField(
        _("origine"), max_length=32, default="upload", help_text="upload, or the engine name"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("preuve")
        verbose_name_plural = _("preuves")

    def __str__(self) -> str:
        return self.title

    @property
    def current(self) -> EvidenceRevision | None:
        return self.revisions.order_by("-number").first()


class EvidenceRevision(models.Model):
    """One revision of a piece of evidence: its effective date, expiry, attributes and files."""

    tenant_path = "evidence__organisation"

    evidence = models.ForeignKey(Evidence, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    effective_date = models.DateField(_("date d'effet"))
    expires_on = models.DateField(_("date d'expiration"), null=True, blank=True)
    validated_by = models.CharField(
        _("validée par"), max_length=32, choices=Validator.choices, blank=True
    )
    attributes = models.JSONField(_("attributs"), default=dict, blank=True)
    entities = models.ManyToManyField(
        "tenancy.Organisation", blank=True, related_name="+", verbose_name=_("entités couvertes")
    )
    comment = models.TextField(_("commentaire"), blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["evidence", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["evidence", "number"], name="unique_revision_number")
        ]

    def __str__(self) -> str:
        return f"{self.evidence} r{self.number}"


def _evidence_path(instance: EvidenceFile, filename: str) -> str:
    return f"evidence/{instance.sha256[:2]}/{instance.sha256}"


class EvidenceFile(models.Model):
    """A file of a revision, stored under its SHA-256 (content-addressed, never overwritten)."""

    tenant_path = "revision__evidence__organisation"

    revision = models.ForeignKey(EvidenceRevision, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(upload_to=_evidence_path)
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    content_type = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.original_name
