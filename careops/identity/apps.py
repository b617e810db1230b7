from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentityConfig(AppConfig):
    name = "careops.identity"
    label = "identity"
    verbose_name = _("Identités fédérées")

    def ready(self) -> None:
        from careops.identity import signals  # noqa: F401 (connects the receivers)
