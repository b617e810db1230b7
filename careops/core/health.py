"""``/healthz`` (the process answers) and ``/readyz`` (it can serve: database, queue, cache,
evidence storage), for load balancers, systemd, containers and monitoring.

Both are answered by a middleware placed first, before sessions, host validation, the HTTPS
redirect and the login rules: a probe reaches a node by its address, in plain HTTP, without an
account. Their bodies are JSON and never carry a secret: a failed check says which component and
a fixed French reason; the exception itself goes to the server log.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable

from django.http import HttpResponse

logger = logging.getLogger("careops.health")

HEALTH_PATHS = ("/healthz", "/readyz")


def check_database() -> str | None:
    """The default database answers and carries every migration of this code."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    # a stale connection is already dropped by Django at request start (request_started);
    # closing here would break a request already inside a transaction
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    if not _migrated.get(connection.alias):
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            return "migrations non appliquées (careops migrate)"
        _migrated[connection.alias] = True  # once migrated, a process stays so
    return None


_migrated: dict[str, bool] = {}


def require_migrated(command: str) -> None:
    """Refuse to start ``command`` (a worker, the scheduler) on a database that lacks this
    code's migrations: a French CommandError instead of a traceback at the first query."""
    from django.core.management.base import CommandError
    from django.db import DatabaseError

    try:
        reason = check_database()
    except DatabaseError as error:
        logger.error("%s: database unreachable: %s", command, error)
        raise CommandError(
            f"la base de données ne répond pas ({error.__class__.__name__}) ; "
            "vérifiez CAREOPS_DATABASE_URL"
        ) from error
    if reason:
        logger.error("%s: database not migrated", command)
        raise CommandError(
            "la base de données n'est pas à jour ; lancez « careops migrate » avant de "
            f"démarrer {command}"
        )


def check_queue() -> str | None:
    """The task queue (Redis or SQLite) answers."""
    from huey.contrib.djhuey import HUEY

    HUEY.pending_count()
    return None


def check_cache() -> str | None:
    """The shared cache (Redis or the database table) answers."""
    from django.core.cache import cache

    cache.get("careops:readyz")
    return None


def check_storage() -> str | None:
    """The evidence store is reachable: a writable local folder, or an object store that
    answers a lookup."""
    from django.core.files.storage import FileSystemStorage, storages

    storage = storages["default"]
    if isinstance(storage, FileSystemStorage):
        folder = str(storage.location)
        while not os.path.exists(folder):  # created at the first upload
            folder = os.path.dirname(folder)
        if not (os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK)):
            return "dossier des preuves non accessible en écriture"
        return None
    storage.exists("careops-readyz-probe")
    return None


# name → check; a check returns None when fine, a French reason otherwise, or raises.
CHECKS: dict[str, Callable[[], str | None]] = {
    "database": check_database,
    "queue": check_queue,
    "cache": check_cache,
    "storage": check_storage,
}


def readiness() -> tuple[bool, dict[str, str]]:
    """Run every check; (all fine, {component: "ok" or a reason})."""
    results = {}
    for name, check in CHECKS.items():
        try:
            reason = check()
        except Exception as exc:  # any failure of a dependency means "not ready"
            logger.warning("readyz: %s unavailable: %s: %s", name, type(exc).__name__, exc)
            reason = f"injoignable ({type(exc).__name__})"
        results[name] = reason or "ok"
    return all(value == "ok" for value in results.values()), results


def _json(status: int, body: dict) -> HttpResponse:
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type="application/json"
    )
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


class HealthMiddleware:
    """Answer ``/healthz`` and ``/readyz`` before any other middleware (GET and HEAD)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path not in HEALTH_PATHS:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response = _json(405, {"status": "error", "reason": "GET ou HEAD seulement"})
            response["Allow"] = "GET, HEAD"
            return response
        if request.path == "/healthz":
            return _json(200, {"status": "ok"})
        ready, checks = readiness()
        if ready:
            return _json(200, {"status": "ok", "checks": checks})
        return _json(503, {"status": "unavailable", "checks": checks})
