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
import signal

import pytest

from tests.core.cluster import (  # noqa: F401 — fixtures, used by name
    enqueue_pings,
    processes_fixture,
    queue_fixture,
    start_worker,
    wait_for,
    workers_env_fixture,
)

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_a_task_killed_mid_run_completes_once_on_the_other_worker(workers_env, queue, processes):
    from careops.core.models import TaskRecord, WorkerPing

    pair = [start_worker(processes, workers_env, name) for name in ("worker-a", "worker-b")]
    (ping_id,) = enqueue_pings(queue, 1, hold=4)
    record = wait_for(
        "a worker taking the task",
        lambda: TaskRecord.objects.filter(state=TaskRecord.RUNNING).first(),
        processes,
    )
    first, second = pair if f":{pair[0].pid}:" in record.worker else pair[::-1]
    assert f":{first.pid}:" in record.worker
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
