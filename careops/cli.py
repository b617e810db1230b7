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
}


def main(argv: list[str] | None = None) -> None:
    """Run a careops command (see ``careops help``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careops.settings")
    if args and args[0] in ALIASES:
        args[0] = ALIASES[args[0]]
    from django.core.management import execute_from_command_line

    execute_from_command_line(["careops", *args])


if __name__ == "__main__":
    main()
