"""``careops scheduler``: periodic tasks enqueued once per minute however many schedulers run,
on the queue storages careops uses (SQLite embedded, Redis at scale)."""

from __future__ import annotations

import datetime

import pytest
from huey import RedisHuey, SqliteHuey, crontab

from tests.deploy.conftest import REDIS


def _scheduler_pair(kind: str, tmp_path):
    """Two schedulers (two processes or machines) sharing one queue, and its periodic task."""
    if kind == "sqlite":

        def make():
            return SqliteHuey("careops-test", filename=str(tmp_path / "queue.sqlite3"))
    else:
        import redis

        try:
            redis.Redis.from_url(REDIS).flushdb()
        except redis.ConnectionError as exc:
            pytest.fail(f"Redis needed by this test is unreachable ({REDIS}): {exc}")

        def make():
            return RedisHuey("careops-test", url=REDIS)

    pair = []
    for _ in range(2):
        huey = make()

        @huey.periodic_task(crontab(minute="*/5"))
        def sweep():
            return None

        pair.append(huey)
    return pair


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_two_schedulers_enqueue_each_due_task_once(kind, tmp_path):
    from careops.core.scheduler import tick

    first, second = _scheduler_pair(kind, tmp_path)
    at = datetime.datetime(2026, 3, 2, 12, 5, 0)
    assert tick(first, at) == ["sweep"]
    assert tick(second, at + datetime.timedelta(seconds=30)) == []  # same minute: claimed
    assert first.pending_count() == 1
    assert tick(second, at + datetime.timedelta(minutes=1)) == []  # not due at 12:06
    assert tick(second, at + datetime.timedelta(minutes=5)) == ["sweep"]
    assert first.pending_count() == 2


def test_the_scheduler_command_runs_once(tmp_path):
    from tests.deploy.helpers import base_env, careops

    env = base_env(tmp_path)
    # a due periodic task is recorded in core_taskrecord: the scheduler runs on a migrated
    # database, as in production (without this the test failed whenever a task was due)
    assert careops(["migrate", "--no-input"], env).returncode == 0
    result = careops(["scheduler", "--once"], env)
    assert result.returncode == 0, result.stderr
    assert "tâche(s) planifiée(s)" in result.stdout


@pytest.mark.parametrize("command", [["scheduler", "--once"], ["worker"]])
def test_services_refuse_an_unmigrated_database_in_french(command, tmp_path):
    from tests.deploy.helpers import base_env, careops

    env = base_env(tmp_path)  # a fresh SQLite file: no migration applied
    result = careops(command, env)
    assert result.returncode == 1
    assert "lancez « careops migrate »" in result.stderr
    assert "Traceback" not in result.stderr
