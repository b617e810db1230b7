"""Tasks of the platform itself."""

import os
import socket

from huey.contrib.djhuey import db_task

from careops.core.models import WorkerPing


@db_task()
def ping_worker(ping_id: int) -> None:
    """Record which process and host ran this task (proves the queue reaches a worker)."""
    WorkerPing.objects.filter(pk=ping_id).update(
        worker_pid=os.getpid(), worker_host=socket.gethostname(), done=True
    )
