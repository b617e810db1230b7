from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HospiconnectConfig(AppConfig):
    name = "careops.hospiconnect"
    verbose_name = _("HospiConnect")
