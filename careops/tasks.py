"""The task queue shared by every app (Huey; SQLite storage embedded, Redis at scale).

Every app declares its tasks with ``db_task`` / ``db_periodic_task`` from here: tasks are
durable (``careops.core.queue``: a task whose worker is killed runs again on another worker,
a task that is done never runs again). ``atomic=True`` commits the task's database writes
together with its "done" state, so that it takes effect exactly once; leave it off for long
tasks that commit as they go (they must be idempotent, as the exposure and directory audits are).
"""

from huey.contrib.djhuey import HUEY as huey


def db_task(*, atomic: bool = False, **options):
    """``huey.contrib.djhuey.db_task`` with the durable-task ``atomic`` option."""

    def decorate(fn):
        # no djhuey close_db: the durable queue closes stale connections around the claim and
        # the task (closing them inside the task would break atomic=True)
        wrapper = huey.task(**options)(fn)
        wrapper.task_class.atomic = atomic
        wrapper.call_local = fn
        return wrapper

    return decorate


def db_periodic_task(validate_datetime, **options):
    """``huey.contrib.djhuey.db_periodic_task`` (periodic tasks are durable too)."""
    return huey.periodic_task(validate_datetime, **options)
