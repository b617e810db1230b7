"""``careops backups verify CONFIG.yaml [--json]``: verify backups with no database.

``careops backups manifest DIR`` prints the SHA-256 manifest of a folder (``sha256sum`` format),
taken at backup time and compared by restore tests.
"""

from __future__ import annotations

import json
import sys

from careops.backups.engine import restore
from careops.backups.engine.config import load_config
from careops.backups.engine.errors import ConfigError
from careops.backups.engine.results import FAILED, STATUS_LABELS, worst
from careops.backups.engine.verify import run_verification
from careops.commandkit import BaseCommand, CommandError

CHECK_LABELS = {
    "access": "accès",
    "integrity": "intégrité",
    "append_only": "ajout seul",
    "object_lock": "verrouillage S3",
    "restore": "restauration",
    "freshness": "fraîcheur",
    "jobs": "tâches",
}


class BackupsCommand(BaseCommand):
    help = "Vérifie des dépôts de sauvegarde (restic, borg) et la fraîcheur par système, sans base."
    requires_system_checks: list = []

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="vérifie selon un fichier de configuration YAML")
        verify.add_argument("config", help="fichier YAML (docs/backups.md)")
        verify.add_argument("--json", action="store_true", help="sortie JSON")
        manifest = sub.add_parser("manifest", help="manifeste SHA-256 d'un dossier")
        manifest.add_argument("folder")

    def handle(self, *args, **options):
        if options["action"] == "manifest":
            self.stdout.write(
                restore.write_manifest(restore.build_manifest(options["folder"])), ending=""
            )
            return
        try:
            config = load_config(options["config"])
        except ConfigError as exc:
            raise CommandError(str(exc)) from exc
        report = run_verification(config)
        if options["json"]:
            self.stdout.write(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        else:
            self._print(report)
        status = report.status
        if status in (FAILED, "error"):
            sys.stdout.flush()
            sys.exit(1)

    def _print(self, report) -> None:
        out = self.stdout.write
        out(f"Vérification du {report.started_at:%d/%m/%Y %H:%M} UTC")
        out("Dépôts :")
        for repo in report.repositories:
            version = (
                f" {repo.driver} {repo.tool_version}" if repo.tool_version else f" {repo.driver}"
            )
            out(f"  {repo.name} ({version.strip()}) : {STATUS_LABELS[repo.status].upper()}")
            for check in repo.checks:
                label = CHECK_LABELS.get(check.name, check.name)
                out(f"    - {label:<16} {STATUS_LABELS[check.status]:<22} {check.message}")
        out("Systèmes protégés :")
        for system in report.systems:
            out(
                f"  {system.name} (PDMA {system.rpo_hours:g} h) : {STATUS_LABELS[system.status].upper()}"
            )
            for check in system.checks:
                label = CHECK_LABELS.get(check.name, check.name)
                out(f"    - {label:<16} {STATUS_LABELS[check.status]:<22} {check.message}")
        out(f"Résultat : {STATUS_LABELS[worst([report.status])]}")
