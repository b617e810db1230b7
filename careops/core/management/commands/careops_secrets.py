"""``careops secrets rotate|generate-key``: the encryption keys of stored secrets.

Rotation: put the new key first in ``CAREOPS_ENCRYPTION_KEY`` (``new,old``), run
``careops secrets rotate`` (every stored secret of every app is re-encrypted with the new key,
counts printed), then remove the old key.
"""

from cryptography.fernet import Fernet
from django.core.management.base import BaseCommand, CommandError

from careops.core import audit, crypto


class Command(BaseCommand):
    help = "Clés de chiffrement des secrets : rotate (rechiffre tout), generate-key."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        actions.add_parser("rotate", help="rechiffre chaque secret stocké avec la première clé")
        actions.add_parser("generate-key", help="affiche une nouvelle clé Fernet")

    def handle(self, *args, **options):
        if options["action"] == "generate-key":
            self.stdout.write(Fernet.generate_key().decode())
            return
        if not crypto.configured_keys():
            raise CommandError(
                "Aucune clé dans CAREOPS_ENCRYPTION_KEY : générer une clé "
                "(careops secrets generate-key), la déclarer, puis relancer la rotation."
            )
        report = crypto.rotate()
        rotated = sum(c["rotated"] for c in report.values())
        unreadable = sum(c["unreadable"] for c in report.values())
        for field, counts in report.items():
            self.stdout.write(
                f"{field} : {counts['rotated']} rechiffré(s), {counts['unreadable']} illisible(s)"
            )
        self.stdout.write(f"Total : {rotated} secret(s) rechiffré(s), {unreadable} illisible(s).")
        audit.record(
            None,
            "core.secrets.rotate",
            None,
            None,
            f"rotation des clés : {rotated} rechiffré(s), {unreadable} illisible(s)",
            changes=report,
        )
        if unreadable:
            raise CommandError(
                f"{unreadable} secret(s) illisible(s) avec les clés déclarées : les saisir de "
                "nouveau (ou ajouter l'ancienne clé à CAREOPS_ENCRYPTION_KEY)."
            )
