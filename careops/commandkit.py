"""Commands that start without Django: the surface of Django's BaseCommand these engine commands
use (``help``, ``add_arguments``, ``handle``, ``self.stdout.write(text, ending=…)``,
``self.style.SUCCESS``, ``CommandError``), in plain Python.

``careops ad|evaluate|bia|backups …`` run them directly (careops/cli.py), so they pay neither
Django's start-up nor its imports; ``django_command`` wraps the same class as a management
command (``call_command``, ``manage.py``).
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

# argparse's own words (usage, errors, help headings) in French: argparse looks its ``_`` and
# ``ngettext`` up at call time, so every parser of the process (engine and Django commands) speaks
# French once ``french_argparse()`` ran.
_ARGPARSE_FRENCH = {
    "usage: ": "utilisation : ",
    "positional arguments": "arguments",
    "options": "options",
    "subcommands": "sous-commandes",
    "show this help message and exit": "affiche cette aide et quitte",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s : %(message)s",
    "%(prog)s: error: %(message)s\n": "%(prog)s : erreur : %(message)s\n",
    "the following arguments are required: %s": "arguments obligatoires manquants : %s",
    "one of the arguments %s is required": "l'un des arguments %s est obligatoire",
    "unrecognized arguments: %s": "arguments non reconnus : %s",
    "not allowed with argument %s": "incompatible avec l'argument %s",
    "ignored explicit argument %r": "valeur %r ignorée",
    "unexpected option string: %s": "option inattendue : %s",
    "expected one argument": "une valeur attendue",
    "expected at most one argument": "au plus une valeur attendue",
    "expected at least one argument": "au moins une valeur attendue",
    "ambiguous option: %(option)s could match %(matches)s": (
        "option ambiguë : %(option)s peut désigner %(matches)s"
    ),
    "invalid %(type)s value: %(value)r": "valeur invalide : %(value)r (%(type)s attendu)",
    "invalid choice: %(value)r (choose from %(choices)s)": (
        "choix invalide : %(value)r (possibles : %(choices)s)"
    ),
    "unknown parser %(parser_name)r (choices: %(choices)s)": (
        "sous-commande inconnue : %(parser_name)r (possibles : %(choices)s)"
    ),
    "can't open '%(filename)s': %(error)s": "impossible d'ouvrir « %(filename)s » : %(error)s",
}
_ARGPARSE_FRENCH_PLURAL = {"expected %s argument": ("%s valeur attendue", "%s valeurs attendues")}


def french_argparse() -> None:
    """Make argparse's usage lines, error messages and help headings French."""

    def translate(message):
        return _ARGPARSE_FRENCH.get(message, message)

    def translate_plural(singular, plural, count):
        french = _ARGPARSE_FRENCH_PLURAL.get(singular)
        if french is None:
            return singular if count == 1 else plural
        return french[0] if count == 1 else french[1]

    argparse._ = translate
    argparse.ngettext = translate_plural


class CommandError(Exception):
    """Bad input or a failed run: a French message, exit code 1."""


class _Output:
    def __init__(self, stream: TextIO):
        self._stream = stream

    def write(self, text: str = "", ending: str = "\n") -> None:
        if ending and not text.endswith(ending):
            text += ending
        self._stream.write(text)

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name):
        return getattr(self._stream, name)


class _Style:
    def __getattr__(self, name):
        return lambda text: text


class BaseCommand:
    """Django-free stand-in for ``django.core.management.base.BaseCommand``."""

    help = ""
    requires_system_checks: list = []

    def __init__(self, stdout: TextIO | None = None, stderr: TextIO | None = None):
        self.stdout = _Output(stdout or sys.stdout)
        self.stderr = _Output(stderr or sys.stderr)
        self.style = _Style()

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Declare the options (argparse)."""

    def handle(self, *args, **options):
        raise NotImplementedError


def run(command_class: type[BaseCommand], prog: str, argv: list[str]) -> int:
    """Parse ``argv`` and run the command without Django; the exit code."""
    command = command_class()
    parser = argparse.ArgumentParser(prog=prog, description=command_class.help)
    command.add_arguments(parser)
    options = vars(parser.parse_args(argv))
    try:
        command.handle(**options)
    except CommandError as exc:
        sys.stderr.write(f"{prog} : {exc}\n")
        return 1
    return 0


def django_command(command_class: type[BaseCommand]):
    """The same command as a Django management command."""
    from django.core.management.base import BaseCommand as DjangoCommand
    from django.core.management.base import CommandError as DjangoError

    class Command(DjangoCommand):
        help = command_class.help
        requires_system_checks: list = []

        def add_arguments(self, parser):
            command_class().add_arguments(parser)

        def handle(self, *args, **options):
            inner = command_class()
            inner.stdout, inner.stderr, inner.style = self.stdout, self.stderr, self.style
            try:
                return inner.handle(*args, **options)
            except CommandError as exc:
                raise DjangoError(str(exc)) from exc

    Command.__doc__ = command_class.__doc__
    return Command
