"""The referential tables. Only ``careops.catalogue.services.load_directory`` writes them."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ReferentialVersion(models.Model):
    """One loaded version of one domain's referential file, kept for the assessments made on it."""

    domain = models.CharField(_("domaine"), max_length=16)
    version = models.CharField(_("version"), max_length=32)
    status = models.CharField(_("statut"), max_length=16)
    title = models.CharField(_("titre"), max_length=255)
    description = models.TextField(blank=True)
    source_file = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    data = models.JSONField(help_text="the whole validated domain file, as the engine reads it")
    is_current = models.BooleanField(default=False)
    loaded_at = models.DateTimeField(auto_now_add=True)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["domain", "-loaded_at"]
        constraints = [
            models.UniqueConstraint(fields=["domain", "version"], name="unique_domain_version")
        ]
        verbose_name = _("version du référentiel")
        verbose_name_plural = _("versions du référentiel")

    def __str__(self) -> str:
        return f"{self.domain} v{self.version}"


class Item(models.Model):
    """A prerequisite, objective or group of a referential version, with its typed criteria."""

    version = models.ForeignKey(ReferentialVersion, on_delete=models.CASCADE, related_name="items")
    code = models.CharField(_("identifiant"), max_length=32)
    parent_code = models.CharField(max_length=32, blank=True)
    kind = models.CharField(_("nature"), max_length=16)
    title = models.CharField(_("intitulé"), max_length=500)
    description = models.TextField(blank=True)
    to_confirm = models.BooleanField(_("à confirmer"), default=False)
    position = models.PositiveIntegerField(default=0)
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="unique_item_per_version")
        ]
        verbose_name = _("exigence")
        verbose_name_plural = _("exigences")

    def __str__(self) -> str:
        return f"{self.code} {self.title}"
