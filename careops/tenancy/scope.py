"""The one restriction helper: every queryset a user reaches goes through ``restrict``.

A model names the path from itself to its Organisation in ``tenant_path`` ("" for Organisation,
"organisation", "revision__evidence__organisation"…). A grant on a node covers that node, and its
whole subtree when the assignment says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db.models import Model, Q, QuerySet

from careops.tenancy.choices import ACTION_ROLES


@dataclass(frozen=True)
class Grant:
    """One effective grant: a role on a node path, with or without its subtree."""

    role: str
    path: str
    organisation_id: int
    include_subtree: bool
    pool_id: int | None = None  # held through a pool of security resources, not a RoleAssignment


# Other sources of grants than RoleAssignment rows, registered by the apps that own them (the
# pooled RSSI of careops.maturity: granted while the membership and the convention hold).
GRANT_SOURCES: list[Callable[[object], Iterable[Grant]]] = []


def grants(user) -> list[Grant]:
    """Return the user's grants, read once per user object."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached = getattr(user, "_careops_grants", None)
    if cached is None:
        cached = [
            Grant(a.role, a.organisation.path, a.organisation_id, a.include_subtree)
            for a in user.role_assignments.select_related("organisation")
        ]
        for source in GRANT_SOURCES:
            cached.extend(source(user))
        user._careops_grants = cached
    return cached


def roles(user) -> set[str]:
    """Return the set of roles the user holds anywhere."""
    return {g.role for g in grants(user)}


def _condition(user, action: str, prefix: str) -> Q:
    allowed = ACTION_ROLES[action]
    condition = Q(pk__in=[])
    for grant in grants(user):
        if grant.role not in allowed:
            continue
        if grant.include_subtree:
            condition |= Q(**{f"{prefix}path__startswith": grant.path})
        else:
            condition |= Q(**{f"{prefix}pk": grant.organisation_id})
    return condition


def restrict(queryset: QuerySet, user, action: str = "view") -> QuerySet:
    """Return ``queryset`` limited to the objects the user may reach for ``action``."""
    if action not in ACTION_ROLES:
        raise ValueError(f"unknown action {action!r}")
    tenant_path = queryset.model.tenant_path
    prefix = f"{tenant_path}__" if tenant_path else ""
    # tenant paths follow foreign keys only (to-one), so the filter never duplicates rows.
    return queryset.filter(_condition(user, action, prefix))


def can(user, action: str, obj: Model) -> bool:
    """Whether the user may do ``action`` on ``obj`` (one query, through the same helper)."""
    return restrict(type(obj)._default_manager.filter(pk=obj.pk), user, action).exists()
