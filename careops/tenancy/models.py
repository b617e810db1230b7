"""The organisation tree (ANS → ARS → GHT → EJ → EG, and ESMS) and role grants on its nodes."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from careops.tenancy import finess
from careops.tenancy.choices import ALLOWED_CHILDREN, Category, OrgKind, Role


def validate_finess(value: str) -> None:
    """Model validator: raise a French ValidationError for an invalid FINESS number."""
    try:
        finess.validate(value)
    except finess.FinessError as exc:
        raise ValidationError(str(exc), code="finess") from exc


class Organisation(models.Model):
    """A node of the tenancy tree; ``path`` ("/1/7/12/") makes subtree queries one index scan."""

    tenant_path = ""  # the restriction helper filters this model on itself

    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    kind = models.CharField(_("type"), max_length=8, choices=OrgKind.choices)
    name = models.CharField(_("nom"), max_length=255)
    finess = models.CharField(
        _("numéro FINESS"),
        max_length=9,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_finess],
    )
    finess_category = models.CharField(_("catégorie FINESS"), max_length=4, blank=True)
    category = models.CharField(_("catégorie"), max_length=20, choices=Category.choices, blank=True)
    region_code = models.CharField(_("code région"), max_length=2, blank=True)
    activity_weight = models.DecimalField(
        _("poids d'activité"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    activity_unit = models.CharField(
        _("unité d'activité"), max_length=64, blank=True, help_text=_("ex. activité combinée")
    )
    internal_targets = models.BooleanField(
        _("cibles internes autorisées"),
        default=False,
        editable=False,
        help_text=_(
            "careops peut joindre des adresses privées, de bouclage ou de lien local pour cette "
            "organisation et sa sous-arborescence (annuaires, dépôts de sauvegarde, S3). Réservé "
            "aux administrateurs de la plateforme ; journalisé."
        ),
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["path"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return f"{self.name} ({self.finess})" if self.finess else self.name

    def clean_fields(self, exclude=None) -> None:
        if self.finess:
            self.finess = finess.normalize(self.finess)
        super().clean_fields(exclude)

    def clean(self) -> None:
        parent_kind = self.parent.kind if self.parent_id else ""
        if self.kind not in ALLOWED_CHILDREN.get(parent_kind, set()):
            raise ValidationError(
                _("Une organisation de type « %(kind)s » ne peut pas être rattachée ici.")
                % {"kind": self.get_kind_display()}
            )
        if self.kind in {OrgKind.EJ, OrgKind.EG} and not self.finess:
            raise ValidationError({"finess": _("Le numéro FINESS est obligatoire.")})
        if self.finess:
            self.finess = finess.normalize(self.finess)
        if self.activity_weight < 0:
            raise ValidationError({"activity_weight": _("Le poids d'activité est positif.")})

    def save(self, *args, **kwargs) -> None:  # noqa: DJ012
        if self.finess:
            self.finess = finess.normalize(self.finess)
        with transaction.atomic():
            if self.parent_id and not self.region_code:
                self.region_code = self.parent.region_code
            super().save(*args, **kwargs)
            parent_path = self.parent.path if self.parent_id else "/"
            path = f"{parent_path}{self.pk}/"
            if path != self.path:
                old = self.path
                self.path, self.depth = path, path.count("/") - 2
                super().save(update_fields=["path", "depth"])
                if old:
                    self._move_descendants(old, path)

    def _move_descendants(self, old: str, new: str) -> None:
        for node in Organisation.objects.filter(path__startswith=old).exclude(pk=self.pk):
            node.path = new + node.path[len(old) :]
            node.depth = node.path.count("/") - 2
            node.save(update_fields=["path", "depth"])

    def ancestors(self) -> models.QuerySet[Organisation]:
        """Return the ancestors of this node, root first."""
        ids = [int(part) for part in self.path.strip("/").split("/")[:-1] if part]
        return Organisation.objects.filter(pk__in=ids).order_by("depth")

    def subtree(self) -> models.QuerySet[Organisation]:
        """Return this node and all its descendants."""
        return Organisation.objects.filter(path__startswith=self.path)

    @property
    def is_candidate_kind(self) -> bool:
        """Whether this node can be a CaRE candidate (a GHT, an EJ or an ESMS)."""
        return self.kind in {OrgKind.GHT, OrgKind.EJ, OrgKind.ESMS}


class RoleAssignment(models.Model):
    """A role granted to a user on one node, and optionally on its whole subtree."""

    tenant_path = "organisation"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_assignments"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.CharField(_("rôle"), max_length=20, choices=Role.choices)
    include_subtree = models.BooleanField(_("toute la sous-arborescence"), default=True)
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation", "role"], name="unique_role_per_node"
            )
        ]
        verbose_name = _("attribution de rôle")
        verbose_name_plural = _("attributions de rôles")

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} — {self.organisation}"
