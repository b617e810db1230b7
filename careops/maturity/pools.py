"""Pooling of security resources (AAP MS): pools, conventions, members, and the pooled RSSI role.

Who does what (docs/maturity.md):
- an ARS instructor of the pool's region, or a programme administrator, creates the pool, names
  its staff (the pooled RSSI, the CRRC or GHT team members: existing accounts), files the
  convention (a checked document with its dates) and invites medico-social structures of the
  region;
- the structure's RSSI (``manage`` on the structure) accepts or declines the invitation, and
  may leave the pool at any time; the ARS may remove a member;
- while a membership is active and a convention is in force (its start ≤ today ≤ its end,
  Paris time), every staff member holds the ES RSSI role on the member and its subtree, through
  ``scope.grants`` (``pooled_grants``), so every page and the API apply it; it never grants
  roles to others (``roles.grantable_roles`` skips it) and ends the moment the member leaves or
  the convention ends.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from careops.compliance import uploads
from careops.compliance.services import today_in_paris
from careops.core import audit
from careops.maturity.models import (
    Convention,
    Membership,
    MembershipStatus,
    Pool,
)
from careops.tenancy import scope
from careops.tenancy.choices import ACTION_ROLES, OrgKind, Role
from careops.tenancy.models import Organisation

EXPIRY_WARNING_DAYS = 60
REGIONAL_ROLES = {Role.ARS_INSTRUCTOR, Role.ADMINISTRATOR}


def pooled_grants(user) -> list[scope.Grant]:
    """The ES RSSI grants a pool's staff member holds on its active members (a grant source of
    ``scope.grants``): one query. None for someone who also instructs (ARS, ANS, administrator),
    whenever that role came: nobody confirms a pathway they also carry out."""
    from careops.tenancy.models import RoleAssignment

    today = today_in_paris()
    instructs = RoleAssignment.objects.filter(user_id=user.pk, role__in=ACTION_ROLES["instruct"])
    found = (
        Membership.objects.filter(
            ~Exists(instructs),
            status=MembershipStatus.ACTIVE,
            pool__staff=user,
            pool__conventions__starts_on__lte=today,
            pool__conventions__ends_on__gte=today,
        )
        .values_list("organisation__path", "organisation_id", "pool_id")
        .distinct()
    )
    return [scope.Grant(Role.ES_RSSI, path, org, True, pool_id=pool) for path, org, pool in found]


def is_regional_authority(user, organisation: Organisation) -> bool:
    """An ARS instructor whose grant covers ``organisation`` (their region), or an
    administrator: the people who create pools and confirm pathways."""
    for grant in scope.grants(user):
        if grant.role not in REGIONAL_ROLES or grant.pool_id is not None:
            continue
        if grant.organisation_id == organisation.pk or (
            grant.include_subtree and organisation.path.startswith(grant.path)
        ):
            return True
    return False


def visible_pools(user):
    """Pools a user reaches: through the region (``restrict``), as staff, or because one of
    its memberships in the user's scope is invited or active (a member sees its own pool, never
    the others; a structure that declined or left no longer sees the pool, its members or its
    later conventions)."""
    by_region = scope.restrict(Pool.objects.all(), user).values("pk")
    by_member = (
        scope.restrict(Membership.objects.all(), user)
        .filter(status__in=(MembershipStatus.INVITED, MembershipStatus.ACTIVE))
        .values("pool_id")
    )
    return Pool.objects.filter(Q(pk__in=by_region) | Q(pk__in=by_member) | Q(staff=user)).distinct()


def get_pool(user, pk: int) -> Pool:
    from django.http import Http404

    found = visible_pools(user).filter(pk=pk).select_related("region").first()
    if found is None:
        raise Http404(_("Objet introuvable."))
    return found


def can_administer(user, pool: Pool) -> bool:
    return is_regional_authority(user, pool.region)


def _require_authority(user, pool: Pool) -> None:
    if not can_administer(user, pool):
        raise PermissionDenied(
            _("Réservé à un instructeur de l'ARS de la région ou à un administrateur.")
        )


def current_convention(pool: Pool, today: dt.date | None = None) -> Convention | None:
    today = today or today_in_paris()
    return pool.conventions.filter(starts_on__lte=today, ends_on__gte=today).first()


def create_pool(user, region: Organisation, name: str, kind: str, carrier: str = "") -> Pool:
    if region.kind != OrgKind.ARS or not is_regional_authority(user, region):
        raise PermissionDenied(
            _(
                "Seul un instructeur de l'ARS de la région ou un administrateur crée une mutualisation."
            )
        )
    with transaction.atomic():
        pool = Pool.objects.create(
            region=region, name=name, kind=kind, carrier=carrier, created_by=user
        )
        audit.record(user, "pool.create", pool, region, f"mutualisation « {name} » créée")
    return pool


def _affected(pool: Pool):
    return [m.organisation for m in pool.memberships.filter(status=MembershipStatus.ACTIVE)]


def add_staff(user, pool: Pool, username_or_email: str):
    from django.contrib.auth import get_user_model

    _require_authority(user, pool)
    ident = username_or_email.strip()
    User = get_user_model()
    person = (
        User.objects.filter(username=ident).first()
        or User.objects.filter(email__iexact=ident).first()
    )
    if person is None or not ident:
        raise ValidationError({"user": [_("Aucun compte « %(ident)s ».") % {"ident": ident}]})
    if any(g.role in ACTION_ROLES["instruct"] and g.pool_id is None for g in scope.grants(person)):
        raise ValidationError(
            {
                "user": [
                    _(
                        "« %(ident)s » instruit les dossiers (ARS, ANS ou administrateur) : il ne "
                        "peut pas être aussi RSSI mutualisé des structures qu'il contrôle."
                    )
                    % {"ident": ident}
                ]
            }
        )
    with transaction.atomic():
        pool.staff.add(person)
        audit.record(user, "pool.staff", pool, pool.region, f"{person} ajouté à « {pool.name} »")
        for member in _affected(pool):
            audit.record(
                user, "pool.staff", pool, member, f"{person} : RSSI mutualisé de « {pool.name} »"
            )
    return person


def remove_staff(user, pool: Pool, person) -> None:
    _require_authority(user, pool)
    with transaction.atomic():
        pool.staff.remove(person)
        audit.record(user, "pool.staff", pool, pool.region, f"{person} retiré de « {pool.name} »")
        for member in _affected(pool):
            audit.record(
                user,
                "pool.staff",
                pool,
                member,
                f"{person} n'est plus RSSI mutualisé de « {pool.name} »",
            )


def add_convention(user, pool: Pool, upload, starts_on: dt.date, ends_on: dt.date) -> Convention:
    """File the convention (checked like every upload: type, size, content) with its dates."""
    _require_authority(user, pool)
    errors: dict[str, list[str]] = {}
    if ends_on < starts_on:
        errors["ends_on"] = [_("La fin de la convention précède son début.")]
    try:
        checked = uploads.check(upload)
    except uploads.UploadRejected as exc:
        errors["file"] = [str(exc)]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        convention = Convention(
            pool=pool,
            starts_on=starts_on,
            ends_on=ends_on,
            original_name=checked.name,
            size=checked.size,
            sha256=checked.sha256,
            content_type=checked.content_type,
            uploaded_by=user,
        )
        convention.file.save(checked.sha256, checked.upload, save=False)
        convention.save()
        text = f"convention de « {pool.name} » du {starts_on:%d/%m/%Y} au {ends_on:%d/%m/%Y}"
        for where in [pool.region, *_affected(pool)]:
            audit.record(user, "pool.convention", convention, where, text)
    return convention


def invite(user, pool: Pool, organisation: Organisation) -> Membership:
    _require_authority(user, pool)
    if organisation.kind != OrgKind.ESMS:
        raise ValidationError(
            _("Seule une structure médico-sociale peut rejoindre une mutualisation.")
        )
    if organisation.region_code != pool.region.region_code:
        raise ValidationError(_("La structure n'est pas dans la région de la mutualisation."))
    if pool.memberships.filter(
        organisation=organisation, status__in=[MembershipStatus.INVITED, MembershipStatus.ACTIVE]
    ).exists():
        raise ValidationError(_("Cette structure est déjà invitée ou membre."))
    with transaction.atomic():
        membership = Membership.objects.create(
            pool=pool, organisation=organisation, invited_by=user
        )
        audit.record(user, "pool.invite", membership, organisation, f"invitée dans « {pool.name} »")
    return membership


def answer(user, membership: Membership, accept: bool) -> None:
    """The structure's RSSI accepts (the pooled role starts) or declines the invitation."""
    if not scope.can(user, "manage", membership.organisation) or any(
        g.pool_id == membership.pool_id for g in scope.grants(user)
    ):
        raise PermissionDenied(_("Réservé au RSSI de la structure."))
    if membership.status != MembershipStatus.INVITED:
        raise ValidationError(_("Cette invitation a déjà reçu une réponse."))
    membership.status = MembershipStatus.ACTIVE if accept else MembershipStatus.DECLINED
    membership.answered_by, membership.answered_at = user, timezone.now()
    with transaction.atomic():
        membership.save(update_fields=["status", "answered_by", "answered_at"])
        audit.record(
            user,
            "pool.accept" if accept else "pool.decline",
            membership,
            membership.organisation,
            f"invitation dans « {membership.pool.name} » {'acceptée' if accept else 'refusée'}",
        )


def leave(user, membership: Membership, reason: str = "") -> None:
    """The structure's RSSI leaves, or the ARS removes the member: the pooled role ends now."""
    own = scope.can(user, "manage", membership.organisation) and not any(
        g.pool_id == membership.pool_id for g in scope.grants(user)
    )
    if not (own or can_administer(user, membership.pool)):
        raise PermissionDenied(_("Réservé au RSSI de la structure ou à l'ARS."))
    if membership.status not in (MembershipStatus.ACTIVE, MembershipStatus.INVITED):
        raise ValidationError(_("Cette structure n'est plus membre."))
    membership.status, membership.left_at, membership.left_reason = (
        MembershipStatus.LEFT,
        timezone.now(),
        reason[:300],
    )
    with transaction.atomic():
        membership.save(update_fields=["status", "left_at", "left_reason"])
        audit.record(
            user,
            "pool.leave",
            membership,
            membership.organisation,
            f"sortie de « {membership.pool.name} »" + (f" : {reason}" if reason else ""),
        )


def pool_alerts(pool: Pool, today: dt.date) -> list[str]:
    convention = current_convention(pool, today)
    if convention is None:
        later = pool.conventions.filter(starts_on__gt=today).order_by("starts_on").first()
        if later:
            return [
                _("Convention pas encore en vigueur (début le %(d)s) : aucun rôle mutualisé.")
                % {"d": later.starts_on.strftime("%d/%m/%Y")}
            ]
        return [_("Aucune convention en vigueur : le rôle de RSSI mutualisé est suspendu.")]
    left = (convention.ends_on - today).days
    if left <= EXPIRY_WARNING_DAYS:
        return [
            _("La convention expire le %(d)s (dans %(n)s jour(s)).")
            % {"d": convention.ends_on.strftime("%d/%m/%Y"), "n": left}
        ]
    return []
