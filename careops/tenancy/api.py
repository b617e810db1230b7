"""/api/organisations/: the organisation tree as the user may see it, and new child nodes."""

from decimal import Decimal
from typing import Annotated

from django.core import validators
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from ninja import FilterLookup, FilterSchema, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import field_validator

from careops.core import audit
from careops.core.api import (
    READ_ERRORS,
    WRITE_ERRORS,
    current_user,
    service_errors,
    visible_or_404,
)
from careops.tenancy import finess, invitations, roles, scope
from careops.tenancy.models import Organisation, RoleAssignment

router = Router(tags=["organisations"])


class OrganisationOut(Schema):
    id: int
    parent: int | None
    kind: str
    kind_label: str
    name: str
    finess: str | None
    finess_category: str
    category: str
    region_code: str
    activity_weight: float
    activity_unit: str
    path: str
    depth: int

    @staticmethod
    def resolve_parent(obj: Organisation) -> int | None:
        return obj.parent_id

    @staticmethod
    def resolve_kind_label(obj: Organisation) -> str:
        return str(obj.get_kind_display())


class OrganisationDetailOut(OrganisationOut):
    children: list[int]

    @staticmethod
    def resolve_children(obj: Organisation, context) -> list[int]:
        children = scope.restrict(obj.children.all(), current_user(context["request"]))
        return list(children.values_list("pk", flat=True))


class OrganisationFilter(FilterSchema):
    kind: Annotated[str | None, FilterLookup("kind")] = None
    parent: Annotated[int | None, FilterLookup("parent_id")] = None
    finess: Annotated[str | None, FilterLookup("finess")] = None

    @field_validator("finess")
    @classmethod
    def _normalize_finess(cls, value: str | None) -> str | None:
        return finess.normalize(value) if value else value


class OrganisationIn(Schema):
    parent: int
    kind: str
    name: str
    finess: str | None = None
    finess_category: str = ""
    category: str = ""
    region_code: str = ""
    activity_weight: Decimal = Decimal("0")
    activity_unit: str = ""


@router.get("/", response=list[OrganisationOut])
@paginate
def list_organisations(request, filters: Query[OrganisationFilter]):
    """The organisations the user may see, in tree order; filter by kind, parent or FINESS."""
    queryset = scope.restrict(Organisation.objects.all(), current_user(request))
    return filters.filter(queryset).order_by("path")


@router.get("/{organisation_id}", response={200: OrganisationDetailOut, **READ_ERRORS})
def get_organisation(request, organisation_id: int):
    """One organisation, with the ids of the children the user may see and its tree path."""
    return visible_or_404(Organisation.objects.all(), request, organisation_id)


@router.post("/", response={201: OrganisationDetailOut, **WRITE_ERRORS})
@service_errors
def create_organisation(request, payload: OrganisationIn):
    """Create a child node; needs the ``manage`` right on the parent. FINESS is checked."""
    user = current_user(request)
    parent = visible_or_404(Organisation.objects.all(), request, payload.parent)
    if not scope.can(user, "manage", parent):
        raise PermissionDenied(f"Vous ne pouvez pas rattacher d'organisation à « {parent.name} ».")
    fields = payload.model_dump(exclude={"parent"})
    # normalised before full_clean, whose length check runs before the model's own clean()
    fields["finess"] = finess.normalize(fields["finess"] or "") or None
    organisation = Organisation(parent=parent, **fields)
    organisation.full_clean()  # French messages: FINESS key, allowed kind under this parent…
    with transaction.atomic():
        organisation.save()
        audit.record(
            user,
            "organisation.create",
            organisation,
            organisation,
            f"organisation « {organisation.name} » ({organisation.get_kind_display()}) "
            f"créée sous « {parent.name} »",
        )
    return Status(201, organisation)


class RoleAssignmentOut(Schema):
    id: int
    organisation: int
    user: str
    role: str
    role_label: str
    include_subtree: bool

    @staticmethod
    def resolve_organisation(obj: RoleAssignment) -> int:
        return obj.organisation_id

    @staticmethod
    def resolve_user(obj: RoleAssignment) -> str:
        return obj.user.get_username()

    @staticmethod
    def resolve_role_label(obj: RoleAssignment) -> str:
        return str(obj.get_role_display())


class RoleGrantIn(Schema):
    user: str  # an existing account: username or e-mail (invitations go through the web page)
    role: str
    include_subtree: bool = False  # the node only unless asked, and only if the granter may


@router.get("/{organisation_id}/roles", response={200: list[RoleAssignmentOut], **READ_ERRORS})
def list_roles(request, organisation_id: int):
    """The roles granted on one node that the user may see."""
    organisation = visible_or_404(Organisation.objects.all(), request, organisation_id)
    return scope.restrict(
        organisation.role_assignments.select_related("user"), current_user(request)
    ).order_by("role", "user__username")


@router.post("/{organisation_id}/roles", response={201: RoleAssignmentOut, **WRITE_ERRORS})
@service_errors
def grant_role(request, organisation_id: int, payload: RoleGrantIn):
    """Grant a role on a node, as the organisation page does: never a role above the granter's
    own, never over a subtree the granter does not hold (403 otherwise)."""
    organisation = visible_or_404(Organisation.objects.all(), request, organisation_id)
    ident = payload.user.strip()
    try:  # an address with no account behind it: invite that colleague, as the page does
        validators.validate_email(ident)
        invite_email = ident.lower()
    except ValidationError:
        invite_email = ""
    actor = current_user(request)
    assignment = roles.grant(
        actor,
        organisation,
        ident,
        payload.role,
        include_subtree=payload.include_subtree,
        invite_email=invite_email,
    )
    if not assignment.user.has_usable_password():
        invitations.send_invitation(request, actor, assignment)
    return Status(201, assignment)


@router.delete("/roles/{assignment_id}", response={204: None, **WRITE_ERRORS})
@service_errors
def revoke_role(request, assignment_id: int):
    """Remove a grant the user could have given."""
    assignment = visible_or_404(
        RoleAssignment.objects.select_related("organisation", "user"), request, assignment_id
    )
    roles.revoke(current_user(request), assignment)
    return Status(204, None)
