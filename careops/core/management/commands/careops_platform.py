"""``careops platform backup OUT`` and ``careops platform restore IN [--force]``.

See ``careops/core/platform_backup.py`` for what a platform backup holds and
``docs/platform-storage.md`` for the schedule (restic) and the encryption key.
"""

import sys

from django.core.management.base import BaseCommand, CommandError

from careops.core import audit
from careops.core.platform_backup import PlatformBackupError, backup, check_archive, restore
from careops.core.storage import StorageError


class Command(BaseCommand):
    help = "Sauvegarde et restauration de la plateforme (base, preuves, référentiel, manifeste)."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        out = actions.add_parser("backup", help="écrit une sauvegarde dans un dossier vide")
        out.add_argument("folder", help="dossier de sortie (absent ou vide)")
        check = actions.add_parser("check", help="vérifie une sauvegarde contre son manifeste")
        check.add_argument("folder")
        back = actions.add_parser("restore", help="restaure une sauvegarde (installation vide)")
        back.add_argument("folder")
        back.add_argument(
            "--force", action="store_true", help="remplace le contenu d'une installation non vide"
        )

    def _progress(self, message: str) -> None:
        self.stderr.write(message)

    def handle(self, *args, **options):
        folder = options["folder"]
        try:
            if options["action"] == "backup":
                manifest = backup(folder, self._progress)
                counts = manifest["counts"]
                self.stdout.write(
                    f"Sauvegarde écrite dans {folder} : base {manifest['database']['engine']}, "
                    f"{manifest['storage']['objects']} objet(s) du stockage, "
                    f"{len(manifest['referential'])} version(s) du référentiel, "
                    f"{manifest['files']} fichier(s) au manifeste ; {counts['organisations']} "
                    f"organisation(s), {counts['evidence_files']} fichier(s) de preuve, "
                    f"{counts['declarations']} déclaration(s)."
                )
                self.stdout.write(
                    "La clé de chiffrement n'est pas dans la sauvegarde : la conserver à part "
                    f"(empreinte {manifest['encryption_key_fingerprint']})."
                )
                missing, corrupted = (
                    manifest["storage"]["missing"],
                    manifest["storage"]["corrupted"],
                )
                if missing or corrupted:
                    self.stderr.write(
                        f"ATTENTION : {len(missing)} fichier(s) nommés en base absents du stockage "
                        f"et {len(corrupted)} objet(s) altéré(s), non copiés (careops storage "
                        "verify) ; le reste est sauvegardé."
                    )
                    sys.exit(1)
                audit.record(None, "core.platform.backup", None, None, f"sauvegarde : {folder}")
                return
            if options["action"] == "check":
                manifest = check_archive(folder, self._progress)
                self.stdout.write(
                    f"Sauvegarde du {manifest['created_at']} intacte : chaque empreinte SHA-256 "
                    "correspond au manifeste."
                )
                return
            report = restore(folder, force=options["force"], progress=self._progress)
        except (PlatformBackupError, StorageError) as exc:
            raise CommandError(str(exc)) from exc
        counts = report["counts"]
        self.stdout.write(
            f"Restauration terminée (sauvegarde du {report['created_at']}) : "
            f"{report['objects']} objet(s) du stockage, {counts['organisations']} organisation(s), "
            f"{counts['evidence_files']} fichier(s) de preuve, {counts['declarations']} "
            "déclaration(s)."
        )
        for warning in report["warnings"]:
            self.stderr.write(f"ATTENTION : {warning}")
        audit.record(None, "core.platform.restore", None, None, f"restauration : {folder}")
