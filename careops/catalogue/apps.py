from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogueConfig(AppConfig):
    name = "careops.catalogue"
    verbose_name = _("Référentiel du programme")
