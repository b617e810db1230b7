from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExposureConfig(AppConfig):
    name = "careops.exposure"
    verbose_name = _("Exposition sur internet (D1)")

    def ready(self):
        # Register the Huey tasks in every process, so that `careops worker` knows them.
        from careops.exposure import tasks  # noqa: F401
