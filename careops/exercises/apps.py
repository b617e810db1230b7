from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExercisesConfig(AppConfig):
    name = "careops.exercises"
    label = "exercises"
    verbose_name = _("Exercices de crise")
