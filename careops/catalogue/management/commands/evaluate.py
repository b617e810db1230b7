"""``careops evaluate``: see careops/catalogue/commands.py (runs without Django from careops/cli.py)."""

from careops.catalogue.commands import EvaluateCommand
from careops.commandkit import django_command

Command = django_command(EvaluateCommand)
