"""The egress policy of an organisation, and its management by a platform administrator."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from careops.core import audit
from careops.egress import EgressPolicy
from careops.tenancy import scope
from careops.tenancy.choices import Role
from careops.tenancy.models import Organisation


def internal_targets_allowed(organisation: Organisation) -> bool:
    """Whether internal targets are enabled on the organisation or one of its ancestors."""
    ids = [int(part) for part in organisation.path.strip("/").split("/") if part]
    ids.append(organisation.pk)
    return Organisation.objects.filter(pk__in=ids, internal_targets=True).exists()


def policy_for(organisation: Organisation) -> EgressPolicy:
    """The policy for outbound connections made on behalf of ``organisation``."""
    return EgressPolicy(allow_internal=internal_targets_allowed(organisation))


def is_platform_administrator(user) -> bool:
    """A platform administrator (the administrator role, or a Django superuser)."""
    if getattr(user, "is_superuser", False):
        return True
    return Role.ADMINISTRATOR in scope.roles(user)


def set_internal_targets(user, organisation: Organisation, enabled: bool, reason: str) -> None:
    """Enable or disable internal targets; administrators only (``user`` None: the CLI)."""
    if user is not None and not is_platform_administrator(user):
        raise PermissionDenied("Réservé aux administrateurs de la plateforme.")
    reason = reason.strip()
    if enabled and not reason:
        raise ValueError("Indiquer le motif de l'autorisation des cibles internes.")
    old = organisation.internal_targets
    Organisation.objects.filter(pk=organisation.pk).update(internal_targets=enabled)
    organisation.internal_targets = enabled
    audit.record(
        user,
        "core.egress.internal_targets",
        organisation,
        organisation,
        ("cibles internes autorisées" if enabled else "cibles internes interdites")
        + (f" : {reason}" if reason else ""),
        changes={"internal_targets": [old, enabled]},
    )
