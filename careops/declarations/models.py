"""Candidacies, frozen declarations of attainment, their instruction, decision and payment.

A ``Declaration`` is a hashed snapshot written once at filing: ``save()`` refuses updates,
``delete()`` and the queryset's ``update()``/``delete()`` refuse, and a database trigger (see
migration 0002) refuses any UPDATE of its rows, so neither the API, the admin nor the ORM can
change it. Complement answers add new evidence revisions elsewhere; the snapshot stays as filed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from careops.declarations.choices import Decision, Level, State, Verdict


class ImmutableSnapshotError(RuntimeError):
    """Raised on any attempt to change or delete a filed declaration."""

    def __init__(
        self, message: str = "Une déclaration déposée ne peut être ni modifiée ni supprimée."
    ):
        super().__init__(message)


def canonical_json(value: Any) -> bytes:
    """The canonical bytes a snapshot is hashed on (sorted keys, no spaces, UTF-8)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def content_hash(value: Any) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()


class Candidacy(models.Model):
    """A candidate's application to one domain, carried through the whole workflow."""

    tenant_path = "candidate"

    candidate = models.ForeignKey(
        "tenancy.Organisation", on_delete=models.PROTECT, related_name="candidacies"
    )
    referential_version = models.ForeignKey(
        "catalogue.ReferentialVersion", on_delete=models.PROTECT, related_name="candidacies"
    )
    domain = models.CharField(_("domaine"), max_length=16, db_index=True)
    region_code = models.CharField(_("code région"), max_length=2, blank=True, db_index=True)
    category = models.CharField(_("catégorie"), max_length=20, blank=True)
    state = models.CharField(_("étape"), max_length=24, choices=State.choices, db_index=True)
    applied_at = models.DateTimeField(_("candidature déposée le"))
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    eligibility = models.JSONField(_("contrôle d'éligibilité"), default=list)
    assessment = models.ForeignKey(
        "compliance.Assessment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ceiling_eur = models.DecimalField(
        _("montant plafond (€)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    review_comment = models.TextField(_("motif"), blank=True)
    decision = models.CharField(_("décision"), max_length=16, choices=Decision.choices, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_comment = models.TextField(blank=True)
    funding = models.JSONField(_("calcul du financement"), default=dict, blank=True)
    amount_eur = models.DecimalField(
        _("montant dû (€)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    payment_reference = models.CharField(_("référence du paiement"), max_length=64, blank=True)
    # Current verdicts per level, kept by services.review_item for the dashboards.
    ars_compliant = models.PositiveIntegerField(default=0)
    ars_non_compliant = models.PositiveIntegerField(default=0)
    ars_complement = models.PositiveIntegerField(default=0)
    ans_compliant = models.PositiveIntegerField(default=0)
    ans_non_compliant = models.PositiveIntegerField(default=0)
    ans_complement = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-applied_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["candidate", "domain"], name="one_candidacy_per_domain")
        ]
        indexes = [models.Index(fields=["domain", "state"])]
        verbose_name = _("candidature")
        verbose_name_plural = _("candidatures")

    def __str__(self) -> str:
        return f"{self.candidate} — {self.domain}"


class Transition(models.Model):
    """One step of a candidacy: who moved it, from which state to which, when and why."""

    tenant_path = "candidacy__candidate"

    candidacy = models.ForeignKey(Candidacy, on_delete=models.CASCADE, related_name="transitions")
    name = models.CharField(max_length=32)
    from_state = models.CharField(max_length=24, blank=True)
    to_state = models.CharField(max_length=24, choices=State.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_state or '—'} → {self.to_state}"


class ImmutableQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableSnapshotError()

    def delete(self):
        raise ImmutableSnapshotError()


class Declaration(models.Model):
    """The declaration of attainment: statuses and evidence frozen at filing, hashed, attested."""

    tenant_path = "candidacy__candidate"

    candidacy = models.OneToOneField(
        Candidacy, on_delete=models.PROTECT, related_name="declaration"
    )
    filed_at = models.DateTimeField(_("déposée le"))
    filing_date = models.DateField(_("date de dépôt (Paris)"))
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
    )
    representative_name = models.CharField(_("représentant légal"), max_length=255)
    representative_title = models.CharField(_("qualité"), max_length=255)
    attestation = models.TextField(_("attestation"))
    snapshot = models.JSONField(_("instantané"))
    content_sha256 = models.CharField(_("empreinte SHA-256"), max_length=64, editable=False)

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        verbose_name = _("déclaration d'atteinte")
        verbose_name_plural = _("déclarations d'atteinte")

    def __str__(self) -> str:
        return f"{self.candidacy} — {self.content_sha256[:12]}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding or self.pk is not None:
            raise ImmutableSnapshotError()
        self.content_sha256 = content_hash(self.snapshot)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableSnapshotError()

    def verify(self) -> bool:
        """Whether the stored snapshot still has the hash computed at filing."""
        return content_hash(self.snapshot) == self.content_sha256


class DeclaredItem(models.Model):
    """One item's status as frozen in a declaration (written with it, never changed)."""

    tenant_path = "candidate"  # denormalised: dashboards aggregate these rows in one join

    declaration = models.ForeignKey(Declaration, on_delete=models.PROTECT, related_name="items")
    candidate = models.ForeignKey(
        "tenancy.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    domain = models.CharField(max_length=16)
    item_code = models.CharField(max_length=32)
    kind = models.CharField(max_length=16)
    status = models.CharField(max_length=20)

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["domain", "item_code", "status"])]

    def __str__(self) -> str:
        return f"{self.item_code}: {self.status}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ImmutableSnapshotError()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableSnapshotError()


class ItemReview(models.Model):
    """An instructor's verdict on one item of a declaration; the newest one per level counts."""

    tenant_path = "candidate"  # denormalised from the declaration, for the dashboards

    declaration = models.ForeignKey(Declaration, on_delete=models.PROTECT, related_name="reviews")
    candidate = models.ForeignKey(
        "tenancy.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    domain = models.CharField(max_length=16)
    item_code = models.CharField(_("exigence"), max_length=32)
    level = models.CharField(max_length=4, choices=Level.choices)
    verdict = models.CharField(_("avis"), max_length=24, choices=Verdict.choices)
    message = models.TextField(_("message"), blank=True)
    due_date = models.DateField(_("échéance"), null=True, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    is_current = models.BooleanField(default=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["item_code", "-at", "-pk"]
        indexes = [models.Index(fields=["domain", "is_current", "level", "verdict"])]

    def __str__(self) -> str:
        return f"{self.item_code} ({self.level}): {self.verdict}"

    @property
    def is_open_request(self) -> bool:
        return self.verdict == Verdict.COMPLEMENT and self.is_current and self.answered_at is None


class ComplementAnswer(models.Model):
    """The candidate's answer to a complement request, pointing at new evidence revisions."""

    tenant_path = "review__declaration__candidacy__candidate"

    review = models.ForeignKey(ItemReview, on_delete=models.CASCADE, related_name="answers")
    message = models.TextField(_("réponse"))
    revisions = models.ManyToManyField(
        "compliance.EvidenceRevision", blank=True, related_name="+", verbose_name=_("révisions")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"réponse à {self.review}"


class ReminderSent(models.Model):
    """A reminder already sent, so the daily task never sends the same one twice."""

    key = models.CharField(max_length=128, unique=True)
    sent_at = models.DateTimeField(auto_now_add=True)
    recipients = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.key
