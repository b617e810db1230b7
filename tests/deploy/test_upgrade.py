"""Upgrade: a database created and filled by the previous release's code (a real earlier commit
of this repository, checked out with ``git archive``) migrates to the current schema with its
data intact — objective statuses, evidence files and their SHA-256, frozen declarations and
their hash, candidacy states, accounts.

The previous release is the last commit of the first development round (29 November 2026):
14 migrations then, among them none of the data migrations added since (exposure 0003,
backups 0003, tenancy 0002…). CI needs the full history (``.ci/run`` unshallows a shallow
clone).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.deploy.helpers import CAREOPS, ROOT, base_env, careops

PREVIOUS_RELEASE = "797596988bc14ec3bb58b930c0417432f54cb034"

# Files the previous release's declaration window allows: the demo's candidacy files its D2
# declaration at the first date the window opens (the old code's own rule).
FILE_DECLARATION = """
import datetime as dt
from zoneinfo import ZoneInfo
from django.contrib.auth import get_user_model
from careops.declarations import services
from careops.declarations.models import Candidacy
candidacy = Candidacy.objects.get(domain="D2")
domain = services.domain_of(candidacy)
day = dt.datetime(2025, 11, 6, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
while not services.window_state(domain, "declaration", day)[0]:
    day += dt.timedelta(days=1)
    assert day.year < 2030, "no declaration window"
services.file_declaration(
    get_user_model().objects.get(username="rssi.ght"), candidacy,
    "Jeanne Démo", "Directrice", True, now=day,
)
"""

# The same raw SQL on both sides: what an upgrade must not change.
DUMP = """
import json
from django.db import connection
queries = {
    "statuses": "SELECT assessment_id, item_code, status FROM compliance_itemstatus",
    "files": "SELECT id, sha256, file FROM compliance_evidencefile",
    "declarations": "SELECT id, candidacy_id, content_sha256 FROM declarations_declaration",
    "candidacies": "SELECT id, state, domain FROM declarations_candidacy",
    "users": "SELECT username, password, email FROM auth_user",
    "organisations": "SELECT id, kind, name, finess FROM tenancy_organisation",
}
out = {}
with connection.cursor() as cursor:
    for name, sql in queries.items():
        cursor.execute(sql + " ORDER BY 1, 2")
        out[name] = [[str(v) for v in row] for row in cursor.fetchall()]
print("DUMP" + json.dumps(out))
"""

# With the current code only: the models' own checks on the upgraded data.
VERIFY = """
import hashlib, json
from django.core.files.storage import default_storage
from careops.compliance.models import EvidenceFile
from careops.declarations.models import Declaration
files = {f.pk: hashlib.sha256(default_storage.open(f.file.name).read()).hexdigest() == f.sha256
         for f in EvidenceFile.objects.all()}
declarations = {d.pk: d.verify() for d in Declaration.objects.all()}
print("VERIFY" + json.dumps({"files": files, "declarations": declarations}))
"""


def _previous_release(into: Path) -> Path:
    known = subprocess.run(
        ["git", "-C", str(ROOT), "cat-file", "-e", f"{PREVIOUS_RELEASE}^{{commit}}"],
        capture_output=True,
    )
    if known.returncode != 0:
        pytest.fail(
            f"commit {PREVIOUS_RELEASE[:7]} (previous release) is missing: the upgrade test "
            "needs the full git history (git fetch --unshallow)"
        )
    into.mkdir()
    archive = subprocess.Popen(
        ["git", "-C", str(ROOT), "archive", PREVIOUS_RELEASE, "careops"], stdout=subprocess.PIPE
    )
    subprocess.run(["tar", "-x", "-C", str(into)], stdin=archive.stdout, check=True)
    assert archive.wait() == 0
    return into


def _run(args: list[str], env: dict[str, str], cwd: Path | None = None) -> str:
    result = careops(args, env) if cwd is None else _careops_at(cwd, args, env)
    assert result.returncode == 0, (
        f"careops {' '.join(args[:2])}:\n{result.stdout}\n{result.stderr}"
    )
    return result.stdout


def _careops_at(checkout: Path, args: list[str], env: dict[str, str]):
    return subprocess.run(
        [*CAREOPS, *args],
        env={**env, "PYTHONPATH": str(checkout)},
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _tagged(output: str, tag: str) -> dict:
    line = next(line for line in output.splitlines() if line.startswith(tag))
    return json.loads(line.removeprefix(tag))


def _upgrade(tmp_path: Path, env: dict[str, str]) -> None:
    old = _previous_release(tmp_path / "previous")
    # the previous release: schema, referential, demo (GHT, evidence, statuses, candidacy),
    # and a filed declaration
    _run(["migrate", "--noinput"], env, old)
    _run(["catalogue", "load"], env, old)
    _run(["careops_demo"], env, old)
    _run(["shell", "-c", FILE_DECLARATION], env, old)
    before = _tagged(_run(["shell", "-c", DUMP], env, old), "DUMP")
    assert before["statuses"] and before["files"] and before["declarations"]

    # the documented upgrade: migrate with the new code, then the deployment check
    _run(["migrate", "--noinput"], env)
    after = _tagged(_run(["shell", "-c", DUMP], env), "DUMP")
    verified = _tagged(_run(["shell", "-c", VERIFY], env), "VERIFY")

    assert after == before
    assert verified["files"] and all(verified["files"].values())
    assert verified["declarations"] and all(verified["declarations"].values())
    pending = careops(["migrate", "--check"], env)
    assert pending.returncode == 0, pending.stdout


def test_upgrade_from_the_previous_release_on_sqlite(tmp_path):
    data = tmp_path / "data"
    _upgrade(tmp_path, base_env(data, CAREOPS_QUEUE_URL="immediate"))


@pytest.mark.services
def test_upgrade_from_the_previous_release_on_postgresql(tmp_path):
    psycopg = pytest.importorskip("psycopg")
    from tests.deploy.conftest import PG_ADMIN

    name = "careops_upgrade_deploy"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    _upgrade(
        tmp_path,
        base_env(tmp_path / "data", CAREOPS_DATABASE_URL=url, CAREOPS_QUEUE_URL="immediate"),
    )
