"""``careops egress internal-targets ORG --enable|--disable --reason …`` and ``egress list``.

Internal targets (loopback, private, link-local addresses) are refused for every outbound
connection careops makes on a user's behalf unless a platform administrator enables them for
the organisation (and its subtree); each change is journalled.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from careops.core import egress
from careops.tenancy.models import Organisation


class Command(BaseCommand):
    help = "Politique de sortie réseau : internal-targets ORG --enable|--disable, list."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        change = actions.add_parser(
            "internal-targets", help="autorise ou interdit les cibles internes d'une organisation"
        )
        change.add_argument("organisation", help="identifiant, FINESS ou nom exact")
        state = change.add_mutually_exclusive_group(required=True)
        state.add_argument("--enable", action="store_true", help="autoriser")
        state.add_argument("--disable", action="store_true", help="interdire")
        change.add_argument("--reason", default="", help="motif (obligatoire pour autoriser)")
        actions.add_parser("list", help="organisations dont les cibles internes sont autorisées")

    def handle(self, *args, **options):
        if options["action"] == "list":
            allowed = Organisation.objects.filter(internal_targets=True).order_by("path")
            for org in allowed:
                self.stdout.write(f"{org.pk}\t{org}")
            if not allowed:
                self.stdout.write(
                    "Aucune organisation n'est autorisée à viser des cibles internes "
                    "(adresses privées, de bouclage ou de lien local)."
                )
            return
        key = options["organisation"]
        query = Q(finess=key) | Q(name=key)
        if key.isdigit():
            query |= Q(pk=int(key))
        found = list(Organisation.objects.filter(query)[:2])
        if len(found) != 1:
            raise CommandError(f"Organisation « {key} » introuvable ou ambiguë.")
        try:
            egress.set_internal_targets(None, found[0], options["enable"], options["reason"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        state = "autorisées" if options["enable"] else "interdites"
        self.stdout.write(f"Cibles internes {state} pour {found[0]}.")
