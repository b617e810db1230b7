"""``careops identity link|unlink|list``: an administrator links a federated identity to an account."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


def _providers() -> dict[str, str]:
    apps = settings.SOCIALACCOUNT_PROVIDERS.get("careops_oidc", {}).get("APPS", [])
    return {app["provider_id"]: app["name"] for app in apps}


class Command(BaseCommand):
    help = "Identités fédérées : link COMPTE FÉDÉRATION IDENTIFIANT ; unlink … ; list COMPTE."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        link = sub.add_parser(
            "link", help="lie une identité (ex. identifiant national PSC) à un compte"
        )
        unlink = sub.add_parser("unlink", help="retire le lien d'une identité")
        for command in (link, unlink):
            command.add_argument("username")
            command.add_argument("provider", help="fédération configurée (ex. psc, proconnect)")
            command.add_argument(
                "uid", help="identifiant de la personne chez la fédération (claim sub par défaut)"
            )
        listing = sub.add_parser("list", help="identités liées à un compte")
        listing.add_argument("username")

    def handle(self, *args, **options):
        from allauth.socialaccount.models import SocialAccount

        from careops.core import audit

        try:
            user = get_user_model().objects.get(username=options["username"])
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"Compte inconnu : {options['username']}") from exc
        if options["action"] == "list":
            accounts = SocialAccount.objects.filter(user=user)
            if not accounts:  # say so: an empty output read like a command that did nothing
                self.stdout.write(f"Aucune identité de fédération liée à {user}.")
            for account in accounts:
                self.stdout.write(
                    f"{account.provider}\t{account.uid}\t{account.last_login:%d/%m/%Y %H:%M}"
                )
            return
        providers = _providers()
        if options["provider"] not in providers:
            configured = ", ".join(providers) or "aucune"
            raise CommandError(
                f"Fédération inconnue : {options['provider']} (configurées : {configured}). "
                "Une fédération se déclare dans CAREOPS_OIDC_PROVIDERS (ex. psc,proconnect) avec "
                "ses réglages CAREOPS_OIDC_<ID>_… : voir docs/identity.md."
            )
        if options["action"] == "link":
            existing = SocialAccount.objects.filter(
                provider=options["provider"], uid=options["uid"]
            ).first()
            if existing and existing.user_id != user.pk:
                raise CommandError(f"Cette identité est déjà liée au compte {existing.user}.")
            SocialAccount.objects.get_or_create(
                user=user, provider=options["provider"], uid=options["uid"]
            )
            audit.record(
                None,
                "identity.link",
                user,
                None,
                f"{providers[options['provider']]} {options['uid']} lié à {user}",
            )
            self.stdout.write(
                self.style.SUCCESS(
                    f"{providers[options['provider']]} {options['uid']} lié à {user}."
                )
            )
        else:
            deleted, _ = SocialAccount.objects.filter(
                user=user, provider=options["provider"], uid=options["uid"]
            ).delete()
            if not deleted:
                raise CommandError("Aucun lien de ce type sur ce compte.")
            audit.record(
                None,
                "identity.unlink",
                user,
                None,
                f"{providers[options['provider']]} {options['uid']} délié de {user}",
            )
            self.stdout.write(self.style.SUCCESS("Lien retiré."))
