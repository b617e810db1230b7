"""The one ``careops`` entry point: every Django management command, under friendly names.

``careops run`` serves the platform with an in-process worker, ``careops worker`` runs task
consumers, ``careops catalogue validate|show|load``, ``careops evaluate DOSSIER``, ``careops demo``.
"""

from __future__ import annotations

import os
import sys

ALIASES = {
    "worker": "careops_worker",
    "run": "careops_run",
    "demo": "careops_demo",
    "token": "careops_token",
    "secrets": "careops_secrets",
    "egress": "careops_egress",
}


def _exposure_scan(args: list[str]) -> int:
    """``careops exposure scan …``: the engine alone, started without Django (it needs no
    database), so a scan's wall time is the engine's plus a Python start-up."""
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
    """``careops awareness phishing …``: GoPhish results, without Django."""
    from careops.maturity.engine.cli import awareness_main

    return awareness_main(args, prog="careops awareness")


def _remote_access(args: list[str]) -> int:
    """``careops remote-access check …``: the D3 engine alone (no database, no Django)."""
    from careops.remote_access.engine.cli import main as remote_access_main

    return remote_access_main(args)


# Commands served by a Django-free engine: (first words) → runner taking the remaining words.
ENGINE_COMMANDS = {
    ("maturity", "score"): _maturity,
    ("maturity", "list"): _maturity,
    ("maturity", "nis2"): _maturity,
    ("awareness", "phishing"): _awareness,
    ("exposure", "scan"): _exposure_scan,
    ("hospiconnect", "indicators"): _hospiconnect,
    ("remote-access", "check"): _remote_access,
}


def main(argv: list[str] | None = None) -> None:
    """Run a careops command (see ``careops help``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    runner = ENGINE_COMMANDS.get(tuple(args[:2]))
    if runner is not None:
        sys.exit(runner(args[1:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careops.settings")
    if args and args[0] in ALIASES:
        args[0] = ALIASES[args[0]]
    from django.core.management import execute_from_command_line

    from careops.config import ConfigError

    try:
        execute_from_command_line(["careops", *args])
    except ConfigError as exc:  # a configuration refused while loading the settings
        sys.stderr.write(f"careops : configuration refusée : {exc}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
