"""Prometheus metrics at /metrics: requests per view, tasks per kind, work running, backups age.

Counted as they happen (each process): request latency per route name and status class, task
durations and outcomes per task kind (huey signals), login failures and throttling. Read from the
database and the queue when scraped (cached ``METRICS["state_ttl"]`` seconds): queue depth, scans
and audits queued or running, how long ago each backup repository was last verified successfully
(aggregated: a few series whatever the number of establishments), certificate expiry dates.

Several processes (gunicorn workers, ``careops worker``) on one machine share their counts through
prometheus_client's multi-process mode: ``CAREOPS_METRICS_DIR`` names a folder they all write
(the settings export it as ``PROMETHEUS_MULTIPROC_DIR`` before prometheus_client is imported), and
/metrics on any of them adds up the files of the folder. Without it, each process counts alone.

/metrics is not public: the client address must be in ``CAREOPS_METRICS_ALLOWED_NETWORKS`` (the
address seen through ``CAREOPS_TRUSTED_PROXY_COUNT`` proxies) and, when ``CAREOPS_METRICS_TOKEN`` is
set, the request must carry ``Authorization: Bearer <token>`` (compared by SHA-256 digest in
constant time). See docs/observability.md.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import hmac
import ipaddress
import logging
import os
import re
import threading
import time
from pathlib import Path

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

logger = logging.getLogger("careops.metrics")
disable_created_metrics()  # no *_created series: they double the series count for nothing here

# Page latency: 10 ms … 10 s (the load test's target is p95 < 300 ms).
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0)
# Tasks last from milliseconds (a ping) to hours (a /22 exposure audit, a restore test).
TASK_BUCKETS = (0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800, 3600, 3 * 3600, 12 * 3600)
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

REQUEST_LATENCY = Histogram(
    "careops_http_request_duration_seconds",
    "Time to answer a request, per route name (never a raw path), method and status class.",
    ["view", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
REQUESTS_IN_PROGRESS = Gauge(
    "careops_http_requests_in_progress",
    "Requests being answered now.",
    multiprocess_mode="livesum",
)
TASK_DURATION = Histogram(
    "careops_task_duration_seconds",
    "Run time of a task attempt, per task kind (whatever its outcome).",
    ["task"],
    buckets=TASK_BUCKETS,
)
TASKS = Counter(
    "careops_tasks",
    "Task attempts per kind and outcome (complete, error, retrying, canceled, timeout, "
    "locked, rate_limited, interrupted, revoked, expired).",
    ["task", "outcome"],
)
TASKS_IN_PROGRESS = Gauge(
    "careops_tasks_in_progress",
    "Task attempts running now, per kind.",
    ["task"],
    multiprocess_mode="livesum",
)
LOGIN_FAILURES = Counter("careops_login_failures", "Failed sign-in attempts (wrong credentials).")
LOGIN_THROTTLED = Counter(
    "careops_login_throttled",
    "Sign-in attempts refused unchecked because a throttling delay was running.",
)
LOGIN_DELAYS = Counter(
    "careops_login_throttle_delays",
    "Failures that started or lengthened a throttling delay, per bucket (account or address).",
    ["bucket"],
)


# --- requests -----------------------------------------------------------------------------------


def view_label(request) -> str:
    """The route name of a request: ``app:url_name`` (API: ``api:<route pattern>``), ``static``
    for files served by WhiteNoise, ``unmatched`` for unknown paths. Never an id or a raw path."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "static" if request.path.startswith(settings.STATIC_URL) else "unmatched"
    if match.namespaces and match.namespaces[0] == "api":
        # django-ninja names are not unique across routers: the route pattern is
        return "api:" + match.route.removeprefix("api/")
    return match.view_name or match.route


class MetricsMiddleware:
    """Time every answer and count it under its route name, method and status class."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        start = time.perf_counter()
        REQUESTS_IN_PROGRESS.inc()
        status = "5xx"
        try:
            response = self.get_response(request)
            status = f"{response.status_code // 100}xx"
            return response
        finally:
            REQUESTS_IN_PROGRESS.dec()
            method = request.method if request.method in _METHODS else "other"
            REQUEST_LATENCY.labels(view_label(request), method, status).observe(
                time.perf_counter() - start
            )


# --- tasks (huey signals) -----------------------------------------------------------------------

_started: dict[str, tuple[float, str]] = {}
_AFTER_START = {
    "complete": "complete",
    "error": "error",
    "canceled": "canceled",
    "timeout": "timeout",
    "locked": "locked",
    "rate-limited": "rate_limited",
    "interrupted": "interrupted",
}
_WITHOUT_START = {"retrying": "retrying", "revoked": "revoked", "expired": "expired"}


def _task_signal(signal, task, *args) -> None:
    try:
        if signal == "executing":
            _started[task.id] = (time.monotonic(), task.name)
            TASKS_IN_PROGRESS.labels(task.name).inc()
        elif signal in _AFTER_START:
            started = _started.pop(task.id, None)
            if started is not None:
                TASK_DURATION.labels(task.name).observe(time.monotonic() - started[0])
                TASKS_IN_PROGRESS.labels(task.name).dec()
            TASKS.labels(task.name, _AFTER_START[signal]).inc()
        elif signal in _WITHOUT_START:
            TASKS.labels(task.name, _WITHOUT_START[signal]).inc()
    except Exception:  # metrics must never break a task
        logger.exception("task metrics: signal %s not counted", signal)


def install_task_metrics(huey) -> None:
    """Count task attempts through huey's signals (no change to the tasks themselves)."""
    if getattr(huey, "_careops_metrics", False):
        return
    huey.signal()(_task_signal)  # every signal; the handler keeps those it counts
    huey._careops_metrics = True


# --- state read when scraped --------------------------------------------------------------------

_state_lock = threading.Lock()
_state_cache: tuple[float, list] = (0.0, [])
_VERIFICATION_BUCKETS = (
    ("under_1d", 86400),
    ("1d_to_7d", 7 * 86400),
    ("7d_to_30d", 30 * 86400),
    ("over_30d", float("inf")),
)


def _gauge(name: str, documentation: str, labels=(), samples=()) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=list(labels))
    for label_values, value in samples:
        family.add_metric(list(label_values), value)
    return family


def _queue_families() -> list:
    from huey.contrib.djhuey import HUEY

    return [
        _gauge(
            "careops_task_queue_pending",
            "Tasks waiting in the queue for a worker.",
            samples=[((), HUEY.pending_count())],
        ),
        _gauge(
            "careops_task_queue_scheduled",
            "Tasks scheduled for later (delayed or waiting for a retry).",
            samples=[((), HUEY.scheduled_count())],
        ),
    ]


def _jobs_families(now) -> list:
    """Scans, audits and verifications queued or running (indexed status filters, a few rows)."""
    from django.db.models import Count, Min

    from careops.backups.models import VerificationRun
    from careops.directory.models import Audit
    from careops.exposure.models import ScanRun

    kinds = {
        "exposure_audit": ScanRun.objects.all(),
        "directory_audit": Audit.objects.all(),
        "backup_verification": VerificationRun.objects.filter(kind="verify"),
        "restore_test": VerificationRun.objects.filter(kind="restore"),
    }
    active, oldest = [], []
    for kind, queryset in kinds.items():
        counts = dict(
            queryset.filter(status__in=("queued", "running"))
            .order_by()
            .values("status")
            .annotate(n=Count("pk"))
            .values_list("status", "n")
        )
        for status in ("queued", "running"):
            active.append(((kind, status), counts.get(status, 0)))
        first = queryset.filter(status="running").aggregate(first=Min("started_at"))["first"]
        oldest.append(((kind,), (now - first).total_seconds() if first else 0.0))
    return [
        _gauge(
            "careops_jobs_active",
            "Exposure audits, directory audits, backup verifications and restore tests queued "
            "or running.",
            ("kind", "status"),
            active,
        ),
        _gauge(
            "careops_jobs_oldest_running_seconds",
            "Age of the oldest running job of each kind (0: none running).",
            ("kind",),
            oldest,
        ),
    ]


def _backup_families(now) -> list:
    """Age of each repository's last successful verification, aggregated (max, min, counts per
    age band) so that 3 000 establishments make a handful of series."""
    from django.db.models import Max

    from careops.backups.models import Repository, VerificationRun

    last_ok = dict(
        VerificationRun.objects.filter(
            kind="verify", status="done", outcome__in=("ok", "warning"), finished_at__isnull=False
        )
        .order_by()
        .values("repository")
        .annotate(last=Max("finished_at"))
        .values_list("repository", "last")
    )
    ages, never = [], 0
    platform_name = settings.METRICS["platform_repository"]
    platform_age = None
    for pk, name, created in Repository.objects.values_list("pk", "name", "created_at"):
        last = last_ok.get(pk)
        if last is None:
            never += 1
        age = (now - (last or created)).total_seconds()
        ages.append(age)
        if platform_name and name == platform_name:
            platform_age = age if platform_age is None else min(platform_age, age)
    bands = dict.fromkeys([band for band, _limit in _VERIFICATION_BUCKETS], 0)
    for last in last_ok.values():
        age = (now - last).total_seconds()
        bands[next(band for band, limit in _VERIFICATION_BUCKETS if age < limit)] += 1
    bands["never"] = never
    families = [
        _gauge(
            "careops_backup_verification_age_seconds",
            "Time since the last successful verification of a backup repository (since its "
            "creation if never verified): the oldest (max) and the freshest (min) of all "
            "repositories.",
            ("stat",),
            [(("max",), max(ages)), (("min",), min(ages))] if ages else [],
        ),
        _gauge(
            "careops_backup_repositories",
            "Backup repositories by age of their last successful verification.",
            ("verification",),
            [((band,), count) for band, count in bands.items()],
        ),
    ]
    if platform_name:
        families.append(
            _gauge(
                "careops_platform_backup_verification_age_seconds",
                "Time since careops' own backup repository (CAREOPS_METRICS_PLATFORM_REPOSITORY) "
                "was last verified successfully; +Inf if no such repository.",
                samples=[((), platform_age if platform_age is not None else float("inf"))],
            )
        )
    return families


def _certificate_families() -> list:
    from cryptography import x509

    samples = []
    for path in settings.METRICS["certificates"]:
        try:
            certificate = x509.load_pem_x509_certificate(Path(path).read_bytes())
        except (OSError, ValueError) as exc:
            logger.warning("certificat illisible pour les métriques : %s (%s)", path, exc)
            continue
        samples.append(((Path(path).name,), certificate.not_valid_after_utc.timestamp()))
    return [
        _gauge(
            "careops_tls_certificate_not_after_timestamp_seconds",
            "Expiry date (Unix time) of each certificate named in CAREOPS_METRICS_CERTIFICATES.",
            ("certificate",),
            samples,
        )
    ]


def state_families() -> list:
    """The figures read from the queue and the database, each source guarded on its own (a
    source down is reported by ``careops_metrics_source_up`` rather than failing the scrape)."""
    from django.utils import timezone

    now = timezone.now()
    families, up = [], []
    for source, build in (
        ("queue", _queue_families),
        ("database", lambda: _jobs_families(now) + _backup_families(now)),
        ("certificates", _certificate_families),
    ):
        try:
            families.extend(build())
            up.append(((source,), 1))
        except Exception:
            logger.exception("métriques : source %s illisible", source)
            up.append(((source,), 0))
    families.append(
        _gauge(
            "careops_metrics_source_up",
            "Whether the last scrape could read each source (queue, database, certificates).",
            ("source",),
            up,
        )
    )
    return families


class StateCollector:
    """prometheus_client collector of ``state_families``, reused for ``state_ttl`` seconds."""

    def collect(self):
        global _state_cache
        with _state_lock:
            taken, families = _state_cache
            if time.monotonic() - taken >= settings.METRICS["state_ttl"] or not families:
                families = state_families()
                _state_cache = (time.monotonic(), families)
        return iter(families)


# --- exposition and access ------------------------------------------------------------------------


def exposition() -> bytes:
    """The text exposition: every process's counts (multi-process folder, or this process), then
    the state read from the database and the queue."""
    registry = CollectorRegistry(auto_describe=False)
    if settings.METRICS["dir"]:
        MultiProcessCollector(registry, path=settings.METRICS["dir"])
        with _folder_lock(settings.METRICS["dir"], exclusive=False):
            own = generate_latest(registry)
    else:
        own = generate_latest(REGISTRY)
    state = CollectorRegistry(auto_describe=False)
    state.register(StateCollector())
    return own + generate_latest(state)


def access_allowed(request) -> tuple[bool, int]:
    """(allowed, status if refused): the client's network first (403), then the token (401)."""
    from careops.core.throttle import client_address

    conf = settings.METRICS
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False, 403
    if not any(address in network for network in conf["networks"]):
        return False, 403
    if conf["token_sha256"] is None:
        return True, 200
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    digest = hashlib.sha256(presented.strip().encode()).digest()
    if scheme.lower() != "bearer" or not hmac.compare_digest(digest, conf["token_sha256"]):
        return False, 401
    return True, 200


@never_cache
@require_GET
def metrics_view(request):
    """GET /metrics: the Prometheus text exposition, for allowed clients only."""
    allowed, status = access_allowed(request)
    if not allowed:
        response = HttpResponse("accès refusé\n", status=status, content_type="text/plain")
        if status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="careops-metrics"'
        return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)


# --- multi-process folder bookkeeping -----------------------------------------------------------

_PROCESS_FILE = re.compile(r"^(counter|histogram|gauge_[a-z]+)_(\d+)\.db$")


@contextlib.contextmanager
def _folder_lock(folder: str, exclusive: bool):
    """Scrapes (shared) never see a folder half-compacted (exclusive)."""
    with open(os.path.join(folder, "careops.lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def compact_dead_process_files(folder: str) -> int:
    """Fold the counters and histograms of processes that no longer exist into one archive file
    per type, and drop their gauges (in-progress counts die with their process).

    Run at the start of every careops process: a folder shared by gunicorn workers (recycled or
    restarted) and task workers keeps one file per live process plus the archives, and totals
    never go backwards, so Prometheus sees no false counter reset. Returns the files folded."""
    folded = 0
    with _folder_lock(folder, exclusive=True):
        for path in sorted(glob.glob(os.path.join(folder, "*.db"))):
            found = _PROCESS_FILE.match(os.path.basename(path))
            if found is None:
                continue
            kind, pid = found.group(1), int(found.group(2))
            if pid == os.getpid() or _alive(pid):
                continue
            if kind in ("counter", "histogram"):
                archive = MmapedDict(os.path.join(folder, f"{kind}_archive.db"))
                try:
                    for key, value, timestamp, _pos in MmapedDict.read_all_values_from_file(path):
                        total, _ts = archive.read_value(key)
                        archive.write_value(key, total + value, timestamp)
                finally:
                    archive.close()
            os.remove(path)
            folded += 1
    return folded


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def serve(listen: str):
    """Serve /metrics (same access rules) from a background thread of this process, on
    ``host:port``: for ``careops worker`` on machines without a web node
    (``CAREOPS_METRICS_WORKER_LISTEN``). Returns the server (``shutdown()`` stops it)."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from django.core.handlers.wsgi import WSGIRequest

    host, _, port = listen.rpartition(":")

    def application(environ, start_response):
        request = WSGIRequest(environ)
        if request.path == "/metrics":
            response = metrics_view(request)
        else:
            response = HttpResponse(status=404)
        start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
        return [response.content]

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 (the base class's name)
            pass

    server = make_server(
        host.strip("[]") or "127.0.0.1", int(port), application, handler_class=QuietHandler
    )
    threading.Thread(target=server.serve_forever, name="careops-metrics", daemon=True).start()
    logger.info("métriques du worker servies sur %s/metrics", listen)
    return server


def child_exit(server, worker) -> None:
    """gunicorn ``child_exit`` hook: drop a dead worker's in-progress gauges at once."""
    if settings.METRICS["dir"]:
        mark_process_dead(worker.pid, settings.METRICS["dir"])


def install(huey) -> None:
    """Set up this process: fold dead processes' files of the shared folder, count tasks."""
    if settings.METRICS["dir"]:
        compact_dead_process_files(settings.METRICS["dir"])
    install_task_metrics(huey)
