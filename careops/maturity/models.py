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


# --- AAP MS pathways ------------------------------------------------------------------------


class PathwayStatus(models.TextChoices):
    PROPOSED = "proposed", _("proposé, à confirmer par l'ARS")
    CONFIRMED = "confirmed", _("confirmé par l'ARS")


class PathwayAssignment(models.Model):
    """The AAP MS pathway of a structure: proposed from its validated self-assessment, then
    confirmed (or changed, with a reason) by an ARS instructor of its region."""

    tenant_path = "organisation"

    organisation = models.OneToOneField(
        "tenancy.Organisation", on_delete=models.CASCADE, related_name="aapms_pathway"
    )
    catalogue_version = models.CharField(max_length=20)
    pathway = models.CharField(_("parcours"), max_length=20)
    proposed_pathway = models.CharField(_("parcours proposé"), max_length=20)
    proposed_reason = models.CharField(max_length=500)
    level = models.PositiveSmallIntegerField(_("niveau de maturité"))
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL)
    status = models.CharField(
        max_length=10, choices=PathwayStatus.choices, default=PathwayStatus.PROPOSED
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    started_on = models.DateField(_("entrée dans le parcours"), null=True, blank=True)
    change_reason = models.TextField(_("motif du changement"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("parcours AAP MS")

    def __str__(self) -> str:
        return f"{self.organisation} — {self.pathway}"


class PathwayEvent(models.Model):
    """The pathway's journal: proposals, confirmation, changes, deliverables declared."""

    tenant_path = "assignment__organisation"

    assignment = models.ForeignKey(
        PathwayAssignment, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(max_length=20)
    detail = models.CharField(max_length=600)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return self.detail


class DeliverableDone(models.Model):
    """A deliverable the structure declared done (those careops observes need no row)."""

    tenant_path = "assignment__organisation"

    assignment = models.ForeignKey(
        PathwayAssignment, on_delete=models.CASCADE, related_name="deliverables_done"
    )
    deliverable = models.CharField(max_length=20)
    note = models.CharField(_("commentaire"), max_length=300, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    done_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "deliverable"], name="maturity_deliverable_unique"
            )
        ]

    def __str__(self) -> str:
        return self.deliverable


# --- pooling of security resources ----------------------------------------------------------


class PoolKind(models.TextChoices):
    RSSI = "rssi", _("RSSI mutualisé")
    CRRC = "crrc", _("Équipe du CRRC")
    GHT = "ght", _("Équipe sécurité d'un GHT")
    OTHER = "other", _("Autre ressource mutualisée")


class Pool(models.Model):
    """A security resource shared by medico-social structures of one region. Its staff hold the
    pooled RSSI role on every active member while a convention is in force."""

    tenant_path = "region"

    region = models.ForeignKey(
        "tenancy.Organisation", on_delete=models.PROTECT, related_name="security_pools"
    )
    name = models.CharField(_("nom"), max_length=200)
    kind = models.CharField(_("type"), max_length=10, choices=PoolKind.choices)
    carrier = models.CharField(
        _("porteur"), max_length=200, blank=True, help_text=_("ex. GHT, CRRC, employeur du RSSI")
    )
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="security_pools"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("mutualisation")

    def __str__(self) -> str:
        return self.name


def _convention_path(instance, filename: str) -> str:
    return f"conventions/{instance.sha256[:2]}/{instance.sha256}"


class Convention(models.Model):
    """The pool's convention: a checked document and its dates (in force from start to end)."""

    tenant_path = "pool__region"

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="conventions")
    starts_on = models.DateField(_("début"))
    ends_on = models.DateField(_("fin"))
    file = models.FileField(upload_to=_convention_path)
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=100)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "-pk"]

    def __str__(self) -> str:
        return self.original_name


class MembershipStatus(models.TextChoices):
    INVITED = "invited", _("invitée, en attente d'acceptation")
    ACTIVE = "active", _("membre")
    DECLINED = "declined", _("invitation refusée")
    LEFT = "left", _("sortie")


class Membership(models.Model):
    """A structure in a pool: invited by the ARS, accepted by the structure's RSSI, until it
    leaves or is removed (the row stays, for the history)."""

    tenant_path = "organisation"

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        "tenancy.Organisation", on_delete=models.CASCADE, related_name="pool_memberships"
    )
    status = models.CharField(
        max_length=10, choices=MembershipStatus.choices, default=MembershipStatus.INVITED
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    invited_at = models.DateTimeField(auto_now_add=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    left_at = models.DateTimeField(null=True, blank=True)
    left_reason = models.CharField(_("motif"), max_length=300, blank=True)

    class Meta:
        ordering = ["organisation__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["pool", "organisation"],
                condition=models.Q(status__in=["invited", "active"]),
                name="maturity_membership_current_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.pool} — {self.organisation}"


class Nis2Profile(models.Model):
    """What the NIS 2 classification of a structure rests on: sector, staff, finances."""

    tenant_path = "organisation"

    organisation = models.OneToOneField(
        "tenancy.Organisation", on_delete=models.CASCADE, related_name="nis2_profile"
    )
    sector = models.CharField(_("secteur"), max_length=30)
    employees = models.PositiveIntegerField(_("effectif salarié"))
    turnover = models.DecimalField(
        _("chiffre d'affaires annuel (€)"), max_digits=14, decimal_places=0, default=0
    )
    balance = models.DecimalField(
        _("total du bilan annuel (€)"), max_digits=14, decimal_places=0, default=0
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.organisation} — {self.sector}"
