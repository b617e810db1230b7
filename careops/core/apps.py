from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "careops.core"
    verbose_name = _("Socle")

    def ready(self) -> None:
        from huey.contrib.djhuey import HUEY

        from careops.core import logs, metrics, signals  # noqa: F401

        logs.install_task_propagation(HUEY)
        metrics.install(HUEY)
