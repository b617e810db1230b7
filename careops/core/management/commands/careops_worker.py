"""``careops worker``: run task consumers (as many processes and machines as needed)."""

import logging

from django.conf import settings
from django.core.management.base import BaseCommand
from huey.contrib.djhuey import HUEY

from careops.core.health import require_migrated
from careops.core.queue import start_reaper


class Command(BaseCommand):
    help = "Lance un consommateur de tâches (worker). Plusieurs peuvent tourner en parallèle."

    def add_arguments(self, parser):
        parser.add_argument("-w", "--workers", type=int, default=2, help="fils d'exécution")
        parser.add_argument(
            "-k",
            "--worker-type",
            choices=["thread", "process", "greenlet"],
            default="thread",
            help="nature des exécutants : fils, processus ou greenlets (défaut : thread)",
        )
        parser.add_argument(
            "--no-periodic",
            action="store_true",
            help="ne planifie pas les tâches périodiques (quand « careops scheduler » tourne)",
        )

    def handle(self, *args, **options):
        require_migrated("careops worker")
        logging.getLogger("huey").setLevel(logging.INFO)
        consumer = HUEY.create_consumer(
            workers=options["workers"],
            worker_type=options["worker_type"],
            periodic=not options["no_periodic"],
            check_worker_health=True,
        )
        self.stdout.write(f"careops worker : {options['workers']} {options['worker_type']}(s)")
        if settings.METRICS["worker_listen"]:  # docs/observability.md
            from careops.core.metrics import serve

            serve(settings.METRICS["worker_listen"])
        # tasks of dead workers (expired leases) are pushed again, by every worker
        start_reaper(HUEY)
        consumer.run()
