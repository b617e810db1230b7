"""``careops catalogue validate|show|load``: check, read and load the programme referential."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from careops.catalogue.engine import loader
from careops.catalogue.engine.dates import fmt_date
from careops.catalogue.engine.schema import CRITERION_TYPE_LABELS

WINDOW_NAMES_FR = {
    "candidacy": "de candidature",
    "declaration": "de déclaration",
    "ars_instruction": "d'instruction ARS",
    "ans_instruction": "d'instruction ANS",
    "payment": "de paiement",
}


class Command(BaseCommand):
    help = "Référentiel du programme : validate [FICHIERS…], show [DOMAINE] [--json], load [FICHIERS…]."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        validate = sub.add_parser(
            "validate", help="vérifie des fichiers (erreurs avec fichier:ligne)"
        )
        validate.add_argument("paths", nargs="*", help="fichiers ou dossiers (défaut : livré)")
        show = sub.add_parser("show", help="affiche un domaine (sans base de données)")
        show.add_argument("domain", nargs="?", help="D1, D1BIS, D2, D3, HOSPICONNECT, AAPMS")
        show.add_argument(
            "--version", dest="domain_version", help="version du domaine (défaut : la dernière)"
        )
        show.add_argument("--json", action="store_true", help="sortie JSON")
        show.add_argument("--dir", help="dossier du référentiel (défaut : livré)")
        load = sub.add_parser("load", help="charge en base (nouvelles versions uniquement)")
        load.add_argument("paths", nargs="*", help="fichiers ou dossiers (défaut : livré)")

    def handle(self, *args, **options):
        getattr(self, f"_{options['action']}")(options)

    def _validate(self, options):
        paths = [Path(p) for p in options["paths"]] or [loader.default_directory()]
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise CommandError(f"Introuvable : {', '.join(missing)}")
        problems = loader.validate(paths)
        for problem in problems:
            self.stderr.write(str(problem))
        if problems:
            raise CommandError(f"{len(problems)} erreur(s) dans le référentiel.")
        count = len(loader._expand(paths))
        self.stdout.write(self.style.SUCCESS(f"Référentiel valide ({count} fichier(s))."))

    def _show(self, options):
        try:
            referential = loader.load_referential(options["dir"])
        except loader.ReferentialError as exc:
            raise CommandError(str(exc)) from exc
        if not options["domain"]:
            rows = [
                {
                    "domain": code,
                    "versions": referential.versions(code),
                    "title": referential.domain(code).title,
                    "status": referential.domain(code).status,
                }
                for code in referential.codes()
            ]
            if options["json"]:
                self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            else:
                for row in rows:
                    self.stdout.write(
                        f"{row['domain']:<13} v{', v'.join(row['versions']):<8} "
                        f"[{row['status']}] {row['title']}"
                    )
            return
        try:
            domain = referential.domain(options["domain"], options["domain_version"])
        except KeyError as exc:
            raise CommandError(exc.args[0]) from exc
        if options["json"]:
            self.stdout.write(json.dumps(loader.dump_domain(domain), ensure_ascii=False, indent=2))
            return
        status = {"published": "publiée", "draft": "brouillon"}.get(domain.status, domain.status)
        self.stdout.write(f"{domain.domain} v{domain.version} ({status}) — {domain.title}")
        for name, window in domain.windows:
            if window is not None:
                opens = fmt_date(window.opens) if window.opens else "date à confirmer"
                closes = fmt_date(window.closes) if window.closes else "date à confirmer"
                self.stdout.write(
                    f"  guichet {WINDOW_NAMES_FR.get(name, name)} : {opens} → {closes}"
                    + (" (à confirmer)" if window.to_confirm else "")
                )
        for item in domain.items:
            indent = "  " if item.parent else ""
            flag = " (à confirmer)" if item.to_confirm else ""
            types = ", ".join(CRITERION_TYPE_LABELS.get(c.type, c.type) for c in item.criteria)
            self.stdout.write(
                f"{indent}{item.id:<10} {item.title}{flag}" + (f"  [{types}]" if types else "")
            )

    def _load(self, options):
        from careops.catalogue import services

        paths = [Path(p) for p in options["paths"]] or [loader.default_directory()]
        try:
            report = services.load_paths(paths)
        except services.LoadRefused as exc:
            for problem in exc.problems:
                self.stderr.write(problem)
            raise CommandError("Chargement refusé : rien n'a été modifié.") from exc
        if options.get("verbosity", 1) >= 1:
            for label in report.created:
                self.stdout.write(self.style.SUCCESS(f"chargée : {label}"))
            if report.unchanged:
                self.stdout.write(f"déjà à jour : {', '.join(report.unchanged)}")
