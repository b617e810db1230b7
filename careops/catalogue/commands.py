"""``careops evaluate DOSSIER [--json]``: evaluate a dossier file with no database."""

from __future__ import annotations

import json

from careops.catalogue.engine import loader
from careops.catalogue.engine.dossier import DossierError, load_dossier
from careops.catalogue.engine.evaluate import evaluate
from careops.catalogue.engine.report import text_lines
from careops.commandkit import BaseCommand, CommandError


class EvaluateCommand(BaseCommand):
    help = "Évalue un dossier (docs/dossier-format.md) contre le référentiel, sans base de données."
    requires_system_checks: list = []

    def add_arguments(self, parser):
        parser.add_argument("dossier", help="fichier YAML ou JSON")
        parser.add_argument("--json", action="store_true", help="sortie JSON")
        parser.add_argument("--dir", help="dossier du référentiel (défaut : livré)")

    def handle(self, *args, **options):
        try:
            referential = loader.load_referential(options["dir"])
            dossier = load_dossier(options["dossier"])
            domain = referential.domain(dossier.domain, dossier.version)
            evaluation = evaluate(domain, dossier)
        except (loader.ReferentialError, DossierError) as exc:
            raise CommandError(str(exc)) from exc
        except KeyError as exc:
            raise CommandError(exc.args[0]) from exc
        except OSError as exc:
            raise CommandError(f"Lecture impossible : {exc}") from exc
        if options["json"]:
            self.stdout.write(json.dumps(evaluation.to_json(), ensure_ascii=False, indent=2))
            return
        for line in text_lines(evaluation):
            self.stdout.write(line)
