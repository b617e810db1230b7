"""The periodic-task scheduler of a multi-worker deployment (``careops scheduler``).

Huey's consumers each enqueue the periodic tasks when started with periodic scheduling; with
several workers every recurring audit would run once per worker. In a multi-process deployment
the workers run ``careops worker --no-periodic`` (they still move delayed and retried tasks to
the queue) and ``careops scheduler`` enqueues the periodic ones. Each minute is claimed in the
queue's own storage before its tasks are enqueued, so two schedulers (one per machine, for
availability) enqueue each periodic task once.
"""

from __future__ import annotations

import datetime
import logging

logger = logging.getLogger("careops.scheduler")

CLAIM_PREFIX = "careops:scheduler:"
KEEP_MINUTES = 10  # claims older than this are dropped; a scheduler never looks back that far


def _claim_key(minute: datetime.datetime) -> str:
    return f"{CLAIM_PREFIX}{minute:%Y%m%d%H%M}"


def tick(huey, now: datetime.datetime | None = None) -> list[str]:
    """Enqueue the periodic tasks due at ``now``'s minute, unless another scheduler did.

    ``now`` is a naive datetime in huey's clock (UTC by default), as its consumer uses.
    Returns the names of the tasks enqueued (empty when the minute was already claimed).
    """
    now = (now or huey._get_timestamp()).replace(second=0, microsecond=0)
    if not huey.put_if_empty(_claim_key(now), 1):
        return []
    huey.get(_claim_key(now - datetime.timedelta(minutes=KEEP_MINUTES)))  # pops it if present
    enqueued = []
    for task in huey.read_periodic(now):
        huey.enqueue(task)
        enqueued.append(task.name)
        logger.info("periodic task enqueued: %s", task.name)
    return enqueued
