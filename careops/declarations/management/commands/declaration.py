"""``careops declaration export ORG DOMAIN OUT.zip --user NAME``: write a filed dossier to a ZIP.

ORG is a FINESS number or an organisation id; DOMAIN a domain code (D1, D2…). The ZIP holds the
PDF and HTML summary, the canonical snapshot, the frozen evidence files and a SHA-256 manifest
(``sha256sum -c MANIFEST.sha256`` checks it). The export is made with the rights of the account
NAME, as a download from the web would be: the declaration must be visible to it, and each
evidence file goes through the same restriction helper as the evidence pages.
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from careops.declarations import exports
from careops.declarations.models import Declaration
from careops.tenancy import scope
from careops.tenancy.models import Organisation


class Command(BaseCommand):
    help = "Déclarations d'atteinte : export du dossier déposé (résumé PDF, preuves, manifeste SHA-256)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="exporter le dossier déposé d'un candidat")
        export.add_argument("org", help="numéro FINESS ou identifiant de l'organisation")
        export.add_argument("domain", help="code du domaine (D1, D1BIS, D2…)")
        export.add_argument("out", help="fichier ZIP à écrire")
        export.add_argument(
            "--user",
            required=True,
            help="compte dont les droits s'appliquent (identifiant) : seuls les fichiers "
            "qu'il peut lire sont exportés",
        )

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username=options["user"].strip()).first()
        if user is None or not user.is_active:
            raise CommandError(f"compte introuvable ou désactivé : {options['user']}")
        org = options["org"].strip()
        organisation = Organisation.objects.filter(finess=org).first()
        if organisation is None and org.isdigit():
            organisation = Organisation.objects.filter(pk=int(org)).first()
        if organisation is None:
            raise CommandError(f"organisation introuvable : {org}")
        domain = options["domain"].strip().upper()
        declaration = (
            scope.restrict(Declaration.objects.all(), user)
            .filter(candidacy__candidate=organisation, candidacy__domain=domain)
            .select_related("candidacy__candidate", "candidacy__referential_version")
            .first()
        )
        if declaration is None:
            raise CommandError(
                f"aucune déclaration déposée par {organisation.name} pour le domaine {domain} "
                f"visible par le compte {user.get_username()}"
            )
        out = Path(options["out"])
        if out.parent and not out.parent.exists():
            raise CommandError(f"dossier inexistant : {out.parent}")
        digests = exports.write_dossier(declaration, out, user)
        frozen = sum(len(e["files"]) for e in declaration.snapshot["evidence"])
        included = sum(1 for path in digests if path.startswith("preuves/"))
        if included < frozen:
            self.stderr.write(
                f"{frozen - included} fichier(s) de preuve hors des droits de "
                f"{user.get_username()} : non inclus (voir MANIFEST.sha256)"
            )
        self.stdout.write(
            f"{out} : {len(digests)} fichier(s), empreinte de la déclaration "
            f"{declaration.content_sha256}"
        )
