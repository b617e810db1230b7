"""The task queue across real processes: PostgreSQL, Redis, a separate ``careops worker`` and
the web application, talking over HTTP.

The test migrates a fresh PostgreSQL database with the CLI, starts a worker process and a web
process on it, creates an administrator and a token with the CLI, asks the web for a worker
ping, and checks that a third process (the worker) ran the task.

The web process is waitress serving ``careops.wsgi`` rather than ``careops run``: ``careops run``
loads the referential and, with a non-immediate queue, starts an embedded consumer that would
race the separate worker for the task, so the test could not tell which process ran it.

Without PostgreSQL (127.0.0.1:5432, user postgres, trust) or Redis (127.0.0.1:6379) the test is
skipped with a loud reason; when the CI environment variable is set, it fails instead.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.services

ROOT = Path(__file__).resolve().parent.parent
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
REDIS = "redis://127.0.0.1:6379"
DEADLINE = 30.0  # seconds, for each wait
POLL = 0.1  # seconds between two polls

CREATE_ADMIN = """
from django.contrib.auth import get_user_model
from careops.tenancy.models import Organisation, RoleAssignment
ans = Organisation.objects.filter(kind="ans").first()
if ans is None:
    ans = Organisation(kind="ans", name="ANS", category="regulator")
    ans.full_clean()
    ans.save()
user = get_user_model().objects.create_user("{username}", email="{username}@example.test")
RoleAssignment.objects.create(user=user, organisation=ans, role="administrator")
# an administrator gets an API token only once their TOTP authenticator is enrolled
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
TOTP.activate(user, generate_totp_secret())
"""


def _services_problem() -> str | None:
    """Why PostgreSQL or Redis cannot be used here, or None when both answer."""
    problems = []
    try:
        import psycopg

        with psycopg.connect(dbname="postgres", connect_timeout=3, **PG):
            pass
    except Exception as exc:  # noqa: BLE001 — any failure means "not usable"
        problems.append(f"PostgreSQL {PG['host']}:{PG['port']} unreachable ({exc})")
    try:
        import redis

        redis.Redis.from_url(REDIS, socket_connect_timeout=3).ping()
    except Exception as exc:  # noqa: BLE001
        problems.append(f"Redis {REDIS} unreachable ({exc})")
    return "; ".join(problems) or None


@pytest.fixture
def services():
    """Skip loudly without PostgreSQL and Redis, or fail when running in CI."""
    problem = _services_problem()
    if problem:
        message = f"!!! SERVICES TEST NOT RUN — {problem} !!!"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI is set, so this is a failure, not a skip)")
        pytest.skip(message)


@pytest.fixture
def database(services):
    """A fresh, empty PostgreSQL database, dropped afterwards; yields its URL."""
    import psycopg

    name = f"careops_worker_{secrets.token_hex(6)}"
    with psycopg.connect(dbname="postgres", autocommit=True, **PG) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{name}"
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **PG) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def queue(services):
    """A Redis database number and a queue name of our own; the queue's keys are deleted after."""
    import redis

    number = 1 + secrets.randbelow(15)
    name = f"careopsworker{secrets.token_hex(6)}"
    try:
        yield f"{REDIS}/{number}", name
    finally:
        client = redis.Redis.from_url(f"{REDIS}/{number}")
        for key in client.scan_iter(f"*{name}*"):
            client.delete(key)


@pytest.fixture
def environment(database, queue, tmp_path) -> dict[str, str]:
    """The environment of every careops process of the test (no CAREOPS_* inherited)."""
    queue_url, queue_name = queue
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREOPS_")}
    env.update(
        DJANGO_SETTINGS_MODULE="careops.settings",
        PYTHONUNBUFFERED="1",
        CAREOPS_DATABASE_URL=database,
        CAREOPS_QUEUE_URL=queue_url,
        CAREOPS_QUEUE_NAME=queue_name,
        CAREOPS_DATA_DIR=str(tmp_path / "data"),
        CAREOPS_SECRET_KEY=secrets.token_urlsafe(48),
    )
    return env


def careops(env: dict[str, str], *args: str) -> str:
    """Run ``python -m careops.cli ARGS`` to completion; its standard output."""
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "careops.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"careops {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


class Processes:
    """Long-running processes, each logging to a file, all stopped at the end of the test."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.running: list[tuple[subprocess.Popen, Path]] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = self.folder / f"{name}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(  # noqa: S603
                args, env=env, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT
            )
        self.running.append((process, log))
        return process

    def logs(self) -> str:
        return "\n".join(
            f"--- {log.name} (exit {process.poll()}) ---\n{log.read_text(errors='replace')}"
            for process, log in self.running
        )

    def check_alive(self) -> None:
        for process, log in self.running:
            if process.poll() is not None:
                pytest.fail(f"{log.stem} exited with {process.returncode}:\n{self.logs()}")

    def stop(self) -> None:
        for process, _ in self.running:
            if process.poll() is None:
                process.terminate()
        for process, _ in self.running:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture
def processes(tmp_path):
    running = Processes(tmp_path)
    yield running
    running.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def call(url: str, token: str, method: str = "GET") -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 — a loopback http URL built by the test
        url,
        method=method,
        data=b"{}" if method == "POST" else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, {"body": exc.read().decode(errors="replace")}


def wait_for(what: str, probe, processes: Processes):
    """Poll ``probe`` until it returns something true, for at most DEADLINE seconds."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        processes.check_alive()
        result = probe()
        if result:
            return result
        time.sleep(POLL)
    pytest.fail(f"{what}: nothing after {DEADLINE:.0f} s\n{processes.logs()}")


def test_a_separate_worker_runs_the_task_the_web_enqueued(environment, processes):
    env = environment
    careops(env, "migrate", "--no-input")
    careops(env, "shell", "-c", CREATE_ADMIN.format(username="admin-worker"))
    token = careops(env, "careops_token", "create", "admin-worker", "--name", "test").strip()
    assert token.startswith("cop_")

    worker = processes.start(
        "worker",
        [sys.executable, "-m", "careops.cli", "careops_worker", "-w", "1", "--no-periodic"],
        env,
    )
    port = free_port()
    serve = (
        "from waitress import serve\n"
        "from careops.wsgi import application\n"
        f"serve(application, host='127.0.0.1', port={port}, threads=4)\n"
    )
    web = processes.start("web", [sys.executable, "-c", serve], env)
    base = f"http://127.0.0.1:{port}/api/system"

    def web_ready():
        try:
            return call(f"{base}/me", token)[0] == 200
        except OSError:
            return False

    wait_for("web application answering", web_ready, processes)
    status, created = call(f"{base}/worker-ping", token, "POST")
    assert status == 201, created
    ping_url = f"{base}/worker-ping/{created['id']}"

    def ping_done():
        status, body = call(ping_url, token)
        assert status == 200, body
        return body if body["done"] else None

    ping = wait_for("worker ping done", ping_done, processes)
    assert ping["requested_by_pid"] == web.pid
    assert ping["worker_pid"] == worker.pid
    assert ping["worker_pid"] not in {os.getpid(), web.pid}
    assert ping["worker_host"] == socket.gethostname()
