"""``careops scheduler``: enqueue periodic tasks once per minute, across every scheduler."""

import signal
import threading
import time

from django.core.management.base import BaseCommand
from huey.contrib.djhuey import HUEY

from careops.core.health import require_migrated
from careops.core.scheduler import tick


class Command(BaseCommand):
    help = (
        "Planificateur des tâches périodiques (audits récurrents, rappels) d'un déploiement à "
        "plusieurs workers lancés avec « careops worker --no-periodic ». Plusieurs "
        "planificateurs peuvent tourner : chaque minute n'est planifiée qu'une fois."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="planifie la minute en cours puis s'arrête"
        )

    def handle(self, *args, **options):
        require_migrated("careops scheduler")
        if options["once"]:
            names = tick(HUEY)
            self.stdout.write(f"careops scheduler : {len(names)} tâche(s) planifiée(s)")
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write("careops scheduler : démarré (une vérification par minute)")
        self.stdout.flush()
        while not stop.is_set():
            tick(HUEY)
            stop.wait(60 - time.time() % 60 + 1)  # the next minute, one second in
        self.stdout.write("careops scheduler : arrêté")
