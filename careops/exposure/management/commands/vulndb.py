"""``careops vulndb import --kev FILE [--nvd FILE...] [--db PATH]``: build the local database."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from careops.exposure.engine.vulndb import VulnDB, VulnDBError, import_feeds
from careops.exposure.management.commands.exposure import default_vulndb_path


class Command(BaseCommand):
    help = "Base de vulnérabilités locale (CISA KEV, NVD 2.0), hors ligne."
    requires_system_checks: list = []

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser(
            "import", help="importer des fichiers KEV et NVD 2.0 (.json, .gz, .xz)"
        )
        imp.add_argument(
            "--kev", action="append", default=[], help="catalogue KEV de la CISA (JSON)"
        )
        imp.add_argument("--nvd", action="append", default=[], help="fichier NVD 2.0 (JSON)")
        imp.add_argument(
            "--db", default=None, help="fichier SQLite (défaut : DATA_DIR/vulndb.sqlite3)"
        )
        info = sub.add_parser("info", help="versions des catalogues de la base")
        info.add_argument("--db", default=None)

    def handle(self, *args, **options):
        db = Path(options["db"] or default_vulndb_path())
        try:
            if options["action"] == "info":
                self.stdout.write(json.dumps(VulnDB(db).catalogues(), ensure_ascii=False, indent=2))
                return
            if not options["kev"] and not options["nvd"]:
                raise CommandError("Indiquez au moins un fichier --kev ou --nvd.")
            summary = import_feeds(
                db, [Path(p) for p in options["kev"]], [Path(p) for p in options["nvd"]]
            )
        except VulnDBError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Base {db} : {summary['kev_entries']} entrée(s) KEV, {summary['nvd_cves']} CVE NVD "
            f"(KEV {summary.get('kev_version', '-')}, NVD {summary.get('nvd_version', '-')})."
        )
