"""``careops storage check|verify|migrate --to s3|local``: the evidence store.

``migrate`` copies every file the database names from one store to the other, verifies each copy
by reading it back (SHA-256), then points the row at it; it deletes nothing and can be run again
after an interruption (objects already copied are verified, not copied again).
"""

import json
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from careops.core import audit
from careops.core import storage as store_module
from careops.core.storage_moves import Counts, migrate, verify


class Command(BaseCommand):
    help = "Stockage des preuves : check (joignable), verify (relit tout), migrate --to s3|local."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        actions.add_parser("check", help="le stockage configuré répond-il ?")
        check = actions.add_parser("verify", help="relit chaque fichier et vérifie son SHA-256")
        check.add_argument("--json", action="store_true", help="rapport JSON")
        move = actions.add_parser("migrate", help="copie, vérifie et bascule vers l'autre stockage")
        move.add_argument("--to", required=True, choices=["s3", "local"], help="destination")
        move.add_argument("--json", action="store_true", help="rapport JSON")

    def _progress(self, number: int, total: int, name: str) -> None:
        step = max(1, total // 100)
        if number == 1 or number == total or number % step == 0:
            self.stderr.write(f"[{number}/{total}] {name}")

    def handle(self, *args, **options):
        try:
            if options["action"] == "check":
                state = store_module.check_reachable()
                self.stdout.write(
                    f"Stockage des preuves ({state.backend}) : "
                    + ("joignable" if state.ok else "INJOIGNABLE")
                    + f" — {state.detail}"
                )
                if not state.ok:
                    sys.exit(1)
                return
            if options["action"] == "verify":
                store = store_module.current()
                self.stderr.write(f"Vérification de {store.describe()}")
                counts = verify(store, self._progress)
                self._report(counts, options["json"], moved=False)
                return
            source_kind = "local" if options["to"] == "s3" else "s3"
            source = store_module.build(source_kind)
            destination = store_module.build(options["to"])
        except store_module.StorageError as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write(f"Déplacement : {source.describe()} → {destination.describe()}")
        counts = migrate(source, destination, self._progress)
        audit.record(
            None,
            "core.storage.migrate",
            None,
            None,
            f"stockage des preuves : {source.describe()} → {destination.describe()}, "
            f"{counts.copied} copié(s), {counts.problems} en défaut",
            changes={k: v for k, v in counts.to_dict().items() if isinstance(v, int)},
        )
        self._report(counts, options["json"], moved=True)
        if not counts.problems:
            configured = str(settings.CONFIG["STORAGE"]).lower()
            if configured != options["to"]:
                self.stdout.write(
                    f"Étape suivante : CAREOPS_STORAGE={options['to']} sur chaque nœud, puis "
                    "« careops storage verify ». Le stockage d'origine n'est pas effacé."
                )

    def _report(self, counts: Counts, as_json: bool, moved: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(counts.to_dict(), ensure_ascii=False, indent=2))
        else:
            out = self.stdout.write
            out(f"Fichiers nommés en base : {counts.total}")
            if moved:
                out(f"  copiés et relus        : {counts.copied}")
                out(f"  déjà présents, relus   : {counts.already}")
                out(f"  noms mis à jour        : {counts.renamed}")
            out(f"  vérifiés (SHA-256)     : {counts.verified}")
            for label, names in (
                ("absents", counts.missing),
                ("altérés", counts.corrupted),
                ("différents de l'empreinte en base", counts.mismatched),
                ("en erreur", counts.errors),
                ("sous un ancien nom (sans empreinte)", counts.legacy),
            ):
                if names:
                    out(f"  {label} : {len(names)}")
                    for name in names[:20]:
                        out(f"    - {name}")
        if counts.problems:
            sys.stdout.flush()
            raise CommandError(
                f"{counts.problems} fichier(s) en défaut : voir la liste ci-dessus.", returncode=1
            )
