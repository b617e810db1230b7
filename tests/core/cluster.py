"""Real worker processes for the durability and scale-out tests: ``careops worker`` consumers
on Redis (DB 5) and the PostgreSQL test database.

A worker killed mid-task leaves its write uncommitted (rolled back by PostgreSQL) and its lease
unrenewed: the other worker's reaper pushes the task again, the other worker runs it, and the
task's write is committed exactly once (``WorkerPing.runs == 1``), none lost.

The worker processes share the test database, so this runs in the PostgreSQL pass of the suite
(``make test-postgres``, part of ``make test`` and CI); on SQLite (an in-memory test database
that no other process can open) it is skipped with a loud reason.
"""

from __future__ import annotations

import os
import secrets
import sys
import time

import pytest
from django.conf import settings

from tests.test_worker_services import Processes, _services_problem

REDIS_DB = "redis://127.0.0.1:6379/5"
LEASE = 2  # seconds: a dead worker's task is taken over after this
DEADLINE = 180.0  # seconds: a worker boots in 2 s on a quiet machine, far more on a loaded one


@pytest.fixture(name="workers_env")
def workers_env_fixture(tmp_path):
    """The environment of worker processes on the test database and a queue of our own."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        message = (
            "!!! TASK DURABILITY TEST NOT RUN ON SQLITE — worker processes cannot open the "
            "in-memory test database; it runs in the PostgreSQL pass (make test-postgres) !!!"
        )
        pytest.skip(message)
    problem = _services_problem()
    if problem:
        message = f"!!! SERVICES TEST NOT RUN — {problem} !!!"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI is set, so this is a failure, not a skip)")
        pytest.skip(message)
    import redis

    db = settings.DATABASES["default"]
    name = f"careopsdurable{secrets.token_hex(6)}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREOPS_")}
    env.update(
        DJANGO_SETTINGS_MODULE="careops.settings",
        PYTHONUNBUFFERED="1",
        CAREOPS_DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        CAREOPS_QUEUE_URL=REDIS_DB,
        CAREOPS_QUEUE_NAME=name,
        CAREOPS_DATA_DIR=str(tmp_path / "data"),
        CAREOPS_SECRET_KEY=secrets.token_urlsafe(48),
        CAREOPS_TASK_LEASE_SECONDS=str(LEASE),
    )
    yield env
    client = redis.Redis.from_url(REDIS_DB)
    for key in client.scan_iter(f"*{name}*"):
        client.delete(key)


@pytest.fixture(name="queue")
def queue_fixture(workers_env):
    """A producer on the workers' Redis queue (as a web node is), writing to the test database."""
    from careops.core.queue import DurableRedisHuey
    from careops.core.tasks import ping_worker

    producer = DurableRedisHuey(workers_env["CAREOPS_QUEUE_NAME"], url=REDIS_DB)
    producer._registry.register(ping_worker.task_class)
    return producer


@pytest.fixture(name="processes")
def processes_fixture(tmp_path):
    running = Processes(tmp_path)
    yield running
    running.stop()


def start_worker(processes: Processes, env: dict, name: str):
    args = [sys.executable, "-m", "careops.cli", "careops_worker", "-w", "2", "--no-periodic"]
    return processes.start(name, args, env)


def wait_for(what: str, probe, processes: Processes):
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(0.05)
    pytest.fail(f"{what}: nothing after {DEADLINE:.0f} s\n{processes.logs()}")


def enqueue_pings(queue, count: int, hold: float) -> list[int]:
    from careops.core.models import WorkerPing
    from careops.core.tasks import ping_worker

    pings = [WorkerPing.objects.create(requested_by_pid=os.getpid()) for _ in range(count)]
    for ping in pings:
        queue.enqueue(ping_worker.s(ping.pk, hold=hold))
    return [p.pk for p in pings]
