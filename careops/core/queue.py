"""Durable tasks: a task survives the death of the worker that runs it (SIGKILL, lost machine).

Huey's Redis and SQLite queues pop a message before running it: a worker killed mid-task loses
the task. careops keeps one ``TaskRecord`` per enqueued task in the database:

- **enqueue** writes the record (the serialized message, state ``queued``) and pushes the
  message once the record is committed (inside a transaction: at commit, so that a worker never
  pops a task whose data, or record, was rolled back);
- a worker **claims** the record before running the task (state ``running``, a fresh token, a
  lease of ``TASK_LEASE_SECONDS`` that a heartbeat thread renews); a record already ``done``, or
  held by a live worker, is not run again (a duplicate delivery is skipped);
- **done** is written in the same transaction as the task's own writes for tasks declared
  ``atomic`` (``careops.tasks.db_task(atomic=True)``): either both are committed or neither, and
  a worker that lost its lease (another worker took the task over) rolls its work back;
  long tasks that commit as they go (audits, scans) are not atomic and are idempotent themselves;
- the **reaper** (a thread of every ``careops worker``, and of ``careops run``) pushes again the
  tasks whose lease expired (their worker died) and the queued tasks whose message is no longer
  in the queue although no worker claimed them (a worker killed between its pop and its claim);
  a queued task still waiting in the queue (a backlog) is left there.

The in-process immediate queue of the tests is left as is (no record, no lease).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import uuid

from huey import RedisHuey, SqliteHuey
from huey.api import ResultGroup, chord, group

logger = logging.getLogger("careops.queue")
PRUNE_AFTER = dt.timedelta(days=7)  # done records kept this long, for the operator


class LeaseLost(RuntimeError):
    """The worker's claim on a task was taken over: its writes must not be committed."""


def _lease() -> int:
    from django.conf import settings

    return settings.TASK_LEASE_SECONDS


def _now():
    from django.utils import timezone

    return timezone.now()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"


class _Heartbeat(threading.Thread):
    """Renews the lease of one running task until stopped (its own database connection)."""

    def __init__(self, task_id: str, token: str, lease: int):
        super().__init__(name=f"careops-heartbeat-{task_id[:8]}", daemon=True)
        self.task_id, self.token, self.lease = task_id, token, lease
        self.stopped = threading.Event()

    def run(self) -> None:
        from django.db import connections

        from careops.core.models import TaskRecord

        try:
            while not self.stopped.wait(max(0.5, self.lease / 3)):
                try:
                    TaskRecord.objects.filter(task_id=self.task_id, token=self.token).update(
                        lease_until=_now() + dt.timedelta(seconds=self.lease)
                    )
                except Exception:  # noqa: BLE001 — a missed beat is retried; the lease is long
                    logger.warning("lease renewal of task %s failed", self.task_id, exc_info=True)
        finally:
            connections.close_all()


class DurableMixin:
    """Huey with a database record per task (see the module docstring)."""

    # -- producer side -------------------------------------------------------------------
    def _record(self, task) -> None:
        from careops.core.models import TaskRecord

        lease = _lease()
        start = _now()
        if task.eta is not None:
            eta = task.eta if task.eta.tzinfo else task.eta.replace(tzinfo=dt.UTC)
            start = max(start, eta)
        fields = {
            "name": task.name,
            "message": self.serialize_task(task),
            "priority": task.priority,
            "state": TaskRecord.QUEUED,
            "token": "",
            # after that, the reaper checks the message is still waiting in the queue
            "lease_until": start + dt.timedelta(seconds=2 * lease),
        }
        # a done task stays done (a duplicate enqueue of it is a no-op)
        updated = (
            TaskRecord.objects.filter(task_id=task.id)
            .exclude(state=TaskRecord.DONE)
            .update(**fields)
        )
        if not updated and not TaskRecord.objects.filter(task_id=task.id).exists():
            TaskRecord.objects.create(task_id=task.id, **fields)

    def enqueue(self, task):
        if self._immediate or isinstance(task, (group, chord)):
            return super().enqueue(task)
        from django.db import connection, transaction

        self._record(task)
        if not connection.in_atomic_block:
            return super().enqueue(task)
        push = super().enqueue
        transaction.on_commit(lambda: push(task))
        if not self.results:
            return None
        results = self._pipeline_results(task)
        return ResultGroup(results) if len(results) > 1 else results[0]

    def add_schedule(self, task):
        if not self._immediate:
            self._record(task)
        return super().add_schedule(task)

    # -- consumer side -------------------------------------------------------------------
    def execute(self, task, timestamp=None):
        if self._immediate:
            return super().execute(task, timestamp)
        from django.db import close_old_connections

        original = task.execute
        task.execute = lambda: self._run_durably(task, original)
        close_old_connections()
        try:
            return super().execute(task, timestamp)
        finally:
            close_old_connections()

    def _run_durably(self, task, run):
        from django.db import transaction
        from django.db.models import F, Q

        from careops.core.models import TaskRecord

        lease = _lease()
        token = uuid.uuid4().hex
        now = _now()
        claimed = (
            TaskRecord.objects.filter(task_id=task.id)
            .filter(Q(state=TaskRecord.QUEUED) | Q(state=TaskRecord.RUNNING, lease_until__lt=now))
            .update(
                state=TaskRecord.RUNNING,
                token=token,
                attempt=F("attempt") + 1,
                worker=worker_name()[:255],
                lease_until=now + dt.timedelta(seconds=lease),
            )
        )
        if not claimed:
            state = TaskRecord.objects.filter(task_id=task.id).values_list("state", flat=True)
            state = state.first()
            if state is not None:
                logger.info("task %s %s is %s: not run again", task.name, task.id, state)
                return None
            return run()  # a message from before durable tasks: run as huey would
        heartbeat = _Heartbeat(task.id, token, lease)
        heartbeat.start()
        mine = TaskRecord.objects.filter(task_id=task.id, token=token, state=TaskRecord.RUNNING)
        try:
            if getattr(task, "atomic", False):
                with transaction.atomic():
                    value = run()
                    if not mine.update(state=TaskRecord.DONE, finished_at=_now()):
                        raise LeaseLost(f"task {task.id} was taken over by another worker")
            else:
                value = run()
                if not mine.update(state=TaskRecord.DONE, finished_at=_now()):
                    logger.warning("task %s %s finished after its lease", task.name, task.id)
        except Exception as exc:
            # a retry (huey requeues next) puts it back to queued
            mine.update(state=TaskRecord.FAILED, finished_at=_now(), error=repr(exc)[:2000])
            raise
        finally:
            heartbeat.stopped.set()
            heartbeat.join()
        return value

    # -- reaper --------------------------------------------------------------------------
    def reap(self) -> int:
        """Push again the tasks whose worker died or whose message was lost; their count."""
        from django.db.models import Q

        from careops.core.models import TaskRecord

        lease = dt.timedelta(seconds=_lease())
        now = _now()
        pushed = 0
        stale = TaskRecord.objects.filter(
            Q(state=TaskRecord.RUNNING) | Q(state=TaskRecord.QUEUED), lease_until__lt=now
        ).order_by("lease_until")[:500]
        waiting = None
        for record in stale:
            message = bytes(record.message)
            if record.state == TaskRecord.QUEUED:
                if waiting is None:
                    waiting = set(self.storage.enqueued_items())
                lost = message not in waiting
            else:
                lost = True  # its worker stopped renewing the lease
            # conditional on what we read: of two reapers, one pushes
            taken = TaskRecord.objects.filter(
                pk=record.pk, state=record.state, lease_until=record.lease_until
            ).update(state=TaskRecord.QUEUED, token="", lease_until=now + 2 * lease)
            if taken and lost:
                logger.warning(
                    "task %s %s (%s, attempt %s, %s) pushed again",
                    record.name,
                    record.task_id,
                    record.state,
                    record.attempt,
                    record.worker or "never taken",
                )
                self.storage.enqueue(message, record.priority)
                pushed += 1
        TaskRecord.objects.filter(state=TaskRecord.DONE, finished_at__lt=now - PRUNE_AFTER).delete()
        return pushed


class DurableRedisHuey(DurableMixin, RedisHuey):
    """RedisHuey with durable tasks (production)."""


class DurableSqliteHuey(DurableMixin, SqliteHuey):
    """SqliteHuey with durable tasks (``make run``'s embedded queue)."""


def start_reaper(huey, stop: threading.Event | None = None) -> threading.Event:
    """Run ``huey.reap()`` now and then every third of a lease, in a daemon thread."""
    stop = stop or threading.Event()
    if not isinstance(huey, DurableMixin) or huey.immediate:
        return stop

    def loop():
        from django.db import connections

        lease = _lease()
        try:
            while True:
                try:
                    huey.reap()
                except Exception:  # noqa: BLE001 — the next round tries again
                    logger.warning("task reaper round failed", exc_info=True)
                finally:
                    connections.close_all()
                if stop.wait(max(1.0, lease / 3)):
                    return
        finally:
            connections.close_all()

    threading.Thread(target=loop, name="careops-reaper", daemon=True).start()
    return stop
