"""``careops hospiconnect rpps-import EXTRACTION`` (``indicators`` runs without Django, see cli.py)."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from careops.hospiconnect.engine.tables import TableError


class Command(BaseCommand):
    help = (
        "HospiConnect : rpps-import EXTRACTION (annuaire RPPS de la plateforme). Les indicateurs "
        "se calculent sans base : careops hospiconnect indicators --help."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        rpps = sub.add_parser(
            "rpps-import",
            help="importe l'extraction RPPS de l'Annuaire Santé (remplace l'annuaire précédent)",
        )
        rpps.add_argument("path", help="fichier PS_LibreAcces_Personne_activite (séparateur « | »)")
        rpps.add_argument(
            "--force",
            action="store_true",
            help="charger même une extraction deux fois plus petite que l'annuaire actuel",
        )

    def handle(self, *args, **options):
        from careops.hospiconnect import services

        path = Path(options["path"])

        def progress(fraction: float) -> None:
            self.stdout.write(f"  lu : {fraction * 100:.0f} %")

        try:
            done = services.import_rpps_directory(path, progress=progress, force=options["force"])
        except TableError as exc:
            raise CommandError(str(exc)) from exc
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Annuaire RPPS importé : {done.people} professionnels ({done.lines} lignes d'activité)."
            )
        )
