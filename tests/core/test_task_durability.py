"""Durable tasks across real processes: ``careops worker`` consumers on Redis (DB 5) and
PostgreSQL, one killed with SIGKILL in the middle of a task.

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
import signal
import sys
import time

import pytest
from django.conf import settings

from tests.test_worker_services import Processes, _services_problem

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

REDIS_DB = "redis://127.0.0.1:6379/5"
LEASE = 2  # seconds: a dead worker's task is taken over after this
DEADLINE = 60.0


@pytest.fixture
def workers_env(tmp_path):
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


@pytest.fixture
def queue(workers_env):
    """A producer on the workers' Redis queue (as a web node is), writing to the test database."""
    from careops.core.queue import DurableRedisHuey
    from careops.core.tasks import ping_worker

    producer = DurableRedisHuey(workers_env["CAREOPS_QUEUE_NAME"], url=REDIS_DB)
    producer._registry.register(ping_worker.task_class)
    return producer


@pytest.fixture
def processes(tmp_path):
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


def test_a_task_killed_mid_run_completes_once_on_the_other_worker(workers_env, queue, processes):
    from careops.core.models import TaskRecord, WorkerPing

    first = start_worker(processes, workers_env, "worker-a")
    (ping_id,) = enqueue_pings(queue, 1, hold=4)
    record = wait_for(
        "worker A taking the task",
        lambda: TaskRecord.objects.filter(state=TaskRecord.RUNNING).first(),
        processes,
    )
    assert f":{first.pid}:" in record.worker
    second = start_worker(processes, workers_env, "worker-b")
    os.kill(first.pid, signal.SIGKILL)  # mid-task: the ping's write is not committed yet
    first.wait(timeout=10)

    ping = wait_for(
        "the task done by worker B",
        lambda: WorkerPing.objects.filter(pk=ping_id, done=True).first(),
        processes,
    )
    record.refresh_from_db()
    assert ping.worker_pid == second.pid
    assert ping.runs == 1  # worker A's uncommitted write was rolled back
    assert (record.state, record.attempt) == (TaskRecord.DONE, 2)
    assert f":{second.pid}:" in record.worker


def test_a_batch_survives_a_killed_worker_nothing_lost_nothing_twice(workers_env, queue, processes):
    from careops.core.models import TaskRecord, WorkerPing

    first = start_worker(processes, workers_env, "worker-a")
    start_worker(processes, workers_env, "worker-b")
    ids = enqueue_pings(queue, 40, hold=0.2)
    wait_for(
        "a few tasks done",
        lambda: WorkerPing.objects.filter(done=True).count() >= 8,
        processes,
    )
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    wait_for(
        "every task done",
        lambda: WorkerPing.objects.filter(pk__in=ids, done=True).count() == len(ids),
        processes,
    )
    assert set(WorkerPing.objects.filter(pk__in=ids).values_list("runs", flat=True)) == {1}
    states = set(TaskRecord.objects.values_list("state", flat=True))
    assert states == {TaskRecord.DONE}, processes.logs()
    assert TaskRecord.objects.count() == len(ids)


def test_a_done_task_delivered_again_is_not_run_again(workers_env, queue, processes):
    from careops.core.models import TaskRecord, WorkerPing

    start_worker(processes, workers_env, "worker-a")
    (ping_id,) = enqueue_pings(queue, 1, hold=0)
    wait_for(
        "the task done",
        lambda: TaskRecord.objects.filter(state=TaskRecord.DONE).first(),
        processes,
    )
    record = TaskRecord.objects.get()
    queue.storage.enqueue(bytes(record.message), None)  # a duplicate delivery
    queue.storage.enqueue(bytes(record.message), None)
    wait_for("the queue drained", lambda: queue.storage.queue_size() == 0, processes)
    (first_log,) = [log for _, log in processes.running]
    wait_for(
        "both duplicates skipped",
        lambda: first_log.read_text(errors="replace").count("not run again") == 2,
        processes,
    )
    assert WorkerPing.objects.get(pk=ping_id).runs == 1
    record.refresh_from_db()
    assert record.attempt == 1
