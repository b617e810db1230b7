"""The evidence library (/preuves/): every evidence of the organisations in scope, filtered by
text, kind, objective (the kinds its criteria read), entity (an organisation and its subtree)
and expiry of the current revision, paginated."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, OuterRef, QuerySet, Subquery

from careops.catalogue import bridge
from careops.catalogue.models import Item
from careops.compliance.models import Evidence, EvidenceRevision
from careops.tenancy import scope
from careops.tenancy.models import Organisation

EXPIRY_CHOICES = {"expirees": "expirées", "30j": "expirent dans les 30 jours"}


def kind_choices() -> list[tuple[str, str]]:
    """Every evidence kind of the current referentials, with its label."""
    labels: dict[str, str] = {}
    for version in bridge.current_versions().order_by("domain", "-loaded_at"):
        for kind, label in bridge.kind_label_map(version).items():
            labels.setdefault(kind, label)
    return sorted(labels.items(), key=lambda pair: pair[1].lower())


def kinds_for_objective(code: str) -> set[str] | None:
    """The evidence kinds the item ``code`` reads (and its children's); None if unknown."""
    try:
        code = bridge.normalize_code(code)
    except ValueError:
        return None
    items = Item.objects.filter(version__is_current=True).filter(code=code) | Item.objects.filter(
        version__is_current=True, parent_code=code
    )
    if not items.exists():
        return None
    return {k for item in items for k, _label in bridge.evidence_kinds(item.data)}


def search(user, params: dict[str, str], today: dt.date) -> tuple[QuerySet, dict[str, Any]]:
    """The evidence in the user's scope matching ``params``, and the filters as understood."""
    current = EvidenceRevision.objects.filter(evidence=OuterRef("pk")).order_by("-number")
    found = (
        scope.restrict(Evidence.objects.all(), user)
        .select_related("organisation")
        .annotate(
            revision_count=Count("revisions", distinct=True),
            current_number=Subquery(current.values("number")[:1]),
            current_effective=Subquery(current.values("effective_date")[:1]),
            current_expires=Subquery(current.values("expires_on")[:1]),
        )
    )
    notes: dict[str, Any] = {"errors": []}
    text = (params.get("q") or "").strip()
    if text:
        found = found.filter(title__icontains=text)
    kind = params.get("type") or ""
    if kind:
        found = found.filter(kind=kind)
    objective = (params.get("exigence") or "").strip()
    if objective:
        kinds = kinds_for_objective(objective)
        if kinds is None:
            notes["errors"].append(f"Exigence inconnue : « {objective} ».")
            found = found.none()
        else:
            found = found.filter(kind__in=kinds)
    entity = params.get("entite") or ""
    if entity:
        node = scope.restrict(
            Organisation.objects.filter(pk=entity if entity.isdigit() else 0), user
        ).first()
        if node is None:
            notes["errors"].append("Entité inconnue ou hors de votre périmètre.")
            found = found.none()
        else:
            found = found.filter(organisation__path__startswith=node.path)
    expiry = params.get("expiration") or ""
    if expiry == "expirees":
        found = found.filter(current_expires__lt=today)
    elif expiry == "30j":
        found = found.filter(
            current_expires__gte=today, current_expires__lte=today + dt.timedelta(days=30)
        )
    return found.order_by("-created_at", "-pk"), notes


def entity_choices(user) -> QuerySet:
    return (
        scope.restrict(Organisation.objects.all(), user)
        .only("pk", "name", "path")
        .order_by("path")[:500]
    )
