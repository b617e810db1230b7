"""/api/exercises/: the scenario library, crisis exercises (planning, the live run's clock,
injects and main courante), and RETEX actions followed after the exercise.

Every list and object goes through ``scope.restrict`` exactly as the pages do; every write goes
through ``careops.exercises.services`` (the same state checks and French refusals).
"""

import datetime as dt

from django.utils import timezone
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate
from pydantic import Field

from careops.core.api import (
    NOT_FOUND,
    READ_ERRORS,
    WRITE_ERRORS,
    current_user,
    service_errors,
    visible_or_404,
)
from careops.exercises import services
from careops.exercises.engine import scenarios
from careops.exercises.models import (
    ActionStatus,
    EntryKind,
    Exercise,
    Finding,
    Inject,
    LogEntry,
    Participant,
    RetexAction,
)
from careops.tenancy import scope
from careops.tenancy.models import Organisation

router = Router(tags=["exercices de crise"])


# --- schemas -------------------------------------------------------------------------------------


class ScenarioOut(Schema):
    id: str
    version: str
    title: str
    summary: str
    level: str
    duration_minutes: int
    to_confirm: str
    evidence_items: list[str]


class ScenarioDetailOut(ScenarioOut):
    objectives: list[dict]
    roles: list[dict]
    injects: list[dict]
    scale: list[dict]
    criteria: list[dict]
    sha256: str


class ExerciseOut(Schema):
    id: int
    organisation: int
    organisation_name: str
    title: str
    scenario_id: str
    scenario_version: str
    planned_for: dt.datetime
    location: str
    status: str
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    elapsed_seconds: int
    validated_at: dt.datetime | None
    evidence_id: int | None
    continuity_exercise_id: int | None

    @staticmethod
    def resolve_organisation(obj: Exercise) -> int:
        return obj.organisation_id

    @staticmethod
    def resolve_organisation_name(obj: Exercise) -> str:
        return obj.organisation.name

    @staticmethod
    def resolve_elapsed_seconds(obj: Exercise) -> int:
        return services.elapsed(obj)


class ParticipantOut(Schema):
    id: int
    kind: str
    role: str
    name: str
    function: str


class InjectOut(Schema):
    id: int
    code: str
    offset_minutes: int
    channel: str
    sender: str
    recipients: str
    content: str
    expected: str
    delivered_at: dt.datetime | None
    delivered_elapsed: int | None


class LogEntryOut(Schema):
    id: int
    kind: str
    text: str
    at: dt.datetime
    elapsed: int
    author: str

    @staticmethod
    def resolve_author(obj: LogEntry) -> str:
        return obj.author.get_username() if obj.author_id else ""


class RetexFindingOut(Schema):
    id: int
    kind: str
    text: str


class ActionOut(Schema):
    id: int
    exercise: int
    exercise_title: str
    organisation: int
    description: str
    owner: str
    due_on: dt.date
    status: str
    overdue: bool

    @staticmethod
    def resolve_exercise(obj: RetexAction) -> int:
        return obj.exercise_id

    @staticmethod
    def resolve_exercise_title(obj: RetexAction) -> str:
        return obj.exercise.title

    @staticmethod
    def resolve_organisation(obj: RetexAction) -> int:
        return obj.exercise.organisation_id

    @staticmethod
    def resolve_overdue(obj: RetexAction) -> bool:
        return obj.status != ActionStatus.DONE and obj.due_on < timezone.localdate()


class GridCriterionOut(Schema):
    criterion: str
    text: str
    mean: float | None
    ratings: int


class ExerciseDetailOut(ExerciseOut):
    retex_summary: str
    participants: list[ParticipantOut]
    injects: list[InjectOut]
    log: list[LogEntryOut]
    grid: list[GridCriterionOut]
    grid_score: float | None
    findings: list[RetexFindingOut]
    actions: list[ActionOut]
    retex_problems: list[str]

    @staticmethod
    def resolve_participants(obj: Exercise) -> list:
        return obj.api_detail["participants"]

    @staticmethod
    def resolve_injects(obj: Exercise) -> list:
        return obj.api_detail["injects"]

    @staticmethod
    def resolve_log(obj: Exercise) -> list:
        return obj.api_detail["log"]

    @staticmethod
    def resolve_grid(obj: Exercise) -> list:
        return obj.api_detail["grid"]

    @staticmethod
    def resolve_grid_score(obj: Exercise) -> float | None:
        return obj.api_detail["grid_score"]

    @staticmethod
    def resolve_findings(obj: Exercise) -> list:
        return obj.api_detail["findings"]

    @staticmethod
    def resolve_actions(obj: Exercise) -> list:
        return obj.api_detail["actions"]

    @staticmethod
    def resolve_retex_problems(obj: Exercise) -> list[str]:
        return obj.api_detail["retex_problems"]


class PlanIn(Schema):
    organisation: int
    scenario: str = Field(min_length=1, max_length=80)
    planned_for: dt.datetime
    title: str = Field("", max_length=200)
    location: str = Field("", max_length=200)


class ClockIn(Schema):
    move: str = Field(description="start, pause, resume ou end")


class LogIn(Schema):
    kind: str = Field(description="decision, event ou observation")
    text: str = Field(min_length=1, max_length=4000)


class ActionIn(Schema):
    description: str = Field(min_length=1, max_length=300)
    owner: str = Field(min_length=1, max_length=120)
    due_on: dt.date


class ActionStatusIn(Schema):
    status: ActionStatus


# --- helpers -------------------------------------------------------------------------------------


def _exercises(request):
    return scope.restrict(Exercise.objects.select_related("organisation"), current_user(request))


def _detail(request, exercise: Exercise) -> Exercise:
    """The exercise with what ``ExerciseDetailOut`` shows attached (each part restricted)."""
    user = current_user(request)
    mine = {"exercise": exercise}
    results, overall = services.grid_results(exercise)
    exercise.api_detail = {
        "participants": list(scope.restrict(Participant.objects.filter(**mine), user)),
        "injects": list(scope.restrict(Inject.objects.filter(**mine), user)),
        "log": list(scope.restrict(LogEntry.objects.filter(**mine).select_related("author"), user)),
        "grid": [
            {"criterion": r.id, "text": r.text, "mean": r.mean, "ratings": r.ratings}
            for r in results
        ],
        "grid_score": overall,
        "findings": list(scope.restrict(Finding.objects.filter(**mine), user)),
        "actions": list(
            scope.restrict(RetexAction.objects.filter(**mine).select_related("exercise"), user)
        ),
        "retex_problems": [str(p) for p in services.retex_problems(exercise)],
    }
    return exercise


def _scenario(item: scenarios.Scenario, detail: bool = False) -> dict:
    data = item.as_json()
    if not detail:
        keep = ScenarioOut.model_fields
        data = {k: v for k, v in data.items() if k in keep}
    return data


# --- scenario library ----------------------------------------------------------------------------


@router.get("/scenarios", response=list[ScenarioOut])
def list_scenarios(request):
    """The shipped scenario library (newest version of each scenario)."""
    return [_scenario(s) for s in scenarios.shipped()]


@router.get("/scenarios/{ident}", response={200: ScenarioDetailOut, **READ_ERRORS})
def get_scenario(request, ident: str, version: str | None = None):
    """One scenario: objectives, crisis-cell roles, inject timeline, observers' grid."""
    try:
        item = scenarios.load(ident, version)
    except scenarios.ScenarioError as exc:
        raise HttpError(404, str(exc)) from exc
    return _scenario(item, detail=True)


# --- RETEX actions -------------------------------------------------------------------------------


def _actions(request):
    return scope.restrict(RetexAction.objects.select_related("exercise"), current_user(request))


@router.get("/actions", response=list[ActionOut])
@paginate
def list_actions(request, status: ActionStatus | None = None, open: bool = False):
    """RETEX actions of every exercise the user may see, earliest due first (``open=true``:
    the ones not done, as on the cockpit)."""
    found = _actions(request)
    if status:
        found = found.filter(status=status)
    if open:
        found = found.exclude(status=ActionStatus.DONE)
    return found.order_by("due_on", "pk")


@router.patch("/actions/{action_id}", response={200: ActionOut, **WRITE_ERRORS})
@service_errors
def set_action_status(request, action_id: int, payload: ActionStatusIn):
    """Update a RETEX action's status (also after the RETEX is validated)."""
    action = _actions(request).filter(pk=action_id).first()
    if action is None:
        raise HttpError(404, NOT_FOUND)
    return services.set_action_status(current_user(request), action, payload.status)


# --- exercises -----------------------------------------------------------------------------------


@router.get("", response=list[ExerciseOut])
@paginate
def list_exercises(request, status: str | None = None):
    """The crisis exercises the user may see, the latest planned first (``status``: planned,
    running, paused, ended, validated)."""
    found = _exercises(request)
    if status:
        found = found.filter(status=status)
    return found.order_by("-planned_for", "-pk")


@router.get("/{exercise_id}", response={200: ExerciseDetailOut, **READ_ERRORS})
def get_exercise(request, exercise_id: int):
    """One exercise: participants, inject timeline (delivered or not), main courante, the
    observers' grid results, RETEX findings and actions, and what still prevents validation."""
    return _detail(request, visible_or_404(_exercises(request), request, exercise_id))


@router.post("", response={201: ExerciseDetailOut, **WRITE_ERRORS})
@service_errors
def plan_exercise(request, payload: PlanIn):
    """Plan an exercise from a library scenario (its injects are copied into the exercise)."""
    organisation = visible_or_404(Organisation.objects.all(), request, payload.organisation)
    planned_for = payload.planned_for
    if timezone.is_naive(planned_for):
        planned_for = timezone.make_aware(planned_for)
    exercise = services.plan(
        current_user(request),
        organisation,
        payload.scenario.strip(),
        planned_for,
        payload.title.strip(),
        payload.location.strip(),
    )
    return Status(201, _detail(request, exercise))


@router.post("/{exercise_id}/clock", response={200: ExerciseOut, **WRITE_ERRORS})
@service_errors
def move_clock(request, exercise_id: int, payload: ClockIn):
    """Start, pause, resume or end the exercise (each move is a line of the main courante)."""
    exercise = visible_or_404(_exercises(request), request, exercise_id)
    return services.move_clock(current_user(request), exercise, payload.move)


@router.post(
    "/{exercise_id}/injects/{inject_id}/deliver",
    response={200: InjectOut, **WRITE_ERRORS},
)
@service_errors
def deliver_inject(request, exercise_id: int, inject_id: int):
    """Mark an inject delivered now (once: a second call keeps the first timestamp)."""
    exercise = visible_or_404(_exercises(request), request, exercise_id)
    inject = visible_or_404(Inject.objects.filter(exercise=exercise), request, inject_id)
    return services.deliver(current_user(request), exercise, inject)


@router.post("/{exercise_id}/log", response={201: LogEntryOut, **WRITE_ERRORS})
@service_errors
def add_log_entry(request, exercise_id: int, payload: LogIn):
    """Add a decision, event or observation to the main courante of a running exercise
    (timestamped by the server, never edited)."""
    exercise = visible_or_404(_exercises(request), request, exercise_id)
    if payload.kind not in (EntryKind.DECISION, EntryKind.EVENT, EntryKind.OBSERVATION):
        from django.core.exceptions import ValidationError

        raise ValidationError({"kind": ["Nature inconnue : decision, event ou observation."]})
    entry = services.log(current_user(request), exercise, payload.kind, payload.text)
    return Status(201, entry)


@router.post("/{exercise_id}/actions", response={201: ActionOut, **WRITE_ERRORS})
@service_errors
def add_action(request, exercise_id: int, payload: ActionIn):
    """Add a RETEX action (owner, due date) to an ended exercise not yet validated."""
    exercise = visible_or_404(_exercises(request), request, exercise_id)
    action = RetexAction(
        description=payload.description.strip(), owner=payload.owner.strip(), due_on=payload.due_on
    )
    return Status(201, services.add_action(current_user(request), exercise, action))
