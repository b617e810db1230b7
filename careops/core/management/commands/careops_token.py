"""``careops token create|list|revoke``: manage the API tokens of a user.

``create`` prints the clear token once, alone on standard output (so that a script can capture
it); only its SHA-256 is kept. ``revoke`` deletes a token by the prefix ``list`` shows.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from careops.core import tokens
from careops.core.models import ApiToken


class Command(BaseCommand):
    help = (
        "Gère les jetons d'API : create UTILISATEUR --name NOM [--days N] [--read-only], "
        "list, revoke."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser("create", help="crée un jeton et l'affiche une seule fois")
        create.add_argument("username", metavar="IDENTIFIANT", help="identifiant de l'utilisateur")
        create.add_argument("--name", required=True, help="nom du jeton (usage, machine…)")
        create.add_argument(
            "--days",
            type=int,
            default=tokens.DEFAULT_DAYS,
            help=f"durée de validité en jours, 1 à {tokens.MAX_DAYS} (défaut : "
            f"{tokens.DEFAULT_DAYS})",
        )
        create.add_argument(
            "--read-only",
            action="store_true",
            help="jeton en lecture seule (refusé sur toute modification)",
        )
        listing = actions.add_parser("list", help="liste les jetons d'un utilisateur")
        listing.add_argument("username", metavar="IDENTIFIANT", help="identifiant de l'utilisateur")
        revoke = actions.add_parser("revoke", help="révoque (supprime) un jeton")
        revoke.add_argument(
            "prefix", metavar="PRÉFIXE", help="préfixe du jeton, tel que « list » l'affiche"
        )
        revoke.add_argument("--user", dest="revoke_user", help="utilisateur, si ambigu")

    def handle(self, *args, **options):
        handler = {"create": self._create, "list": self._list, "revoke": self._revoke}
        handler[options["action"]](options)

    def _user(self, username: str):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"Utilisateur « {username} » introuvable.")
        return user

    def _create(self, options) -> None:
        user = self._user(options["username"])
        try:
            token, value = tokens.create(
                None, user, options["name"], options["days"], options["read_only"]
            )
        except (PermissionDenied, ValidationError) as exc:
            message = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            raise CommandError(message) from exc
        scope = "lecture seule" if token.read_only else "lecture et écriture"
        self.stderr.write(
            f"Jeton « {token.name} » créé pour {user.get_username()} ({scope}, jusqu'au "
            f"{timezone.localtime(token.expires_at):%d/%m/%Y %H:%M}). "
            "Copiez-le maintenant : il ne sera plus jamais affiché."
        )
        self.stdout.write(value)

    def _list(self, options) -> None:
        user = self._user(options["username"])
        now = timezone.now()
        rows = ApiToken.objects.filter(user=user).order_by("created_at")
        if not rows:
            self.stdout.write(f"Aucun jeton pour {user.get_username()}.")
            return
        self.stdout.write(
            "préfixe   état     portée   créé le           expire le         dernier usage     nom"
        )
        for token in rows:
            state = "expiré" if token.expires_at and token.expires_at <= now else "actif"
            scope = "lecture" if token.read_only else "complet"
            self.stdout.write(
                f"{token.prefix:<9} {state:<8} {scope:<8} {_when(token.created_at):<17} "
                f"{_when(token.expires_at, 'jamais'):<17} {_when(token.last_used_at, '—'):<17} "
                f"{token.name}"
            )

    def _revoke(self, options) -> None:
        prefix = options["prefix"].removeprefix("cop_")[:8]
        matches = ApiToken.objects.select_related("user").filter(prefix=prefix)
        if options["revoke_user"]:
            matches = matches.filter(user__username=options["revoke_user"])
        found = list(matches)
        if not found:
            raise CommandError(f"Aucun jeton de préfixe « {prefix} ».")
        if len(found) > 1:
            owners = ", ".join(sorted({t.user.get_username() for t in found}))
            raise CommandError(
                f"Plusieurs jetons ont le préfixe « {prefix} » ({owners}) : précisez --user."
            )
        token = found[0]
        tokens.revoke(None, token)
        self.stdout.write(f"Jeton {prefix}… « {token.name} » révoqué.")


def _when(moment, empty: str = "") -> str:
    return f"{timezone.localtime(moment):%d/%m/%Y %H:%M}" if moment else empty
