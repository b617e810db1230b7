"""``careops bia``: see careops/continuity/commands.py (runs without Django from careops/cli.py)."""

from careops.commandkit import django_command
from careops.continuity.commands import BiaCommand

Command = django_command(BiaCommand)
