"""Organisation tree pages: list, detail, add and edit a node."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from careops.catalogue.models import ReferentialVersion
from careops.compliance.models import Assessment
from careops.core import audit
from careops.tenancy import invitations, scope
from careops.tenancy import roles as role_service
from careops.tenancy.forms import GrantForm, OrganisationForm
from careops.tenancy.models import Organisation, RoleAssignment
from careops.tenancy.shortcuts import get_in_scope


@login_required
def org_list(request):
    nodes = scope.restrict(Organisation.objects.all(), request.user).order_by("path")
    return render(request, "tenancy/list.html", {"nodes": nodes})


@login_required
def org_detail(request, pk):
    node = get_in_scope(Organisation, request.user, pk=pk)
    parent = (
        scope.restrict(Organisation.objects.filter(pk=node.parent_id), request.user).first()
        if node.parent_id
        else None
    )
    children = scope.restrict(node.children.all(), request.user).order_by("name")
    assessments = scope.restrict(
        Assessment.objects.filter(candidate=node), request.user
    ).select_related("referential_version")
    return render(
        request,
        "tenancy/detail.html",
        {
            "node": node,
            "parent": parent,
            "children": children,
            "assessments": assessments,
            "can_manage": scope.can(request.user, "manage", node),
            "can_change": scope.can(request.user, "change", node),
            "versions": ReferentialVersion.objects.filter(is_current=True).order_by("domain"),
            "roles": scope.restrict(node.role_assignments.all(), request.user).select_related(
                "user"
            ),
            "grant_form": _grant_form(request, node),
            "grantable": role_service.grantable_roles(request.user, node),
        },
    )


def _grant_form(request, node, data=None):
    grantable = role_service.grantable_roles(request.user, node)
    if not grantable:
        return None
    return GrantForm(
        data,
        roles=grantable,
        subtree_allowed=role_service.can_grant_subtree(request.user, node),
    )


@login_required
@require_POST
def role_grant(request, pk):
    node = get_in_scope(Organisation, request.user, pk=pk)
    form = _grant_form(request, node, request.POST)
    if form is None:
        raise PermissionDenied
    if form.is_valid():
        try:
            assignment = role_service.grant(
                request.user,
                node,
                form.cleaned_data["user"],
                form.cleaned_data["role"],
                form.cleaned_data["include_subtree"],
                form.invite_email(),
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        except PermissionDenied as exc:
            messages.error(request, str(exc))
        else:
            if assignment.user.has_usable_password():
                messages.success(request, _("Le rôle a été attribué."))
            else:
                invitations.send_invitation(request, request.user, assignment)
                messages.success(
                    request,
                    _("Le rôle a été attribué et une invitation envoyée à %(email)s.")
                    % {"email": assignment.user.email},
                )
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    return redirect("tenancy:detail", pk=node.pk)


@login_required
@require_POST
def role_revoke(request, pk):
    assignment = get_in_scope(
        RoleAssignment.objects.select_related("organisation", "user"), request.user, pk=pk
    )
    node_pk = assignment.organisation_id
    try:
        role_service.revoke(request.user, assignment)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Le rôle a été retiré."))
    return redirect("tenancy:detail", pk=node_pk)


@login_required
def org_create(request, parent_pk):
    parent = get_in_scope(Organisation, request.user, "manage", pk=parent_pk)
    form = OrganisationForm(request.POST or None, parent=parent)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            node = form.save()
            audit.record(request.user, "organisation.create", node, node, f"{node} créé")
        messages.success(request, _("L'organisation a été créée."))
        return redirect("tenancy:detail", pk=node.pk)
    return render(request, "tenancy/form.html", {"form": form, "parent": parent})


@login_required
def org_edit(request, pk):
    node = get_in_scope(Organisation, request.user, "manage", pk=pk)
    form = OrganisationForm(request.POST or None, instance=node, parent=node.parent)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            changed = {f: str(form.cleaned_data[f]) for f in form.changed_data}
            node = form.save()
            audit.record(request.user, "organisation.update", node, node, str(node), changed)
        messages.success(request, _("L'organisation a été mise à jour."))
        return redirect("tenancy:detail", pk=node.pk)
    return render(request, "tenancy/form.html", {"form": form, "node": node})
