from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplianceConfig(AppConfig):
    name = "careops.compliance"
    verbose_name = _("Conformité et preuves")
