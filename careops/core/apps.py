from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "careops.core"
    verbose_name = _("Socle")

    def ready(self) -> None:
        from huey.contrib.djhuey import HUEY

        from careops.core import logs, metrics, signals  # noqa: F401

        logs.install_task_propagation(HUEY)
        metrics.install(HUEY)
        # Every app's tasks (and periodic tasks) registered in every process: a separate
        # `careops worker` or `careops scheduler` loads no view, so nothing else imports them.
        autodiscover_modules("tasks")
