"""``careops run``: migrate, load the referential, seed the demo, serve with an in-process worker."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from huey.contrib.djhuey import HUEY


class Command(BaseCommand):
    help = "Démarre la plateforme (web + worker intégré) sur http://127.0.0.1:8000."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-demo", action="store_true", help="ne pas créer la démo")
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument(
            "--no-worker", action="store_true", help="pas de worker intégré (workers séparés)"
        )

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("catalogue", "load", verbosity=options["verbosity"])
        if not options["no_demo"]:
            call_command("careops_demo")
        consumer = None
        if not HUEY.immediate and not options["no_worker"]:
            consumer = HUEY.create_consumer(workers=2, worker_type="thread", periodic=True)
            consumer._set_signal_handlers = lambda: None  # the web server owns the signals
            consumer.start()
            self.stdout.write("Worker intégré démarré (2 fils).")
        from waitress import serve

        from careops.wsgi import application

        url = f"http://{options['host']}:{options['port']}"
        self.stdout.write(
            self.style.SUCCESS(f"careops écoute sur {url} (données : {settings.DATA_DIR})")
        )
        try:
            serve(
                application, host=options["host"], port=options["port"], threads=options["threads"]
            )
        finally:
            if consumer is not None:
                consumer.stop(graceful=True)
