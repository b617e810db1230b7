"""The one ``careops`` entry point: its own French help, then a table of commands.

Engine commands (``exposure scan``, ``ad``, ``evaluate``, ``bia``, ``backups``) start without
Django: they need no database and import only what they use. The others are Django management
commands under friendly names (``run`` → ``careops_run``…); any other Django command
(``migrate``, ``createsuperuser``, ``shell``…) passes through.

To add a command: one ``Command`` row in ``COMMANDS`` (``target`` is ``module:Class`` of a
``careops.commandkit.BaseCommand`` for a Django-free command, ``module:function`` taking the
remaining words for a custom runner, or ``django:NAME`` for a management command).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]  # what the user types: ("exposure", "scan")
    group: str
    usage: str
    summary: str
    target: str


def _exposure_scan(args: list[str]) -> int:
    """``careops exposure scan …``: the engine alone, without Django (it needs no database)."""
    from pathlib import Path

    from careops import config
    from careops.exposure.engine.cli import main as scan_main

    default_vulndb = Path(config.load()["DATA_DIR"]) / "vulndb.sqlite3"
    return scan_main(args, str(default_vulndb), prog="careops exposure")


def _hospiconnect(args: list[str]) -> int:
    """``careops hospiconnect indicators …``: the indicators engine alone, without Django."""
    from careops.hospiconnect.engine.cli import main as hospiconnect_main

    return hospiconnect_main(args, prog="careops hospiconnect")


def _maturity(args: list[str]) -> int:
    """``careops maturity score|list …``: the questionnaire engine alone, without Django."""
    from careops.maturity.engine.cli import maturity_main

    return maturity_main(args, prog="careops maturity")


def _awareness(args: list[str]) -> int:
    """``careops awareness phishing|training …``: GoPhish results, sign-in sheets, without Django."""
    from careops.awareness.engine.cli import main as awareness_main

    return awareness_main(args, prog="careops awareness")


def _exercises(args: list[str]) -> int:
    """``careops exercises scenarios|show …``: the scenario library alone, without Django."""
    from careops.exercises.engine.cli import main as exercises_main

    return exercises_main(args, prog="careops exercises")


def _remote_access(args: list[str]) -> int:
    """``careops remote-access check …``: the D3 engine alone (no database, no Django)."""
    from careops.remote_access.engine.cli import main as remote_access_main

    return remote_access_main(args)


PLATFORM = "Plateforme"
REFERENTIAL = "Référentiel et évaluation (sans base de données)"
ENGINES = "Moteurs d'audit (sans base de données, sans Django)"
DATA = "Données"
SECURITY = "Sécurité et identités"

COMMANDS: list[Command] = [
    Command(
        ("run",),
        PLATFORM,
        "[--port 8000] [--no-demo]",
        "migre, charge le référentiel, crée la démo, sert le web avec un worker intégré",
        "django:careops_run",
    ),
    Command(
        ("worker",),
        PLATFORM,
        "[-w 2] [--no-periodic]",
        "lance un consommateur de tâches (autant de processus et de machines que voulu)",
        "django:careops_worker",
    ),
    Command(
        ("serve",),
        PLATFORM,
        "[--bind 127.0.0.1:8000|unix:/run/careops/web.sock] [--workers N] [--threads N]",
        "serveur web de production (gunicorn, dimensionné d'après la machine), derrière nginx",
        "careops.core.serve:main",
    ),
    Command(
        ("scheduler",),
        PLATFORM,
        "[--once]",
        "planifie les tâches périodiques une fois par minute (workers en --no-periodic)",
        "django:careops_scheduler",
    ),
    Command(
        ("demo",),
        PLATFORM,
        "",
        "crée l'organisation de démonstration (idempotent) et affiche les comptes",
        "django:careops_demo",
    ),
    Command(
        ("token",),
        PLATFORM,
        "create UTILISATEUR --name NOM [--days 90] [--read-only] | list | revoke",
        "jetons d'API : création (valeur affichée une seule fois), liste, révocation",
        "django:careops_token",
    ),
    Command(
        ("storage",),
        PLATFORM,
        "check | verify [--json] | migrate --to s3|local [--json]",
        "stockage des preuves : joignable, relecture SHA-256 de tout, déplacement vérifié",
        "django:careops_storage",
    ),
    Command(
        ("platform",),
        PLATFORM,
        "backup DOSSIER | check DOSSIER | restore DOSSIER [--force]",
        "sauvegarde de la plateforme (base, preuves, référentiel, manifeste SHA-256)",
        "django:careops_platform",
    ),
    Command(
        ("catalogue",),
        REFERENTIAL,
        "validate|show|load [FICHIERS…] [--json]",
        "valide, affiche ou charge en base des versions du référentiel",
        "django:catalogue",
    ),
    Command(
        ("evaluate",),
        REFERENTIAL,
        "DOSSIER [--json] [--dir RÉFÉRENTIEL]",
        "évalue un dossier YAML/JSON contre le référentiel",
        "careops.catalogue.commands:EvaluateCommand",
    ),
    Command(
        ("exposure", "scan"),
        ENGINES,
        "CIBLE… [--ports SPEC] [--profile internet|internal] [--allow-private] [--json]",
        "audit d'exposition : tous les ports TCP et IKE, services, TLS, vulnérabilités, constats",
        "careops.cli:_exposure_scan",
    ),
    Command(
        ("ad",),
        ENGINES,
        "collect|analyze --server ldaps://HÔTE … | --dump X | --oradad D | --pingcastle X",
        "Active Directory : collecte LDAP en lecture seule, points ANSSI, niveau 1–5",
        "careops.directory.commands:AdCommand",
    ),
    Command(
        ("bia",),
        ENGINES,
        "template CLASSEUR.xlsx [--exemple] [--force] | analyze CLASSEUR.xlsx [--json]",
        "BIA : classeur documenté ; DMIA, priorités, vagues de reprise, erreurs",
        "careops.continuity.commands:BiaCommand",
    ),
    Command(
        ("backups",),
        ENGINES,
        "verify CONFIG.yaml [--json] | manifest DOSSIER",
        "vérifie des dépôts restic/borg (fraîcheur, intégrité, restauration)",
        "careops.backups.commands:BackupsCommand",
    ),
    Command(
        ("vulndb",),
        DATA,
        "import --kev FICHIER [--nvd FICHIER] | info",
        "construit la base locale des vulnérabilités (KEV CISA, NVD 2.0), hors ligne",
        "django:vulndb",
    ),
    Command(
        ("declaration",),
        DATA,
        "export ORG DOMAINE DOSSIER.zip --user COMPTE",
        "dossier de déclaration : synthèse PDF/HTML, instantané figé, preuves, empreintes",
        "django:declaration",
    ),
    Command(
        ("hospiconnect", "indicators"),
        ENGINES,
        "--dpi F [--rpps F] [--mfa F] [--ad DUMP] [--dmp F] [--as-of DATE] [--json]",
        "indicateurs HospiConnect (RPPS, MIE 2FA, DMP) depuis les exports de l'établissement",
        "careops.cli:_hospiconnect",
    ),
    Command(
        ("remote-access", "check"),
        ENGINES,
        "INVENTAIRE.xlsx [--exposure SCAN.json] [--ad DUMP] [--vpn-config F…] [--bastion-log F…] [--json]",
        "accès distants (D3) : contrôles A1–A14, notes, accès non déclarés",
        "careops.cli:_remote_access",
    ),
    Command(
        ("maturity",),
        ENGINES,
        "score QUESTIONNAIRE REPONSES.yaml [--json] | list | nis2 --secteur S --effectif N | parcours [--niveau N]",
        "auto-évaluation de maturité (diagnostic, NIS 2 art. 21) ; classement NIS 2 ; parcours AAP MS",
        "careops.cli:_maturity",
    ),
    Command(
        ("awareness",),
        ENGINES,
        "phishing EXPORT.csv… [--json] | training FEUILLE… --effectifs F [--mois 12] [--json]",
        "hameçonnage (GoPhish) : taux de clic, saisie, signalement ; part du personnel formé",
        "careops.cli:_awareness",
    ),
    Command(
        ("exercises",),
        ENGINES,
        "scenarios [FICHIERS…] [--json] | show SCÉNARIO [--json]",
        "exercices de crise : liste et valide la bibliothèque de scénarios, affiche un scénario",
        "careops.cli:_exercises",
    ),
    Command(
        ("hospiconnect",),
        DATA,
        "rpps-import EXTRACTION [--force]",
        "importe l'annuaire RPPS (RPPS et profession) contre lequel les mesures sont vérifiées",
        "django:hospiconnect",
    ),
    Command(
        ("identity",),
        SECURITY,
        "link|unlink COMPTE FÉDÉRATION IDENTIFIANT | list COMPTE",
        "lie une identité Pro Santé Connect / ProConnect à un compte",
        "django:identity",
    ),
    Command(
        ("secrets",),
        SECURITY,
        "generate-key | rotate",
        "clé de chiffrement ; rechiffre chaque secret stocké avec la nouvelle clé",
        "django:careops_secrets",
    ),
    Command(
        ("egress",),
        SECURITY,
        "internal-targets ORG --enable|--disable --reason … | list",
        "autorise (journalisé) les cibles internes d'une organisation",
        "django:careops_egress",
    ),
]


def help_text() -> str:
    """``careops --help``: the commands, grouped, in French."""
    lines = [
        "usage : careops COMMANDE [OPTIONS]",
        "",
        "careops : sécurité opérationnelle du programme CaRE (axe 4).",
        "« careops COMMANDE --help » décrit les options d'une commande.",
    ]
    groups: dict[str, list[Command]] = {}
    for command in COMMANDS:
        groups.setdefault(command.group, []).append(command)
    for group, commands in groups.items():
        lines += ["", f"{group} :"]
        for command in commands:
            lines.append(f"  careops {' '.join(command.words)} {command.usage}".rstrip())
            lines.append(f"      {command.summary}")
    lines += [
        "",
        "Administration (commandes Django) :",
        "  careops migrate | createsuperuser | shell | makemigrations APP -n NOM …",
        "",
        "Configuration : variables CAREOPS_* (voir README.md).",
    ]
    return "\n".join(lines) + "\n"


def _find(args: list[str]) -> Command | None:
    for command in COMMANDS:
        if tuple(args[: len(command.words)]) == command.words:
            return command
    return None


# Django adds these options to every management command, with English help: said in French here
# (keyed by option, so a new Django wording still gets the French one).
_DJANGO_OPTIONS_FRENCH = {
    "--version": "affiche la version de Django et quitte",
    "--verbosity": "niveau de détail : 0 minimal, 1 normal, 2 détaillé, 3 très détaillé",
    "--settings": "module Python des réglages (défaut : DJANGO_SETTINGS_MODULE)",
    "--pythonpath": "dossier à ajouter au chemin de recherche de Python",
    "--traceback": "affiche la pile d'appels complète en cas d'erreur",
    "--no-color": "sortie sans couleurs",
    "--force-color": "force les couleurs de la sortie",
    "--skip-checks": "ne lance pas les contrôles du système",
}


def _french_django_options() -> None:
    """Make the help of Django's common options French in every management command's parser."""
    from django.core.management.base import BaseCommand

    if getattr(BaseCommand.create_parser, "careops_french", False):
        return
    create_parser = BaseCommand.create_parser

    def french_create_parser(self, prog_name, subcommand, **kwargs):
        # usage lines and argument errors name the command as users type it (token, not
        # careops_token)
        subcommand = " ".join(_public_words(subcommand))
        parser = create_parser(self, prog_name, subcommand, **kwargs)
        for action in parser._actions:
            for option in action.option_strings:
                if option in _DJANGO_OPTIONS_FRENCH:
                    action.help = _DJANGO_OPTIONS_FRENCH[option]
        return parser

    french_create_parser.careops_french = True
    BaseCommand.create_parser = french_create_parser
    run_from_argv = BaseCommand.run_from_argv

    def french_run_from_argv(self, argv):
        """A refused command says ``careops COMMANDE : erreur : …``, not ``CommandError: …``."""
        from django.core.management.base import CommandError, SystemCheckError

        execute = self.execute
        words = " ".join(_public_words(argv[1]))

        def french_execute(*args, **options):
            try:
                return execute(*args, **options)
            except CommandError as exc:
                if options.get("traceback") or isinstance(exc, SystemCheckError):
                    raise
                sys.stderr.write(f"careops {words} : erreur : {exc}\n")
                sys.exit(exc.returncode)

        self.execute = french_execute
        return run_from_argv(self, argv)

    BaseCommand.run_from_argv = french_run_from_argv


def _public_words(name: str) -> tuple[str, ...]:
    """The words users type for a management command (``careops_run`` → ``run``)."""
    for command in COMMANDS:
        if command.target == f"django:{name}":
            return command.words
    return (name,)


def _unknown_command(args: list[str]) -> int | None:
    """A first word that is neither a careops command nor a Django one: French help, exit code.

    ``careops remote-access`` (a group typed without its subcommand) lists the group's commands;
    any other unknown word says so. ``None`` when Django knows the command."""
    import django
    from django.core.management import get_commands

    django.setup()  # get_commands() lists the installed apps' commands
    word = args[0]
    if word in get_commands():
        return None
    group = [command for command in COMMANDS if command.words[0] == word]
    if group:
        lines = [f"usage : careops {' '.join(c.words)} {c.usage}".rstrip() for c in group]
        asked_help = len(args) == 1 or args[1] in ("-h", "--help")
        if not asked_help:
            lines.append(f"careops {word} : sous-commande inconnue « {args[1]} ».")
        stream = sys.stdout if asked_help and len(args) > 1 else sys.stderr
        stream.write("\n".join(lines) + "\n")
        return 0 if stream is sys.stdout else 2
    sys.stderr.write(
        f"careops : commande inconnue « {word} ». « careops --help » liste les commandes.\n"
    )
    return 1


def _run_django(args: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careops.settings")
    from django.core.management import execute_from_command_line

    from careops.config import ConfigError

    _french_django_options()
    try:
        if args and not args[0].startswith("-"):
            code = _unknown_command(args)
            if code is not None:
                sys.exit(code)
        execute_from_command_line(["careops", *args])
    except ConfigError as exc:  # a configuration refused while loading the settings
        sys.stderr.write(f"careops : configuration refusée : {exc}\n")
        sys.exit(2)


def _django_help(name: str, words: str, rest: list[str]) -> None:
    """``careops run --help``, ``careops catalogue validate --help``: the management command's
    own help (argparse prints it and exits), under the name users type."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careops.settings")
    import django
    from django.core.management import get_commands, load_command_class

    django.setup()
    _french_django_options()
    command = load_command_class(get_commands()[name], name)
    command.create_parser("careops", words).parse_args(rest)


def main(argv: list[str] | None = None) -> None:
    """Run a careops command (see ``careops --help``)."""
    try:
        _main(argv)
    except BrokenPipeError:
        # the reader went away (``careops … | head``): stop quietly, as other tools do, instead
        # of a traceback; stdout is pointed at /dev/null so the final flush cannot fail again
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(141)  # 128 + SIGPIPE, what a shell reports for a command killed by SIGPIPE


def _main(argv: list[str] | None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    from careops.commandkit import french_argparse

    french_argparse()
    if not args or args[0] in ("-h", "--help", "help"):
        if len(args) > 1 and args[0] == "help":  # careops help COMMAND
            return _main([*args[1:], "--help"])
        sys.stdout.write(help_text())
        sys.exit(0)
    command = _find(args)
    if command is None:
        _run_django(args)
        return
    kind, _, name = command.target.partition(":")
    if kind == "django":
        if "-h" in args[1:] or "--help" in args[1:]:
            _django_help(name, " ".join(command.words), args[len(command.words) :])
        _run_django([name, *args[1:]])
        return
    import importlib

    target = getattr(importlib.import_module(kind), name)
    rest = args[len(command.words) :]
    if isinstance(target, type):
        from careops import commandkit

        sys.exit(commandkit.run(target, f"careops {' '.join(command.words)}", rest))
    # custom runners receive the words after the first one ("scan …" for "exposure scan")
    sys.exit(target(args[1:]))


if __name__ == "__main__":
    main()
