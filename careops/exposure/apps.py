from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExposureConfig(AppConfig):
    name = "careops.exposure"
    verbose_name = _("Exposition sur internet (D1)")
