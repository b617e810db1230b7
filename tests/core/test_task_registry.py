"""A separate ``careops worker`` or ``careops scheduler`` knows every task of every app.

Those processes load no view, so a task module that only views or services import was unknown
to them: its messages were dropped by the worker ("not found in TaskRegistry") and its periodic
schedule (nightly backup verifications, stale audits, declaration reminders) never ran. Checked in
a fresh process, as a worker starts, not in the test process where everything is imported."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

LIST = """
import django
django.setup()
import json
from huey.contrib.djhuey import HUEY
print(json.dumps({"tasks": sorted(HUEY._registry._registry),
                  "periodic": sorted(t.name for t in HUEY._registry.periodic_tasks)}))
"""


def _declared() -> tuple[set[str], set[str]]:
    """Every function decorated as a task in careops' sources: (all, periodic)."""
    tasks, periodic = set(), set()
    for path in (ROOT / "careops").rglob("*.py"):
        tree = ast.parse(path.read_text())
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                call = decorator.func if isinstance(decorator, ast.Call) else decorator
                name = getattr(call, "id", getattr(call, "attr", ""))
                if name in ("db_task", "task", "db_periodic_task", "periodic_task"):
                    tasks.add(f"{module}.{node.name}")
                    if "periodic" in name:
                        periodic.add(node.name)
    return tasks, periodic


def test_a_fresh_worker_process_knows_every_task_and_schedule(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "careops.settings",
        "CAREOPS_DATA_DIR": str(tmp_path),
        "CAREOPS_QUEUE_URL": "",  # the embedded SQLite queue, as `careops worker` on one machine
    }
    env.pop("CAREOPS_DATABASE_URL", None)
    out = subprocess.run(
        [sys.executable, "-c", LIST], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    registry = json.loads(out.stdout.strip().splitlines()[-1])
    tasks, periodic = _declared()
    assert len(tasks) >= 13 and {"nightly_verifications", "daily_reminders"} <= periodic
    assert tasks <= set(registry["tasks"]), tasks - set(registry["tasks"])
    assert periodic <= set(registry["periodic"]), periodic - set(registry["periodic"])
