"""System endpoints (/api/system/…) and the helpers every API router shares.

The helpers keep views thin and uniform: ``visible_or_404`` reads one object through the
restriction helper (an object out of scope is "not found", so its existence never leaks), and
``service_errors`` turns the services' PermissionDenied / ValidationError into 403 / 422 answers.
"""

import datetime as dt
import os
from functools import wraps

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import JsonResponse
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from careops.core.models import WorkerPing
from careops.core.tasks import ping_worker
from careops.tenancy import scope
from careops.tenancy.choices import Role
from careops.tenancy.models import RoleAssignment

NOT_FOUND = "Ressource introuvable."
FORBIDDEN = "Vous n'avez pas les droits nécessaires pour cette action."


class ErrorOut(Schema):
    """An error answer: a French message, and for a rejected input the messages per field."""

    detail: str
    errors: dict[str, list[str]] | None = None


# Error answers every router documents alongside its own.
READ_ERRORS = {404: ErrorOut}
WRITE_ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def current_user(request):
    """The authenticated user of an API request (by token or by browser session)."""
    return request.auth


def visible_or_404(queryset: QuerySet, request, pk: int, action: str = "view") -> Model:
    """Return the object ``pk`` if the user may reach it for ``action``, else answer 404."""
    obj = scope.restrict(queryset, current_user(request), action).filter(pk=pk).first()
    if obj is None:
        raise HttpError(404, NOT_FOUND)
    return obj


def validation_errors(exc: ValidationError) -> dict[str, list[str]]:
    """The messages of a Django ValidationError, per field ("__all__" for the whole input)."""
    if hasattr(exc, "error_dict"):
        return {field: list(messages) for field, messages in exc.message_dict.items()}
    return {NON_FIELD_ERRORS: list(exc.messages)}


def service_errors(view):
    """Answer PermissionDenied with 403 and ValidationError with 422, both as ``{"detail": …}``."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as exc:
            return JsonResponse({"detail": str(exc) or FORBIDDEN}, status=403)
        except ValidationError as exc:
            errors = validation_errors(exc)
            detail = " ".join(message for messages in errors.values() for message in messages)
            return JsonResponse({"detail": detail, "errors": errors}, status=422)

    return wrapper


def require_role(request, role: str) -> None:
    """Raise PermissionDenied unless the user holds ``role`` somewhere."""
    if role not in scope.roles(current_user(request)):
        raise PermissionDenied(f"Action réservée au rôle « {Role(role).label} ».")


# --- /api/system ---------------------------------------------------------------------------

router = Router(tags=["système"])


class GrantOut(Schema):
    role: str
    role_label: str
    organisation: int
    organisation_name: str
    include_subtree: bool


class MeOut(Schema):
    id: int
    username: str
    email: str
    roles: list[str]
    grants: list[GrantOut]


class WorkerPingCreated(Schema):
    id: int


class WorkerPingOut(Schema):
    id: int
    done: bool
    worker_pid: int | None
    worker_host: str
    requested_by_pid: int
    created_at: dt.datetime


@router.get("/me", response=MeOut)
def me(request):
    """The authenticated user, the roles they hold and the nodes they are granted."""
    user = current_user(request)
    assignments = (
        scope.restrict(RoleAssignment.objects.filter(user=user), user)
        .select_related("organisation")
        .order_by("organisation__path", "role")
    )
    return {
        "id": user.pk,
        "username": user.get_username(),
        "email": user.email,
        "roles": sorted(scope.roles(user)),
        "grants": [
            {
                "role": a.role,
                "role_label": str(a.get_role_display()),
                "organisation": a.organisation_id,
                "organisation_name": a.organisation.name,
                "include_subtree": a.include_subtree,
            }
            for a in assignments
        ],
    }


@router.post("/worker-ping", response={201: WorkerPingCreated, 403: ErrorOut})
@service_errors
def create_worker_ping(request):
    """Send a round trip through the task queue (administrators only); poll it by its id."""
    require_role(request, Role.ADMINISTRATOR)
    ping = WorkerPing.objects.create(requested_by_pid=os.getpid())
    # enqueue once the row is committed, so that a fast worker always finds it
    transaction.on_commit(lambda: ping_worker(ping.pk))
    return Status(201, {"id": ping.pk})


@router.get("/worker-ping/{ping_id}", response={200: WorkerPingOut, 403: ErrorOut, 404: ErrorOut})
@service_errors
def worker_ping(request, ping_id: int):
    """Where a worker ping stands: done, and which process on which host ran it."""
    require_role(request, Role.ADMINISTRATOR)
    ping = WorkerPing.objects.filter(pk=ping_id).first()  # platform data, not tenant data
    if ping is None:
        raise HttpError(404, NOT_FOUND)
    return ping
