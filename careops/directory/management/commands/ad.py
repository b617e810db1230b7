"""``careops ad``: see careops/directory/commands.py (runs without Django from careops/cli.py)."""

from careops.commandkit import django_command
from careops.directory.commands import AdCommand

Command = django_command(AdCommand)
