"""Granting and revoking roles, and inviting a new user: never above the granter's own rights."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from careops.core import audit
from careops.tenancy import invitations, scope
from careops.tenancy.choices import GRANTABLE
from careops.tenancy.models import Organisation, RoleAssignment


def grantable_roles(user, organisation: Organisation, include_subtree: bool = False) -> set[str]:
    """The roles ``user`` may grant on ``organisation`` (through grants covering that node).

    With ``include_subtree``, only the granter's own subtree grants count: a role held on the
    node alone never gives a role over the node's descendants.
    """
    roles: set[str] = set()
    for grant in scope.grants(user):
        if include_subtree and not grant.include_subtree:
            continue
        if grant.pool_id is not None:  # a pooled role grants nothing: it would outlive the pool
            continue
        covers = organisation.pk == grant.organisation_id or (
            grant.include_subtree and organisation.path.startswith(grant.path)
        )
        if covers:
            roles |= GRANTABLE.get(grant.role, set())
    return roles


def can_grant_subtree(user, organisation: Organisation) -> bool:
    """Whether ``user`` may grant anything over the whole subtree of ``organisation``."""
    return bool(grantable_roles(user, organisation, include_subtree=True))


def grant(
    actor,
    organisation: Organisation,
    username_or_email: str,
    role: str,
    include_subtree: bool = True,
    invite_email: str = "",
) -> RoleAssignment:
    """Grant ``role`` on ``organisation``; with ``invite_email``, create the account if needed.

    A new account has no usable password: the person sets one through the link of the
    invitation the caller's view sends (``invitations.send_invitation``). An address another
    account holds is refused.
    """
    if role not in grantable_roles(actor, organisation):
        raise PermissionDenied(_("Vous ne pouvez pas attribuer ce rôle sur cette organisation."))
    if include_subtree and role not in grantable_roles(actor, organisation, include_subtree=True):
        raise PermissionDenied(
            _(
                "Votre rôle ne porte que sur ce nœud : vous ne pouvez pas attribuer ce rôle sur "
                "toute la sous-arborescence. Décochez « Sur tout le périmètre rattaché »."
            )
        )
    User = get_user_model()
    ident = username_or_email.strip()
    if not ident:
        raise ValidationError({"user": [_("Indiquez un identifiant ou une adresse électronique.")]})
    user = (
        User.objects.filter(username=ident).first()
        or User.objects.filter(email__iexact=ident).first()
    )
    with transaction.atomic():
        if user is None:
            if not invite_email:
                raise ValidationError(
                    {
                        "user": [
                            _("Aucun compte « %(ident)s » : indiquez une adresse pour l'inviter.")
                            % {"ident": ident}
                        ]
                    }
                )
            invitations.check_email_free(invite_email)
            user = User(username=ident, email=invite_email.strip())
            user.set_unusable_password()
            user.full_clean()
            user.save()
            audit.record(actor, "user.invite", user, organisation, f"compte {ident} créé")
        assignment, created = RoleAssignment.objects.get_or_create(
            user=user,
            organisation=organisation,
            role=role,
            defaults={"include_subtree": include_subtree},
        )
        if not created and assignment.include_subtree != include_subtree:
            if assignment.include_subtree and role not in grantable_roles(
                actor, organisation, include_subtree=True
            ):  # narrowing a grant one could not have given is a revocation one may not do
                raise PermissionDenied(_("Vous ne pouvez pas modifier ce rôle."))
            assignment.include_subtree = include_subtree
            assignment.save(update_fields=["include_subtree"])
        audit.record(
            actor,
            "role.grant",
            assignment,
            organisation,
            f"rôle {assignment.get_role_display()} attribué à {user.get_username()}",
        )
    return assignment


def revoke(actor, assignment: RoleAssignment) -> None:
    """Remove a grant, if the actor could have granted it."""
    if assignment.role not in grantable_roles(
        actor, assignment.organisation, include_subtree=assignment.include_subtree
    ):
        raise PermissionDenied(_("Vous ne pouvez pas retirer ce rôle."))
    with transaction.atomic():
        audit.record(
            actor,
            "role.revoke",
            assignment,
            assignment.organisation,
            f"rôle {assignment.get_role_display()} retiré à {assignment.user.get_username()}",
        )
        assignment.delete()
