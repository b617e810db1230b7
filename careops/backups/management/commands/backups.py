"""``careops backups``: see careops/backups/commands.py (runs without Django from careops/cli.py)."""

from careops.backups.commands import BackupsCommand
from careops.commandkit import django_command

Command = django_command(BackupsCommand)
