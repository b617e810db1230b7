"""Observability: /metrics (access, labels, tasks, state), request ids into task logs, JSON logs
without secrets (docs/observability.md)."""

from __future__ import annotations

import datetime
import hashlib
import io
import ipaddress
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.test import Client, override_settings
from django.urls import path
from django.utils import timezone
from huey import SqliteHuey
from prometheus_client.parser import text_string_to_metric_families

from careops import config
from careops import urls as site_urls
from careops.core import logs, metrics
from tests.conftest import PASSWORD

TOKEN = "jeton-de-supervision-0123456789abcdef"
LOGGERS = ("careops", "django.request", "django.security", "huey")


def metrics_settings(**changes):
    return override_settings(METRICS={**settings.METRICS, "state_ttl": 0, **changes})


def scrape(client=None, **headers) -> dict[str, list]:
    """GET /metrics from loopback; {metric family name: samples}."""
    client = client or Client()
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    families = text_string_to_metric_families(response.content.decode())
    return {family.name: family.samples for family in families}


def value(families, name, sample=None, **labels) -> float:
    for s in families.get(name, []):
        if (sample is None or s.name == sample) and all(
            s.labels.get(k) == v for k, v in labels.items()
        ):
            return s.value
    return 0.0


@pytest.fixture
def log_lines():
    """The lines the production handler would write (JSON format), as a list of strings."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.ContextFilter())
    saved = {}
    for name in LOGGERS:
        logger = logging.getLogger(name)
        saved[name] = (logger.level, logger.disabled)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.disabled = False
    # an earlier test (a logging.config.dictConfig) may have disabled a child such as careops.audit
    children = {
        name: logger.disabled
        for name, logger in logging.root.manager.loggerDict.items()
        if name.startswith("careops.") and isinstance(logger, logging.Logger)
    }
    for name in children:
        logging.getLogger(name).disabled = False
    disabled_below = logging.root.manager.disable  # a logging.disable() left by earlier code
    logging.disable(logging.NOTSET)
    yield lambda: stream.getvalue().splitlines()
    logging.disable(disabled_below)
    for name, (level, disabled) in saved.items():
        logger = logging.getLogger(name)
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.disabled = disabled
    for name, disabled in children.items():
        logging.getLogger(name).disabled = disabled


# --- access to /metrics ---------------------------------------------------------------------


def test_metrics_answer_loopback_and_refuse_other_addresses(db):
    client = Client()
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200
    refused = client.get("/metrics", REMOTE_ADDR="192.0.2.8")
    assert refused.status_code == 403
    assert b"careops_" not in refused.content


def test_metrics_behind_the_proxy_see_the_real_client(db):
    """Through nginx (REMOTE_ADDR loopback, X-Forwarded-For the client) the client decides."""
    with override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=1):
        forwarded = Client().get(
            "/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9"
        )
        direct = Client().get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert (forwarded.status_code, direct.status_code) == (403, 200)


def test_metrics_token_is_required_once_configured(db):
    digest = config.metrics_settings({**config.DEFAULTS, "METRICS_TOKEN": TOKEN})["token_sha256"]
    anywhere = [ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")]
    with metrics_settings(token_sha256=digest, networks=anywhere):
        client = Client()
        missing = client.get("/metrics", REMOTE_ADDR="198.51.100.7")
        wrong = client.get(
            "/metrics", REMOTE_ADDR="198.51.100.7", HTTP_AUTHORIZATION="Bearer " + TOKEN[:-1]
        )
        right = client.get(
            "/metrics", REMOTE_ADDR="198.51.100.7", HTTP_AUTHORIZATION="Bearer " + TOKEN
        )
    assert (missing.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
    assert missing["WWW-Authenticate"].startswith("Bearer")


def test_metrics_token_is_kept_as_a_digest_only():
    hashed = "sha256:" + hashlib.sha256(TOKEN.encode()).hexdigest()
    for given in (TOKEN, hashed):
        conf = config.metrics_settings({**config.DEFAULTS, "METRICS_TOKEN": given})
        assert conf["token_sha256"] == hashlib.sha256(TOKEN.encode()).digest()
    assert TOKEN not in json.dumps(settings.CONFIG, default=str)
    with pytest.raises(config.ConfigError, match="24 caractères"):
        config.metrics_settings({**config.DEFAULTS, "METRICS_TOKEN": "court"})
    with pytest.raises(config.ConfigError, match="réseau invalide"):
        config.metrics_settings({**config.DEFAULTS, "METRICS_ALLOWED_NETWORKS": "10.0.0.0/33"})


# --- what /metrics says ---------------------------------------------------------------------


def test_request_latency_is_labelled_by_route_name_never_by_path(org_tree, make_user):
    client = Client()
    user = make_user("es_rssi", org_tree.ej_b)
    assert client.login(username=user.username, password=PASSWORD)
    for org in (org_tree.ej_b, org_tree.eg_b1):
        assert client.get(f"/organisations/{org.pk}/").status_code == 200
    client.get("/organisations/999999/")
    client.get("/pas/une/page/")
    families = scrape(client)
    samples = families["careops_http_request_duration_seconds"]
    views = {s.labels["view"] for s in samples}
    assert {"tenancy:detail", "unmatched"} <= views
    count = value(
        families,
        "careops_http_request_duration_seconds",
        "careops_http_request_duration_seconds_count",
        view="tenancy:detail",
        method="GET",
        status="2xx",
    )
    assert count >= 2  # both organisations under one series
    assert {s.labels["status"] for s in samples} <= {"1xx", "2xx", "3xx", "4xx", "5xx"}
    for label in views:  # no id nor raw path in any label
        assert str(org_tree.ej_b.pk) not in label.split(":")[-1] or "<" in label
        assert "999999" not in label and "/pas/" not in label


def test_api_routes_are_labelled_by_their_pattern(org_tree, make_user):
    from tests.api.conftest import Api

    Api(make_user("es_rssi", org_tree.ej_b)).get(f"/api/organisations/{org_tree.ej_b.pk}")
    views = {s.labels["view"] for s in scrape()["careops_http_request_duration_seconds"]}
    assert "api:organisations/<organisation_id>" in views


def test_task_metrics_count_durations_and_failures_per_kind(db):
    from huey.contrib.djhuey import HUEY

    from careops.core.models import WorkerPing
    from careops.core.tasks import ping_worker

    @HUEY.task(name="observability_test_failure")
    def failing_task():
        raise RuntimeError("échec voulu")

    before = scrape()
    ping_worker(WorkerPing.objects.create(requested_by_pid=1).pk)  # immediate mode: runs now
    failing_task()
    after = scrape()

    def delta(name, sample=None, **labels):
        return value(after, name, sample, **labels) - value(before, name, sample, **labels)

    assert (
        delta("careops_tasks", "careops_tasks_total", task="ping_worker", outcome="complete") == 1
    )
    assert (
        delta(
            "careops_tasks",
            "careops_tasks_total",
            task="observability_test_failure",
            outcome="error",
        )
        == 1
    )
    count = "careops_task_duration_seconds_count"
    assert delta("careops_task_duration_seconds", count, task="ping_worker") == 1
    assert value(after, "careops_tasks_in_progress", task="ping_worker") == 0
    assert "careops_task_queue_pending" in after


def test_running_work_and_backup_verification_ages_are_aggregated(org_tree):
    from careops.backups.models import Repository, VerificationRun
    from careops.exposure.models import ScanRun

    now = timezone.now()
    repos = [
        Repository.objects.create(
            organisation=org,
            name=name,
            driver="restic",
            location="/srv/restic",
            password_encrypted="x",
        )
        for org, name in (
            (org_tree.ej_a, "restic-dpi"),
            (org_tree.ej_b, "restic-rh"),
            (org_tree.ans, "careops-plateforme"),
        )
    ]
    for repo, days in ((repos[0], 3), (repos[2], 0.5)):
        VerificationRun.objects.create(
            organisation=repo.organisation,
            repository=repo,
            kind="verify",
            status="done",
            outcome="ok",
            finished_at=now - datetime.timedelta(days=days),
        )
    VerificationRun.objects.create(  # a failed verification is not a successful one
        organisation=repos[1].organisation,
        repository=repos[1],
        kind="verify",
        status="done",
        outcome="failed",
        finished_at=now,
    )
    ScanRun.objects.create(organisation=org_tree.ej_a, status="running", started_at=now)
    with metrics_settings(platform_repository="careops-plateforme"):
        families = scrape()
    assert value(families, "careops_jobs_active", kind="exposure_audit", status="running") == 1
    assert value(families, "careops_jobs_active", kind="directory_audit", status="running") == 0
    bands = {s.labels["verification"]: s.value for s in families["careops_backup_repositories"]}
    assert bands == {"under_1d": 1, "1d_to_7d": 1, "7d_to_30d": 0, "over_30d": 0, "never": 1}
    oldest = value(families, "careops_backup_verification_age_seconds", stat="max")
    assert 2.9 * 86400 < oldest < 3.1 * 86400
    platform = value(families, "careops_platform_backup_verification_age_seconds")
    assert 0.4 * 86400 < platform < 0.6 * 86400
    # a handful of series whatever the number of establishments: no organisation label
    for name in ("careops_backup_repositories", "careops_backup_verification_age_seconds"):
        assert all("organisation" not in s.labels for s in families[name])


def test_certificate_expiry_is_exported(db, tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "careops.test")])
    not_after = datetime.datetime(2027, 3, 1, tzinfo=datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    path = tmp_path / "careops.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    with metrics_settings(certificates=[str(path)]):
        families = scrape()
    name = "careops_tls_certificate_not_after_timestamp_seconds"
    assert value(families, name, certificate="careops.pem") == not_after.timestamp()


def test_login_failures_and_throttling_are_counted(db, make_user):
    user = make_user(username="compte-cible")
    before = scrape()
    client = Client()
    for n in range(settings.LOGIN_THROTTLE["account_free"] + 1):
        client.post(
            "/accounts/login/",
            {"login": user.username, "password": f"faux-{n}"},
            REMOTE_ADDR="192.0.2.30",
        )
    after = scrape()
    failures = value(after, "careops_login_failures") - value(before, "careops_login_failures")
    assert failures == settings.LOGIN_THROTTLE["account_free"]
    assert value(after, "careops_login_throttled") - value(before, "careops_login_throttled") == 1
    assert value(after, "careops_login_throttle_delays", bucket="account") >= 1


# --- several processes share one folder -------------------------------------------------------

_CHILD = """
import os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
import django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="127.0.0.1", REMOTE_ADDR="127.0.0.1")
assert client.get("/pas/une/page/").status_code == 404
if sys.argv[1] == "scrape":
    answer = client.get("/metrics")
    assert answer.status_code == 200, answer.status_code
    sys.stdout.write(answer.content.decode())
"""


def test_processes_sharing_the_metrics_folder_add_up_and_dead_ones_are_kept(tmp_path):
    """Two processes in turn (a gunicorn worker recycled, say): the second one folds the dead
    one's counts into the archive, and its /metrics shows both requests."""
    folder = tmp_path / "metrics"
    env = {
        **os.environ,
        "CAREOPS_METRICS_DIR": str(folder),
        "CAREOPS_DATA_DIR": str(tmp_path / "data"),
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    root = Path(__file__).resolve().parents[2]
    for step in ("count", "scrape"):
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, step],
            env=env,
            cwd=root,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
    families = {f.name: f.samples for f in text_string_to_metric_families(done.stdout)}
    count = value(
        families,
        "careops_http_request_duration_seconds",
        "careops_http_request_duration_seconds_count",
        view="unmatched",
    )
    assert count == 2
    names = sorted(p.name for p in folder.glob("*.db"))
    assert "histogram_archive.db" in names
    # the first process's own file was folded; only the last process's remains beside the archive
    assert len([n for n in names if n.startswith("histogram_") and n[10:-3].isdigit()]) == 1


def test_a_worker_without_web_node_serves_its_own_metrics(db):
    """``CAREOPS_METRICS_WORKER_LISTEN``: careops worker answers /metrics itself, same rules."""
    import urllib.error
    import urllib.request

    with metrics_settings(state_ttl=3600):
        scrape()  # the database figures, read here (the server thread reuses them)
        server = metrics.serve("127.0.0.1:18301")
        try:
            with urllib.request.urlopen("http://127.0.0.1:18301/metrics", timeout=30) as answer:
                body = answer.read().decode()
            assert "careops_task_queue_pending" in body and "careops_tasks_total" in body
            with pytest.raises(urllib.error.HTTPError) as other:
                urllib.request.urlopen("http://127.0.0.1:18301/", timeout=30)
            assert other.value.code == 404
            with override_settings(
                METRICS={**settings.METRICS, "networks": [ipaddress.ip_network("10.0.0.0/8")]}
            ):
                with pytest.raises(urllib.error.HTTPError) as refused:
                    urllib.request.urlopen("http://127.0.0.1:18301/metrics", timeout=30)
            assert refused.value.code == 403
        finally:
            server.shutdown()
            server.server_close()


# --- request ids and log lines ----------------------------------------------------------------


def test_every_answer_carries_a_request_id(db):
    first = Client().get("/accounts/login/")
    second = Client().get("/accounts/login/")
    assert len(first["X-Request-ID"]) == 32 and first["X-Request-ID"] != second["X-Request-ID"]


@pytest.mark.parametrize(
    ("incoming", "kept"),
    [
        ("7f3c2a9be0d14d6f9a1c5e2b8d4f6a01", True),
        ("nginx-req:42.abc_def", True),
        ("court", False),
        ("x" * 200, False),
        ("abc\ndef-ghijkl", False),
        ('abc" injected="1', False),
    ],
)
def test_a_sane_request_id_from_the_proxy_is_kept(db, incoming, kept):
    with override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=1):
        answer = Client().get("/accounts/login/", HTTP_X_REQUEST_ID=incoming)
    assert (answer["X-Request-ID"] == incoming) is kept
    assert logs.sane_request_id(answer["X-Request-ID"])


def test_without_a_proxy_the_client_cannot_choose_the_request_id(db):
    answer = Client().get("/accounts/login/", HTTP_X_REQUEST_ID="choisi-par-le-client-0001")
    assert answer["X-Request-ID"] != "choisi-par-le-client-0001"


def test_request_id_reaches_the_log_lines_of_the_task_it_enqueued(
    transactional_db, org_tree, role_users, log_lines
):
    """The worker ping API enqueues a task once its row is committed; the task's log line (huey's
    "executed in") carries the request's id, the user's id and the task's kind."""
    from tests.api.conftest import Api

    admin = role_users["administrator"]
    response = Api(admin).post("/api/system/worker-ping", {})
    assert response.status_code == 201
    request_id = response["X-Request-ID"]
    entries = [json.loads(line) for line in log_lines()]
    task_lines = [e for e in entries if e.get("task") == "ping_worker"]
    assert task_lines, entries
    assert all(e["request_id"] == request_id for e in task_lines)
    assert task_lines[0]["user_id"] == admin.pk
    assert any("executed in" in e["message"] for e in task_lines)


def test_request_id_travels_through_a_real_queue_and_its_retries(tmp_path, log_lines):
    """Enqueued by a request, serialised into a SQLite queue, run later by a worker thread that
    has no request: the task's own lines carry the id, including after a retry; the task's
    function never sees the carrying argument."""
    huey = SqliteHuey("observability-test", filename=str(tmp_path / "queue.db"))
    logs.install_task_propagation(huey)
    seen = []
    log = logging.getLogger("careops.test")

    @huey.task(retries=1)
    def audit_step(number, **kwargs):
        seen.append(kwargs)
        log.info("étape %s", number)
        if len(seen) == 1:
            raise RuntimeError("première tentative")

    token = logs._current.set(logs.LogContext("req-0123456789", user_id=7, organisation_id=3))
    try:
        audit_step(5)
    finally:
        logs._current.reset(token)
    assert logs.current() is None
    for _attempt in range(2):  # the worker: the first attempt fails and is requeued
        task = huey.dequeue()
        huey.execute(task)
    assert seen == [{}, {}]
    steps = [json.loads(line) for line in log_lines() if "étape" in line]
    assert len(steps) == 2
    for entry in steps:
        assert entry["request_id"] == "req-0123456789"
        assert (entry["user_id"], entry["organisation_id"]) == (7, 3)
        assert entry["task"] == "audit_step"
    assert logs.current() is None  # the worker thread is clean after the task


def test_log_lines_are_one_json_object_each(db, log_lines, make_user, org_tree):
    user = make_user("es_rssi", org_tree.ej_b)
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    client.get(f"/organisations/{org_tree.ej_b.pk}/")
    logging.getLogger("careops.test").warning("ligne\nsur deux lignes")
    try:
        raise ValueError("pour la trace")
    except ValueError:
        logging.getLogger("careops.test").exception("avec trace")
    lines = log_lines()
    assert len(lines) >= 3
    entries = [json.loads(line) for line in lines]  # every line parses on its own
    for entry in entries:
        assert {"ts", "level", "logger", "message"} <= entry.keys()
        assert entry["ts"].endswith("Z")
    assert any("ValueError" in e.get("exception", "") for e in entries)


def test_refusals_are_logged_without_a_traceback_and_errors_with_one(
    db, log_lines, make_user, org_tree
):
    """A refusal (PermissionDenied, 403) is an answer, not a fault: one line, no traceback; a
    500 keeps its traceback."""
    user = make_user("es_rssi", org_tree.ej_b)
    client = Client(raise_request_exception=False)
    assert client.login(username=user.username, password=PASSWORD)
    with override_settings(ROOT_URLCONF=f"{__name__}"):
        assert client.get("/refus/").status_code == 403
        assert client.get("/panne/").status_code == 500
    entries = [json.loads(line) for line in log_lines() if '"django.request"' in line]
    refusal = next(e for e in entries if "/refus/" in e["message"])
    assert refusal["level"] == "WARNING"
    assert "exception" not in refusal
    failure = next(e for e in entries if "/panne/" in e["message"])
    assert "RuntimeError" in failure["exception"]


def _refusing_view(request):
    raise PermissionDenied


def _broken_view(request):
    raise RuntimeError("panne de test")


# the site's own pages (the error pages link to them) and two test views
urlpatterns = [path("refus/", _refusing_view), path("panne/", _broken_view), *site_urls.urlpatterns]


class LogInViewMiddleware:
    """Test middleware: writes a log line where the view is about to run."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        logging.getLogger("careops.test").info("dans la vue")


def test_request_lines_name_the_user_and_organisation_by_id(db, log_lines, make_user, org_tree):
    user = make_user("es_rssi", org_tree.ej_b)
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    with override_settings(MIDDLEWARE=[*settings.MIDDLEWARE, f"{__name__}.LogInViewMiddleware"]):
        client.get(f"/organisations/{org_tree.ej_b.pk}/")
    entry = next(json.loads(line) for line in log_lines() if "dans la vue" in line)
    assert (entry["user_id"], entry["organisation_id"]) == (user.pk, org_tree.ej_b.pk)
    assert user.username not in "\n".join(log_lines())


def test_no_secret_reaches_the_logs(db, log_lines, make_user, org_tree):
    """A failed login (its password and typed login), an API token, an S3 key: none appears."""
    from tests.api.conftest import Api

    victim = make_user("es_rssi", org_tree.ej_b, username="victime-observee")
    typed_password = "Mot-de-passe-Tape-Par-Erreur-4242"
    cache.clear()  # login throttling counters left by the login-counter tests above
    Client().post(
        "/accounts/login/",
        {"login": victim.username, "password": typed_password},
        REMOTE_ADDR="192.0.2.44",
    )
    api = Api(victim)
    token = api.client.defaults["HTTP_AUTHORIZATION"].removeprefix("Bearer ")
    api.get("/api/organisations/999999")  # a 404, logged by django.request
    Client(headers={"Authorization": f"Bearer {token}x"}).get("/api/system/me")  # a 401
    # code that would log an S3 key by mistake (a botocore-style debug line, a URL)
    access, secret = "AKIAOBSERVABILITY001", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXEMPLEKEY"
    logging.getLogger("careops.backups").warning(
        "S3 refusé: aws_access_key_id=%s aws_secret_access_key=%s via https://%s:%s@s3.test/",
        access,
        secret,
        access,
        secret,
    )
    written = "\n".join(log_lines())
    assert "login_failed" in written  # the failure itself is logged
    for leaked in (typed_password, victim.username, victim.email, token, access, secret):
        assert leaked not in written


def test_configured_secrets_are_masked_whatever_their_shape():
    logs._known_secrets = None
    try:
        with override_settings(CONFIG={**settings.CONFIG, "S3_SECRET_KEY": "s3-secret-sans-forme"}):
            logs._known_secrets = None
            assert logs.redact("clé s3-secret-sans-forme lue") == "clé [masqué] lue"
            assert settings.SECRET_KEY not in logs.redact(f"oops {settings.SECRET_KEY}")
    finally:
        logs._known_secrets = None


def test_log_format_defaults_to_json_in_production_and_text_otherwise():
    assert config.log_format({"LOG_FORMAT": "", "ENV": "production"}) == "json"
    assert config.log_format({"LOG_FORMAT": "", "ENV": "development"}) == "text"
    assert config.log_format({"LOG_FORMAT": "JSON", "ENV": "development"}) == "json"
    with pytest.raises(config.ConfigError):
        config.log_format({"LOG_FORMAT": "xml", "ENV": "production"})
    handler = logs.logging_config("json")["handlers"]["console"]
    assert (handler["formatter"], handler["filters"]) == ("json", ["context"])


def test_text_format_shows_the_context_in_brackets():
    record = logging.LogRecord("careops.x", logging.INFO, __file__, 1, "bonjour", None, None)
    token = logs._current.set(logs.LogContext("req-abcdefgh", user_id=4))
    try:
        logs.ContextFilter().filter(record)
    finally:
        logs._current.reset(token)
    assert "careops.x [req=req-abcdefgh user=4] bonjour" in logs.TextFormatter().format(record)
