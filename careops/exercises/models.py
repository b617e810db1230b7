"""Crisis exercises (D1.O3): planned from a library scenario, run live (inject timeline, main
courante), rated by observers, closed by a RETEX whose actions are followed on the cockpit."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from careops.continuity.models import ActionStatus  # the same statuses as PCA actions
from careops.exercises.engine.clock import format_elapsed
from careops.exercises.engine.scenarios import CHANNELS


class ExerciseStatus(models.TextChoices):
    PLANNED = "planned", _("planifié")
    RUNNING = "running", _("en cours")
    PAUSED = "paused", _("en pause")
    ENDED = "ended", _("terminé")
    VALIDATED = "validated", _("RETEX validé")


class Exercise(models.Model):
    """One crisis exercise of an organisation; the scenario is copied at planning time so that a
    new version of the library never changes an exercise already planned or played."""

    tenant_path = "organisation"

    organisation = models.ForeignKey(
        "tenancy.Organisation", on_delete=models.CASCADE, related_name="crisis_exercises"
    )
    title = models.CharField(_("intitulé"), max_length=200)
    scenario_id = models.CharField(_("scénario"), max_length=80)
    scenario_version = models.CharField(max_length=20)
    scenario_sha256 = models.CharField(max_length=64)
    scenario = models.JSONField(default=dict)
    planned_for = models.DateTimeField(_("date et heure prévues"))
    location = models.CharField(_("lieu"), max_length=200, blank=True)
    status = models.CharField(
        _("état"), max_length=12, choices=ExerciseStatus.choices, default=ExerciseStatus.PLANNED
    )
    started_at = models.DateTimeField(null=True, blank=True)
    running_since = models.DateTimeField(null=True, blank=True)
    elapsed_before = models.PositiveIntegerField(default=0)  # seconds played before the last pause
    ended_at = models.DateTimeField(null=True, blank=True)
    retex_summary = models.TextField(_("synthèse du RETEX"), blank=True)
    validated_at = models.DateTimeField(null=True, blank=True)
    validated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    evidence = models.ForeignKey(
        "compliance.Evidence", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    continuity_exercise = models.OneToOneField(
        "continuity.Exercise",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="crisis_exercise",
        verbose_name=_("exercice de PCA (Continuité)"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-planned_for", "-pk"]
        verbose_name = _("exercice de crise")
        verbose_name_plural = _("exercices de crise")

    def __str__(self) -> str:
        return self.title

    @property
    def is_planned(self) -> bool:
        return self.status == ExerciseStatus.PLANNED

    @property
    def is_live(self) -> bool:
        return self.status in (ExerciseStatus.RUNNING, ExerciseStatus.PAUSED)

    @property
    def is_closed(self) -> bool:
        return self.status == ExerciseStatus.VALIDATED


class ParticipantKind(models.TextChoices):
    PLAYER = "player", _("joueur (cellule de crise)")
    ANIMATOR = "animator", _("animateur")
    OBSERVER = "observer", _("observateur")


class Participant(models.Model):
    tenant_path = "exercise__organisation"

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="participants")
    kind = models.CharField(
        _("fonction dans l'exercice"), max_length=10, choices=ParticipantKind.choices
    )
    role = models.CharField(_("rôle dans la cellule"), max_length=60, blank=True)
    name = models.CharField(_("nom"), max_length=120)
    function = models.CharField(_("fonction dans l'établissement"), max_length=120, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("participant")

    def __str__(self) -> str:
        return self.name


class Inject(models.Model):
    """An inject of this exercise (copied from the scenario, adaptable while planned)."""

    tenant_path = "exercise__organisation"

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="injects")
    code = models.CharField(_("repère"), max_length=20)
    offset_minutes = models.PositiveIntegerField(_("décalage (minutes)"))
    channel = models.CharField(_("canal"), max_length=20)
    sender = models.CharField(_("émetteur"), max_length=200)
    recipients = models.CharField(_("destinataires"), max_length=300)
    content = models.TextField(_("contenu"))
    expected = models.TextField(_("réactions attendues"), blank=True)
    delivered_at = models.DateTimeField(_("délivré le"), null=True, blank=True)
    delivered_elapsed = models.PositiveIntegerField(null=True, blank=True)
    delivered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["offset_minutes", "pk"]
        verbose_name = _("inject")

    def __str__(self) -> str:
        return f"{self.code} (T+{self.offset_minutes} min)"

    @property
    def delivered_label(self) -> str:
        return "" if self.delivered_elapsed is None else format_elapsed(self.delivered_elapsed)

    @property
    def channel_label(self) -> str:
        """The channel in French (« constat sur le SI »), not its identifier (« systeme »)."""
        return CHANNELS.get(self.channel, self.channel)


class EntryKind(models.TextChoices):
    DECISION = "decision", _("décision")
    EVENT = "event", _("événement")
    OBSERVATION = "observation", _("observation")
    INJECT = "inject", _("inject délivré")
    CLOCK = "clock", _("chronomètre")


class LogEntry(models.Model):
    """One line of the main courante, saved the moment it is typed (never edited)."""

    tenant_path = "exercise__organisation"

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="log")
    kind = models.CharField(_("nature"), max_length=12, choices=EntryKind.choices)
    text = models.TextField(_("texte"))
    at = models.DateTimeField(auto_now_add=True)
    elapsed = models.PositiveIntegerField(default=0)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("entrée de main courante")

    def __str__(self) -> str:
        return self.text[:60]

    @property
    def elapsed_label(self) -> str:
        return format_elapsed(self.elapsed)


class Rating(models.Model):
    """An observer's rating of one criterion of the grid."""

    tenant_path = "exercise__organisation"

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="ratings")
    criterion = models.CharField(max_length=20)
    observer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    value = models.IntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["exercise", "criterion", "observer"], name="exercises_rating_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.criterion} = {self.value}"


class FindingKind(models.TextChoices):
    STRENGTH = "strength", _("point fort")
    WEAKNESS = "weakness", _("point à améliorer")


class Finding(models.Model):
    tenant_path = "exercise__organisation"

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="findings")
    kind = models.CharField(_("nature"), max_length=10, choices=FindingKind.choices)
    text = models.TextField(_("constat"))

    class Meta:
        ordering = ["kind", "pk"]
        verbose_name = _("constat")

    def __str__(self) -> str:
        return self.text[:60]


class RetexAction(models.Model):
    tenant_path = "exercise__organisation"

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="actions")
    description = models.CharField(_("action"), max_length=300)
    owner = models.CharField(_("responsable"), max_length=120)
    due_on = models.DateField(_("échéance"))
    status = models.CharField(
        _("statut"), max_length=12, choices=ActionStatus.choices, default=ActionStatus.OPEN
    )

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("action RETEX")

    def __str__(self) -> str:
        return self.description
