"""One audit shared by two real ``careops worker`` processes (PostgreSQL + Redis); one worker is
killed while it scans its block, the block is taken back after its lease and nothing is lost or
duplicated.

Without PostgreSQL or Redis the test is skipped loudly; with CI set it fails instead.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.exposure import helpers
from tests.test_worker_services import ROOT, careops, database, environment, queue, services  # noqa: F401

pytestmark = pytest.mark.services

SETUP = """
from careops.tenancy import finess
from careops.tenancy.models import Organisation
from careops.exposure import services
from careops.exposure.models import Asset, AssetStatus
ans = Organisation(kind="ans", name="ANS", category="regulator"); ans.full_clean(); ans.save()
ars = Organisation(parent=ans, kind="ars", name="ARS", category="regulator", region_code="11"); ars.full_clean(); ars.save()
ej = Organisation(parent=ars, kind="ej", name="CH Loopback", category="public", finess=finess.with_key("92000002")); ej.full_clean(); ej.save()
Asset.objects.create(organisation=ej, kind="ipv4", value="127.0.0.0/27", status=AssetStatus.VERIFIED)
profile = services.profile_for(ej); profile.internal_audit = True; profile.ports = "{ports}"; profile.save()
run = services.start_run(None, ej)
print(run.pk)
"""


def _query(database_url: str, sql: str, *params):
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        cursor = conn.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def _wait(condition, deadline: float = 60.0, what: str = ""):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"délai dépassé : {what}")


def test_two_workers_share_an_audit_and_a_killed_worker_loses_nothing(
    environment,  # noqa: F811
    database,  # noqa: F811
    tmp_path,
):
    ports = {"rdp": helpers.free_port(), "hang": helpers.free_port()}
    responders = helpers.start_responders(**ports)
    workers: list[subprocess.Popen] = []
    try:
        careops(environment, "migrate", "--no-input")
        run_id = int(
            careops(
                environment, "shell", "-c", SETUP.format(ports=f"{ports['rdp']},{ports['hang']}")
            )
            .strip()
            .splitlines()[-1]
        )
        for index in range(2):
            log = open(tmp_path / f"worker{index}.log", "wb")  # noqa: SIM115
            workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "careops.cli", "worker", "-w", "1", "--no-periodic"],
                    env=environment,
                    cwd=ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        # block 0 holds 127.0.0.1, whose silent port keeps its worker busy for seconds
        pids = {str(w.pid): w for w in workers}
        taker = _wait(
            lambda: _query(
                database,
                "SELECT worker FROM exposure_scanshard WHERE run_id = %s AND index = 0 AND status = 'running'",
                run_id,
            ),
            what="le bloc 0 n'a pas été pris",
        )[0][0]
        victim = pids[taker.rsplit(":", 1)[1]]
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(timeout=10)
        # the lease runs out (moved to the past), the janitor re-queues the block
        _query(
            database,
            "UPDATE exposure_scanshard SET lease_until = now() - interval '1 minute' WHERE run_id = %s AND index = 0",
            run_id,
        )
        careops(
            environment,
            "shell",
            "-c",
            "from careops.exposure import services; print(services.resume_stale())",
        )
        _wait(
            lambda: _query(
                database, "SELECT 1 FROM exposure_scanrun WHERE id = %s AND status = 'done'", run_id
            ),
            deadline=90,
            what="l'audit ne s'est pas terminé",
        )
        shards = _query(
            database,
            "SELECT index, status, attempts, worker, hosts_done FROM exposure_scanshard WHERE run_id = %s ORDER BY index",
            run_id,
        )
        assert [(s[0], s[1], s[4]) for s in shards] == [(0, "done", 16), (1, "done", 14)]
        assert shards[0][2] == 2 and shards[0][3] != taker  # taken back by the other worker
        findings = _query(database, "SELECT rule, host, port FROM exposure_finding")
        assert findings == [("EXP-RDP-001", "127.0.0.1", ports["rdp"])]
        result = _query(
            database,
            "SELECT jsonb_array_length(result->'hosts') FROM exposure_scanrun WHERE id = %s",
            run_id,
        )
        assert result == [(30,)]
        evidence = _query(database, "SELECT kind, source FROM compliance_evidence")
        assert evidence == [("exposure_audit", "exposure")]
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                try:
                    worker.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(worker.pid, signal.SIGKILL)
        helpers.stop(responders)
