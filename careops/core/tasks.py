"""Tasks of the platform itself."""

import os
import socket
import time

from django.db.models import F

from careops.core.models import WorkerPing
from careops.tasks import db_task


@db_task(atomic=True)
def ping_worker(ping_id: int, hold: float = 0.0) -> None:
    """Record which process and host ran this task (proves the queue reaches a worker).

    ``hold`` keeps the task open that many seconds after its write, before the commit (the
    durability checks kill a worker there: the write is rolled back, another worker redoes it).
    """
    WorkerPing.objects.filter(pk=ping_id).update(
        worker_pid=os.getpid(), worker_host=socket.gethostname(), done=True, runs=F("runs") + 1
    )
    if hold:
        time.sleep(hold)
