"""Organisation tree pages: list, detail, add and edit a node."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from careops.catalogue.models import ReferentialVersion
from careops.compliance.models import Assessment
from careops.core import audit
from careops.tenancy import scope
from careops.tenancy.forms import OrganisationForm
from careops.tenancy.models import Organisation
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
        },
    )


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
