"""``careops bia template OUT.xlsx`` and ``careops bia analyze FILE.xlsx [--json]`` (no database)."""

from __future__ import annotations

import json
from pathlib import Path

from careops.commandkit import BaseCommand, CommandError
from careops.continuity.engine import report
from careops.continuity.engine.example import example_bia
from careops.continuity.engine.workbook import WorkbookError, write_workbook


class BiaCommand(BaseCommand):
    help = "BIA : template CLASSEUR.xlsx [--exemple] ; analyze CLASSEUR.xlsx [--json]."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        template = sub.add_parser("template", help="écrit un classeur BIA vierge et documenté")
        template.add_argument("path")
        template.add_argument(
            "--exemple", "--example", action="store_true", help="pré-remplit un exemple complet"
        )
        template.add_argument(
            "--force", action="store_true", help="remplace un classeur existant à cet endroit"
        )
        analyze = sub.add_parser("analyze", help="analyse un classeur BIA, sans base de données")
        analyze.add_argument("path")
        analyze.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        path = Path(options["path"])
        if options["action"] == "template":
            if path.exists() and not options["force"]:
                raise CommandError(
                    f"{path} existe déjà : il n'est pas remplacé (un BIA rempli serait perdu). "
                    "Choisissez un autre nom, ou ajoutez --force pour le remplacer."
                )
            write_workbook(example_bia() if options["exemple"] else None, path)
            self.stdout.write(self.style.SUCCESS(f"Classeur BIA écrit : {path}"))
            return
        if not path.exists():
            raise CommandError(f"Introuvable : {path}")
        try:
            bia, analysis, problems = report.analyse_workbook(path)
        except WorkbookError as exc:
            raise CommandError(f"{path.name} : {exc}") from exc
        if options["json"]:
            data = report.as_json(bia, analysis, problems)
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
        else:
            self.stdout.write(report.as_text(bia, analysis, problems))
        blocking = [p for p in problems if p.blocking]
        if blocking:
            raise CommandError(f"{len(blocking)} erreur(s) dans le classeur.")
