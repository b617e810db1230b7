"""``careops exposure scan TARGET... [--ports SPEC] [--allow-private] [--json]``: the engine alone.

No database: targets in, the JSON result (or a French summary) out. The same command line runs
without Django as ``python -m careops.exposure.engine scan …`` (engine/cli.py).
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from careops.exposure.engine.cli import UsageError, add_scan_arguments, run_scan


def default_vulndb_path() -> str:
    """Where ``careops vulndb import`` writes by default."""
    return str(settings.DATA_DIR / "vulndb.sqlite3")


class Command(BaseCommand):
    help = "Audit d'exposition : lance le moteur seul, sans base de données."
    requires_system_checks: list = []

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add_scan_arguments(
            sub.add_parser("scan", help="analyser des cibles (adresses, plages, noms)")
        )

    def handle(self, *args, **options):
        try:
            code = run_scan(options, sys.stdout, sys.stderr, default_vulndb_path())
        except UsageError as exc:
            raise CommandError(str(exc)) from exc
        if code:
            sys.exit(code)
