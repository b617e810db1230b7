"""Every write of a crisis exercise goes through here: planning, the live run (clock, injects,
main courante), the observers' grid, the RETEX and its validation into D1.O3 evidence, and the
link with a PCA field exercise recorded in Continuité. Each write is saved at once (nothing is
held in a page), checked against the user's scope and written to the audit trail."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from careops.compliance import services as compliance
from careops.core import audit
from careops.exercises.engine import clock, scenarios
from careops.exercises.models import (
    ActionStatus,
    EntryKind,
    Exercise,
    ExerciseStatus,
    Finding,
    Inject,
    LogEntry,
    Participant,
    Rating,
    RetexAction,
)
from careops.tenancy import scope


def _require(user, action: str, obj) -> None:
    if not scope.can(user, action, obj):
        raise PermissionDenied(_("Vous ne pouvez pas modifier cet exercice."))


def _lock(exercise: Exercise) -> Exercise:
    """The exercise row, locked for the transaction (two animators clicking at once)."""
    return Exercise.objects.select_for_update().get(pk=exercise.pk)


def elapsed(exercise: Exercise, now: dt.datetime | None = None) -> int:
    return clock.elapsed_seconds(
        exercise.elapsed_before, exercise.running_since, now or timezone.now()
    )


# --- planning --------------------------------------------------------------------------------


# an exercise is planned (or recorded) at most this far from today: a date in year 9999 was taken
PLAN_SPAN = dt.timedelta(days=5 * 366)


def plan(
    user,
    organisation,
    scenario_id: str,
    planned_for: dt.datetime,
    title: str = "",
    location: str = "",
) -> Exercise:
    """Plan an exercise from a library scenario: its injects are copied and can be adapted."""
    if not scope.can(user, "change", organisation):
        raise PermissionDenied(
            _("Vous ne pouvez pas planifier d'exercice pour cette organisation.")
        )
    today = timezone.localdate()
    earliest, latest = today - PLAN_SPAN, today + PLAN_SPAN
    if not earliest <= timezone.localdate(planned_for) <= latest:
        raise ValidationError(
            {
                "planned_for": [
                    _(
                        "La date prévue doit être comprise entre le %(earliest)s et le "
                        "%(latest)s (un exercice passé se saisit à sa date réelle)."
                    )
                    % {"earliest": f"{earliest:%d/%m/%Y}", "latest": f"{latest:%d/%m/%Y}"}
                ]
            }
        )
    try:
        scenario = scenarios.load(scenario_id)
    except scenarios.ScenarioError as exc:
        raise ValidationError(str(exc)) from exc
    with transaction.atomic():
        exercise = Exercise.objects.create(
            organisation=organisation,
            title=title or f"{scenario.title} — {timezone.localtime(planned_for):%d/%m/%Y}",
            scenario_id=scenario.id,
            scenario_version=scenario.version,
            scenario_sha256=scenario.sha256,
            scenario=scenario.as_json(),
            planned_for=planned_for,
            location=location,
            created_by=user,
        )
        Inject.objects.bulk_create(
            Inject(
                exercise=exercise,
                code=i.id,
                offset_minutes=i.offset,
                channel=i.channel,
                sender=i.sender,
                recipients=", ".join(scenario.role(r).title for r in i.to),
                content=i.content,
                expected="\n".join(i.expected),
            )
            for i in scenario.injects
        )
        audit.record(
            user,
            "exercises.plan",
            exercise,
            organisation,
            f"exercice de crise « {exercise.title} » planifié (scénario {scenario.id} v{scenario.version})",
        )
    return exercise


def _check(user, exercise: Exercise, allowed: bool, refusal: str) -> None:
    _require(user, "change", exercise)
    if not allowed:
        raise ValidationError(refusal)


def _check_planned(user, exercise: Exercise) -> None:
    refusal = _("L'exercice a commencé : la chronologie ne se modifie plus.")
    _check(user, exercise, exercise.is_planned, refusal)


def save_inject(user, exercise: Exercise, inject: Inject) -> Inject:
    """Save an inject adapted (or added) before the start."""
    _check_planned(user, exercise)
    if inject.channel not in scenarios.CHANNELS:
        raise ValidationError(_("Canal inconnu."))
    inject.exercise = exercise
    created = inject.pk is None
    inject.save()
    audit.record(
        user,
        "exercises.inject.create" if created else "exercises.inject.update",
        inject,
        exercise.organisation,
        f"inject {inject.code} (T+{inject.offset_minutes} min) de « {exercise.title} » {'ajouté' if created else 'adapté'}",
    )
    return inject


def delete_inject(user, exercise: Exercise, inject: Inject) -> None:
    _check_planned(user, exercise)
    audit.record(
        user,
        "exercises.inject.delete",
        inject,
        exercise.organisation,
        f"inject {inject.code} retiré de « {exercise.title} »",
    )
    inject.delete()


def add_participant(user, exercise: Exercise, participant: Participant) -> Participant:
    _require(user, "change", exercise)
    if exercise.is_closed:
        raise ValidationError(_("RETEX validé : l'exercice ne se modifie plus."))
    participant.exercise = exercise
    participant.save()
    audit.record(
        user,
        "exercises.participant.create",
        participant,
        exercise.organisation,
        f"{participant.name} ({participant.get_kind_display()}) ajouté à « {exercise.title} »",
    )
    return participant


def remove_participant(user, exercise: Exercise, participant: Participant) -> None:
    _require(user, "change", exercise)
    if exercise.is_closed:
        raise ValidationError(_("RETEX validé : l'exercice ne se modifie plus."))
    audit.record(
        user,
        "exercises.participant.delete",
        participant,
        exercise.organisation,
        f"{participant.name} retiré de « {exercise.title} »",
    )
    participant.delete()


# --- the live run ----------------------------------------------------------------------------

CLOCK_MOVES = {
    "start": ({ExerciseStatus.PLANNED}, ExerciseStatus.RUNNING, "exercice démarré"),
    "pause": ({ExerciseStatus.RUNNING}, ExerciseStatus.PAUSED, "exercice en pause"),
    "resume": ({ExerciseStatus.PAUSED}, ExerciseStatus.RUNNING, "exercice repris"),
    "end": (
        {ExerciseStatus.RUNNING, ExerciseStatus.PAUSED},
        ExerciseStatus.ENDED,
        "fin de l'exercice",
    ),
}


def move_clock(user, exercise: Exercise, move: str) -> Exercise:
    """Start, pause, resume or end; each move is a line of the main courante."""
    _require(user, "change", exercise)
    if move not in CLOCK_MOVES:
        raise ValidationError(_("Action inconnue."))
    allowed, target, text = CLOCK_MOVES[move]
    with transaction.atomic():
        exercise = _lock(exercise)
        if exercise.status not in allowed:
            raise ValidationError(
                _("Impossible dans l'état « %(state)s ».")
                % {"state": exercise.get_status_display()}
            )
        now = timezone.now()
        played = elapsed(exercise, now)
        exercise.elapsed_before = played
        exercise.running_since = now if target == ExerciseStatus.RUNNING else None
        if move == "start":
            exercise.started_at = now
        if move == "end":
            exercise.ended_at = now
        exercise.status = target
        exercise.save(
            update_fields=["status", "elapsed_before", "running_since", "started_at", "ended_at"]
        )
        LogEntry.objects.create(
            exercise=exercise, kind=EntryKind.CLOCK, text=text, elapsed=played, author=user
        )
        audit.record(
            user,
            f"exercises.{move}",
            exercise,
            exercise.organisation,
            f"« {exercise.title} » : {text}",
        )
    return exercise


def _check_live(user, exercise: Exercise) -> None:
    refusal = _("L'exercice n'est pas en cours : démarrez-le d'abord.")
    _check(user, exercise, exercise.is_live, refusal)


def deliver(user, exercise: Exercise, inject: Inject) -> Inject:
    """Mark an inject delivered now (once: a second click keeps the first timestamp)."""
    with transaction.atomic():
        exercise = _lock(exercise)
        _check_live(user, exercise)
        inject = Inject.objects.select_for_update().get(pk=inject.pk, exercise=exercise)
        if inject.delivered_at is not None:
            return inject
        now = timezone.now()
        inject.delivered_at, inject.delivered_by = now, user
        inject.delivered_elapsed = elapsed(exercise, now)
        inject.save(update_fields=["delivered_at", "delivered_by", "delivered_elapsed"])
        LogEntry.objects.create(
            exercise=exercise,
            kind=EntryKind.INJECT,
            text=f"{inject.code} délivré ({inject.sender} → {inject.recipients}) : {inject.content}",
            elapsed=inject.delivered_elapsed,
            author=user,
        )
    return inject


def log(user, exercise: Exercise, kind: str, text: str) -> LogEntry:
    """Add a line to the main courante, timestamped by the server, saved at once."""
    text = (text or "").strip()
    if kind not in (EntryKind.DECISION, EntryKind.EVENT, EntryKind.OBSERVATION):
        raise ValidationError(_("Nature d'entrée inconnue."))
    if not text:
        raise ValidationError(_("Entrée vide : rien n'a été enregistré."))
    _check_live(user, exercise)
    return LogEntry.objects.create(
        exercise=exercise, kind=kind, text=text[:4000], elapsed=elapsed(exercise), author=user
    )


def rate(user, exercise: Exercise, ratings: dict[str, tuple[int | None, str]]) -> int:
    """Record the user's ratings of the grid (one per criterion, replaced when changed)."""
    _require(user, "change", exercise)
    if exercise.status == ExerciseStatus.PLANNED or exercise.is_closed:
        raise ValidationError(
            _("La grille se remplit pendant ou après l'exercice, avant la validation du RETEX.")
        )
    scale = {s["value"] for s in exercise.scenario["scale"]}
    criteria = {c["id"] for c in exercise.scenario["criteria"]}
    saved = 0
    with transaction.atomic():
        for criterion, (value, comment) in ratings.items():
            if criterion not in criteria or (value is not None and value not in scale):
                raise ValidationError(
                    _("Critère ou note hors de la grille : rien n'a été enregistré.")
                )
            _rating, created = Rating.objects.update_or_create(
                exercise=exercise,
                criterion=criterion,
                observer=user,
                defaults={"value": value, "comment": comment.strip()[:2000]},
            )
            saved += 1
    return saved


def grid_results(exercise: Exercise):
    ratings = list(exercise.ratings.values_list("criterion", "value", "comment"))
    top = max(s["value"] for s in exercise.scenario["scale"])
    return clock.grid_results(exercise.scenario["criteria"], ratings, top)


# --- RETEX -----------------------------------------------------------------------------------


def _check_retex(user, exercise: Exercise) -> None:
    refusal = _("Le RETEX se rédige une fois l'exercice terminé et avant sa validation.")
    _check(user, exercise, exercise.status == ExerciseStatus.ENDED, refusal)


def save_summary(user, exercise: Exercise, summary: str) -> None:
    _check_retex(user, exercise)
    exercise.retex_summary = summary.strip()
    exercise.save(update_fields=["retex_summary"])
    audit.record(
        user,
        "exercises.retex",
        exercise,
        exercise.organisation,
        f"synthèse du RETEX de « {exercise.title} »",
    )


def add_finding(user, exercise: Exercise, kind: str, text: str) -> Finding:
    _check_retex(user, exercise)
    finding = Finding(exercise=exercise, kind=kind, text=text.strip())
    finding.full_clean()
    finding.save()
    return finding


def add_action(user, exercise: Exercise, action: RetexAction) -> RetexAction:
    _check_retex(user, exercise)
    action.exercise = exercise
    action.save()
    audit.record(
        user,
        "exercises.action.create",
        action,
        exercise.organisation,
        f"action RETEX « {action.description} » ({action.owner}, {action.due_on:%d/%m/%Y})",
    )
    return action


def set_action_status(user, action: RetexAction, status: str) -> RetexAction:
    """Actions are followed after the validation too (that is what the cockpit is for)."""
    _require(user, "change", action)
    if status not in ActionStatus.values:
        raise ValidationError(_("Statut inconnu."))
    action.status = status
    action.save(update_fields=["status"])
    audit.record(
        user,
        "exercises.action.update",
        action,
        action.exercise.organisation,
        f"action RETEX « {action.description} » : {action.get_status_display()}",
    )
    return action


def retex_problems(exercise: Exercise) -> list[str]:
    """What still prevents validating the RETEX (empty when it can be validated)."""
    problems = []
    if exercise.status != ExerciseStatus.ENDED:
        problems.append(_("l'exercice n'est pas terminé"))
    if not exercise.retex_summary.strip():
        problems.append(_("la synthèse du RETEX n'est pas rédigée"))
    if not exercise.actions.exists():
        problems.append(_("le plan d'actions est vide"))
    if not exercise.injects.filter(delivered_at__isnull=False).exists():
        problems.append(_("aucun inject n'a été délivré"))
    return problems


def validate_retex(user, exercise: Exercise):
    """Freeze the exercise and file it as the crisis-exercise evidence (D1.O3, D1BIS.O3)."""
    _require(user, "change", exercise)
    problems = retex_problems(exercise)
    if problems:
        raise ValidationError(_("RETEX non validé : %(why)s.") % {"why": " ; ".join(problems)})
    results, overall = grid_results(exercise)
    held_on = timezone.localdate(exercise.started_at or exercise.planned_for)
    actions = [
        f"{a.description} ({a.owner}, {a.due_on:%d/%m/%Y}, {a.get_status_display()})"
        for a in exercise.actions.all()
    ]
    with transaction.atomic():
        evidence = compliance.create_evidence(
            user,
            exercise.organisation,
            exercise.scenario.get("evidence_kind", "crisis_exercise"),
            f"Exercice de crise du {held_on:%d/%m/%Y} — {exercise.title}",
            compliance.RevisionInput(
                effective_date=held_on,
                attributes={
                    "scenario": f"{exercise.scenario['title']} (v{exercise.scenario_version})",
                    "exercise_id": exercise.pk,
                    "duration_minutes": round(elapsed(exercise) / 60),
                    "injects_delivered": exercise.injects.filter(
                        delivered_at__isnull=False
                    ).count(),
                    "decisions": exercise.log.filter(kind=EntryKind.DECISION).count(),
                    "grid_score": None if overall is None else round(overall, 4),
                    "retex": exercise.retex_summary[:4000],
                    "improvement_plan": actions,
                },
                comment=_("Exercice de crise conduit dans careops."),
            ),
            item_codes=exercise.scenario.get("evidence_items", []),
            source="exercises",
        )
        exercise.status = ExerciseStatus.VALIDATED
        exercise.validated_at, exercise.validated_by, exercise.evidence = (
            timezone.now(),
            user,
            evidence,
        )
        exercise.save(update_fields=["status", "validated_at", "validated_by", "evidence"])
        audit.record(
            user,
            "exercises.validate",
            exercise,
            exercise.organisation,
            f"RETEX de « {exercise.title} » validé, versé en preuve",
        )
    return evidence


# --- the same event in Continuité ------------------------------------------------------------


def continuity_candidates(user, exercise: Exercise):
    """PCA exercises of the same organisation the user may change, not linked to another."""
    from careops.continuity.models import Exercise as PcaExercise

    return (
        scope.restrict(PcaExercise.objects.all(), user, "change")
        .filter(campaign__organisation=exercise.organisation)
        .filter(crisis_exercise__isnull=True)
        .select_related("campaign")
        .order_by("-held_on")
    )


def bia_campaigns(user, exercise: Exercise):
    from careops.continuity.models import Campaign

    return scope.restrict(Campaign.objects.all(), user, "change").filter(
        organisation=exercise.organisation
    )


def link_continuity(user, exercise: Exercise, pca_exercise_id: int | None) -> None:
    """Say that a PCA field exercise recorded in Continuité is this same event (or unlink)."""
    _require(user, "change", exercise)
    pca = None
    if pca_exercise_id is not None:
        pca = continuity_candidates(user, exercise).filter(pk=pca_exercise_id).first()
        if pca is None:
            raise ValidationError(_("Exercice de PCA introuvable dans cette organisation."))
    exercise.continuity_exercise = pca
    exercise.save(update_fields=["continuity_exercise"])
    audit.record(
        user,
        "exercises.link",
        exercise,
        exercise.organisation,
        f"« {exercise.title} » relié à l'exercice de PCA {pca}"
        if pca
        else f"« {exercise.title} » délié de Continuité",
    )


def record_in_continuity(user, exercise: Exercise, campaign_id: int):
    """Record this exercise as a PCA field exercise of a BIA campaign (date, participants,
    decisions, RETEX and actions copied), linked, so that it is entered once."""
    from careops.continuity.models import Exercise as PcaExercise
    from careops.continuity.models import ExerciseKind
    from careops.continuity.models import RetexAction as PcaAction

    _require(user, "change", exercise)
    if exercise.continuity_exercise_id:
        raise ValidationError(_("Cet exercice est déjà relié à un exercice de PCA."))
    if exercise.status not in (ExerciseStatus.ENDED, ExerciseStatus.VALIDATED):
        raise ValidationError(_("Terminez l'exercice avant de l'enregistrer dans Continuité."))
    campaign = bia_campaigns(user, exercise).filter(pk=campaign_id).first()
    if campaign is None:
        raise ValidationError(_("Campagne BIA introuvable dans cette organisation."))
    decisions = [e.text for e in exercise.log.filter(kind=EntryKind.DECISION)]
    with transaction.atomic():
        pca = PcaExercise.objects.create(
            campaign=campaign,
            held_on=timezone.localdate(exercise.started_at or exercise.planned_for),
            kind=ExerciseKind.FIELD,
            perimeter=exercise.location or exercise.organisation.name,
            participants="\n".join(
                f"{p.name} — {p.role or p.get_kind_display()}" for p in exercise.participants.all()
            ),
            duration_hours=round(elapsed(exercise) / 3600, 2),
            results="\n".join(f"Décision : {d}" for d in decisions)[:10000],
            retex=exercise.retex_summary,
        )
        PcaAction.objects.bulk_create(
            PcaAction(
                exercise=pca,
                description=a.description,
                owner=a.owner,
                due_on=a.due_on,
                status=a.status,
            )
            for a in exercise.actions.all()
        )
        exercise.continuity_exercise = pca
        exercise.save(update_fields=["continuity_exercise"])
        audit.record(
            user,
            "exercises.link",
            exercise,
            exercise.organisation,
            f"« {exercise.title} » enregistré comme exercice de PCA de « {campaign} »",
        )
    return pca
