from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DirectoryConfig(AppConfig):
    name = "careops.directory"
    verbose_name = _("Annuaires Active Directory (D1)")
