"""``careops run``: migrate, load the referential, seed the demo, serve with an in-process worker."""

import logging

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from huey.contrib.djhuey import HUEY

from careops.core.queue import start_reaper

logger = logging.getLogger("careops.run")

CONNECTIONS = 1000  # open client connections waitress keeps (its default is 100)


def _listen(host: str, port: int, threads: int):
    """The waitress server bound to host:port, or a French CommandError if the port is taken."""
    from waitress.server import create_server

    from careops.wsgi import application

    try:
        # browsers keep their connections open: waitress's default of 100 left the 101st user
        # of a busy demo without an answer (docs/scale.md)
        return create_server(
            application, host=host, port=port, threads=threads, connection_limit=CONNECTIONS
        )
    except OSError as exc:
        logger.error("cannot listen on %s:%s: %s", host, port, exc)
        raise CommandError(
            f"Impossible d'écouter sur {host}:{port} : {exc.strerror or exc}. Le port est "
            f"peut-être déjà utilisé (une autre instance de careops ?) : arrêtez-la ou "
            f"choisissez un autre port, par exemple « careops run --port {port + 1} »."
        ) from exc


class Command(BaseCommand):
    help = "Démarre la plateforme (web + worker intégré) sur http://127.0.0.1:8000."

    def add_arguments(self, parser):
        parser.add_argument(
            "--host", default="127.0.0.1", help="adresse d'écoute (défaut : 127.0.0.1)"
        )
        parser.add_argument("--port", type=int, default=8000, help="port d'écoute (défaut : 8000)")
        parser.add_argument("--no-demo", action="store_true", help="ne pas créer la démo")
        parser.add_argument(
            "--threads", type=int, default=8, help="fils du serveur web (défaut : 8)"
        )
        parser.add_argument(
            "--no-worker", action="store_true", help="pas de worker intégré (workers séparés)"
        )

    def handle(self, *args, **options):
        # bind first: a busy port is said at once, before migrations and the demo
        settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns otherwise
        server = _listen(options["host"], options["port"], options["threads"])
        call_command("migrate", interactive=False, verbosity=0)
        # the load is logged once (careops.catalogue); the command itself stays quiet here
        call_command("catalogue", "load", verbosity=0)
        if not options["no_demo"]:
            call_command("careops_demo")
        consumer = None
        if not HUEY.immediate and not options["no_worker"]:
            consumer = HUEY.create_consumer(workers=2, worker_type="thread", periodic=True)
            consumer._set_signal_handlers = lambda: None  # the web server owns the signals
            consumer.start()
            start_reaper(HUEY)  # tasks left running by a killed previous run are resumed
            self.stdout.write("Worker intégré démarré (2 fils).")
        url = f"http://{options['host']}:{options['port']}"
        self.stdout.write(
            self.style.SUCCESS(f"careops écoute sur {url} (données : {settings.DATA_DIR})")
        )
        try:
            server.run()
        except KeyboardInterrupt:
            pass
        finally:
            server.close()
            if consumer is not None:
                consumer.stop(graceful=True)
