"""A small scale-out with failures (the untimed version of benchmarks/national.py): two web
nodes (``careops serve``) behind nginx (the shipped site file) and two workers on Redis DB 5 and
the PostgreSQL test database. One web node is killed (SIGKILL): the pages keep answering, nginx
passing the requests the dead node dropped or refused to the other one. One worker is killed
in the middle of a task: the other worker completes it, once.

Runs in the PostgreSQL pass of the suite (see tests/core/test_task_durability.py).
"""

from __future__ import annotations

import contextlib
import os
import signal

import httpx
import pytest
from django.conf import settings

from tests.core.cluster import (  # noqa: F401 — fixtures, used by name
    enqueue_pings,
    processes_fixture,
    queue_fixture,
    start_worker,
    wait_for,
    workers_env_fixture,
)
from tests.deploy.helpers import nginx_site, serve

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PORTS = {"https": 18240, "http": 18241, "web1": 18242, "web2": 18243}
HOST = "careops.test"


@pytest.fixture
def cluster_env(workers_env):
    env = dict(workers_env)
    env.update(
        CAREOPS_SECRET_KEY=settings.SECRET_KEY,  # the sessions this test opens are valid there
        CAREOPS_ALLOWED_HOSTS=f"{HOST},127.0.0.1",
        CAREOPS_TRUSTED_PROXY_COUNT="1",
    )
    return env


def session_cookie(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def test_two_nodes_behind_nginx_and_two_workers_survive_a_kill_each(
    cluster_env, queue, processes, org_tree, tmp_path
):
    from django.contrib.auth import get_user_model

    from careops.core.models import TaskRecord, WorkerPing
    from careops.tenancy.models import RoleAssignment

    rssi = get_user_model().objects.create_user("rssi.scale")
    RoleAssignment.objects.create(user=rssi, organisation=org_tree.ght, role="ght_rssi")
    cookie = session_cookie(rssi)
    web = [f"127.0.0.1:{PORTS['web1']}", f"127.0.0.1:{PORTS['web2']}"]
    pages = ["/", "/preuves/", "/organisations/", "/declarations/"]
    node_args = ["--workers", "1", "--threads", "2", "--no-access-log"]
    pair = [start_worker(processes, cluster_env, name) for name in ("worker-a", "worker-b")]
    with contextlib.ExitStack() as stack:
        nodes = [stack.enter_context(serve(cluster_env, bind, *node_args)) for bind in web]
        proxy = stack.enter_context(
            nginx_site(tmp_path / "nginx", web, https_port=PORTS["https"], http_port=PORTS["http"])
        )
        client = stack.enter_context(
            httpx.Client(
                base_url=proxy.https,
                verify=False,  # noqa: S501 — the test's own self-signed certificate, loopback
                headers={"Host": HOST},
                cookies={"sessionid": cookie},
                timeout=60,
            )
        )
        for path in pages * 2:  # both nodes answer (and are warm)
            assert client.get(path).status_code == 200, path

        os.killpg(nodes[0].process.pid, signal.SIGKILL)
        nodes[0].process.wait(timeout=10)
        statuses = [client.get(path).status_code for path in pages * 3]
        assert statuses == [200] * len(statuses)
        served_by = [line for line in proxy.access_log().splitlines() if "rssi" not in line]
        assert any(web[1] in line for line in served_by[-len(statuses) :])

        # workers: the one that took the task dies mid-task, the other completes it once
        (ping_id,) = enqueue_pings(queue, 1, hold=3)
        record = wait_for(
            "a worker taking the task",
            lambda: TaskRecord.objects.filter(state=TaskRecord.RUNNING).first(),
            processes,
        )
        first, second = pair if f":{pair[0].pid}:" in record.worker else pair[::-1]
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        ping = wait_for(
            "the task done by the other worker",
            lambda: WorkerPing.objects.filter(pk=ping_id, done=True).first(),
            processes,
        )
        assert (ping.worker_pid, ping.runs) == (second.pid, 1)
        # the surviving node still answers while the worker side recovered
        assert client.get("/").status_code == 200
